// SASL messages without a broker: SCRAM-SHA-256 against RFC 7677's worked example, PLAIN's layout, and the security flags' rules.
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { plainMessage, ScramClient } from '../../src/source/kafka-sasl.js';
import { securityFrom, tlsFailure, type SecurityFlags } from '../../src/source/kafka-security.js';

describe('SCRAM client', () => {
  // RFC 7677 section 3: user "user", password "pencil", the client nonce fixed.
  const serverFirst = 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096';

  it('sends what RFC 7677 shows for SCRAM-SHA-256 and accepts its server signature', () => {
    const scram = new ScramClient('SCRAM-SHA-256', 'user', 'pencil', 'rOprNGfwEbeRWgbNEkqO');
    expect(scram.clientFirst()).toBe('n,,n=user,r=rOprNGfwEbeRWgbNEkqO');
    expect(scram.clientFinal(serverFirst)).toBe('c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=');
    expect(scram.checkServerFinal('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=')).toBeNull();
  });

  it('refuses a server that does not prove it knows the password, and one that answers an error', () => {
    const scram = new ScramClient('SCRAM-SHA-256', 'user', 'not-pencil', 'rOprNGfwEbeRWgbNEkqO');
    scram.clientFinal(serverFirst);
    expect(scram.checkServerFinal('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=')).toContain('SCRAM server signature mismatch');
    expect(scram.checkServerFinal('e=invalid-proof')).toBe('the broker answered invalid-proof');
  });

  it('refuses a challenge whose nonce does not extend its own', () => {
    const scram = new ScramClient('SCRAM-SHA-512', 'user', 'pencil', 'abc');
    expect(() => scram.clientFinal('r=xyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096')).toThrow(/malformed server challenge/);
  });

  it('escapes = and , in the user name (RFC 5802 saslname)', () => {
    expect(new ScramClient('SCRAM-SHA-256', 'a=b,c', 'p', 'n').clientFirst()).toBe('n,,n=a=3Db=2Cc,r=n');
  });
});

describe('PLAIN', () => {
  it('is NUL, user, NUL, password (RFC 4616, no authorization id)', () => {
    expect([...plainMessage('alice', 'pw')]).toEqual([0, ...Buffer.from('alice'), 0, ...Buffer.from('pw')]);
  });
});

describe('security flags', () => {
  const flags = (over: Partial<SecurityFlags>): SecurityFlags => ({
    protocol: 'SASL_PLAINTEXT',
    mechanism: 'SCRAM-SHA-512',
    username: 'alice',
    passwordFile: undefined,
    caFile: undefined,
    keystoreFile: undefined,
    given: new Set(),
    ...over,
  });

  it('PLAINTEXT needs nothing', () => {
    expect(securityFrom(flags({ protocol: 'PLAINTEXT' }), {})).toBeUndefined();
  });

  it('takes the password from KAFKA_SASL_PASSWORD and keeps it out of JSON and inspection', () => {
    const security = securityFrom(flags({}), { KAFKA_SASL_PASSWORD: 's3cret' })!;
    expect(security.sasl!.password).toBe('s3cret');
    expect(JSON.stringify(security)).not.toContain('s3cret');
    expect(inspect(security, { depth: 5 })).not.toContain('s3cret');
  });

  it('says which flag is missing or does not apply', () => {
    expect(() => securityFrom(flags({ username: undefined }), { KAFKA_SASL_PASSWORD: 'x' })).toThrow('--kafka-security-protocol SASL_PLAINTEXT needs --kafka-sasl-username');
    expect(() => securityFrom(flags({}), {})).toThrow('set KAFKA_SASL_PASSWORD or give --kafka-sasl-password-file FILE');
    expect(() => securityFrom(flags({ protocol: 'SSL', given: new Set(['kafka-sasl-username']) }), {})).toThrow('--kafka-sasl-username applies to --kafka-security-protocol SASL_PLAINTEXT or SASL_SSL; --kafka-security-protocol is SSL');
    expect(() => securityFrom(flags({ protocol: 'SSL', caFile: '/nonexistent/ca.pem' }), {})).toThrow('--kafka-ssl-truststore-location /nonexistent/ca.pem: cannot read it (ENOENT)');
  });
});

describe('tlsFailure', () => {
  const alert = (code: string): Error => Object.assign(new Error(`ssl3_read_bytes:${code.toLowerCase()}`), { code });

  it('names --kafka-ssl-keystore-location when the broker refuses a missing or untrusted client certificate, as a user error that is not retried', () => {
    const none = tlsFailure('127.0.0.1:9097', alert('ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE'));
    expect(none?.message).toBe('broker 127.0.0.1:9097: the broker requires a TLS client certificate (ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE): give it and its private key in one PEM file with --kafka-ssl-keystore-location');
    expect(none?.retriable).toBe(false);
    expect(none?.domain).toBe('user');
    const refused = tlsFailure('127.0.0.1:9097', alert('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED'), true);
    expect(refused?.message).toContain('the broker refused the TLS client certificate of --kafka-ssl-keystore-location (ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED)');
  });

  it('leaves a network failure to the retry loop', () => {
    expect(tlsFailure('127.0.0.1:9097', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBeNull();
  });
});
