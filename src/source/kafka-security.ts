// How Kindling reaches a secured Kafka listener: Spark's kafka.security.protocol, TLS trust and SASL credentials, from flags, files and the environment.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { KindlingError, UsageError } from '../errors.js';
import type { SaslCredentials, SaslMechanism } from './kafka-sasl.js';

/** Spark's (Kafka's) kafka.security.protocol values. */
export const SECURITY_PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'] as const;
export type SecurityProtocol = (typeof SECURITY_PROTOCOLS)[number];

/** The environment variable a SASL password may come from (a flag would show it in `ps`). */
export const SASL_PASSWORD_ENV = 'KAFKA_SASL_PASSWORD';

/** How every broker connection is made. */
export interface KafkaSecurity {
  readonly protocol: SecurityProtocol;
  /** SSL and SASL_SSL: certificates to trust instead of the system's, and an optional client certificate chain with its key (PEM). */
  readonly tls?: { readonly ca?: Buffer; readonly keystore?: Buffer };
  /** SASL_PLAINTEXT and SASL_SSL. */
  readonly sasl?: SaslCredentials;
}

/** True when the protocol runs over TLS. */
export function usesTls(security: KafkaSecurity | undefined): boolean {
  return security?.protocol === 'SSL' || security?.protocol === 'SASL_SSL';
}

/** What the security flags gave, before files and the environment are read. */
export interface SecurityFlags {
  readonly protocol: SecurityProtocol;
  readonly mechanism: SaslMechanism;
  readonly username: string | undefined;
  readonly passwordFile: string | undefined;
  readonly caFile: string | undefined;
  /** A PEM file holding the client's certificate chain and its private key (Kafka's ssl.keystore.type=PEM). */
  readonly keystoreFile: string | undefined;
  /** Which of the flags were on the command line (a flag that does not apply to the protocol is an error). */
  readonly given: ReadonlySet<string>;
}

function readFlagFile(flag: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new UsageError(`--${flag} ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

/**
 * Checks the security flags against each other and reads the files they name (usage errors, exit
 * 2, name the flag). The password comes from --kafka-sasl-password-file or KAFKA_SASL_PASSWORD,
 * never from a flag's value, and is never echoed.
 */
export function securityFrom(f: SecurityFlags, env: NodeJS.ProcessEnv = process.env): KafkaSecurity | undefined {
  const sasl = f.protocol === 'SASL_PLAINTEXT' || f.protocol === 'SASL_SSL';
  const tls = usesTls({ protocol: f.protocol });
  const refuse = (flags: readonly string[], why: string): void => {
    for (const flag of flags) if (f.given.has(flag)) throw new UsageError(`--${flag} ${why}; --kafka-security-protocol is ${f.protocol}`);
  };
  if (!sasl) refuse(['kafka-sasl-mechanism', 'kafka-sasl-username', 'kafka-sasl-password-file'], 'applies to --kafka-security-protocol SASL_PLAINTEXT or SASL_SSL');
  if (!tls) refuse(['kafka-ssl-truststore-location', 'kafka-ssl-keystore-location'], 'applies to --kafka-security-protocol SSL or SASL_SSL');
  if (f.protocol === 'PLAINTEXT') return undefined;
  let credentials: SaslCredentials | undefined;
  if (sasl) {
    if (f.username === undefined || f.username === '') throw new UsageError(`--kafka-security-protocol ${f.protocol} needs --kafka-sasl-username`);
    let password: string;
    if (f.passwordFile !== undefined) password = readFlagFile('kafka-sasl-password-file', f.passwordFile).toString('utf8').replace(/\r?\n$/, '');
    else if (env[SASL_PASSWORD_ENV] !== undefined) password = env[SASL_PASSWORD_ENV];
    else throw new UsageError(`--kafka-security-protocol ${f.protocol} needs the password: set ${SASL_PASSWORD_ENV} or give --kafka-sasl-password-file FILE`);
    // Not enumerable: a config printed or serialized anywhere never shows it.
    credentials = Object.defineProperty({ mechanism: f.mechanism, username: f.username }, 'password', { value: password, enumerable: false }) as SaslCredentials;
  }
  const tlsFiles = tls
    ? {
        ...(f.caFile !== undefined ? { ca: readFlagFile('kafka-ssl-truststore-location', f.caFile) } : {}),
        ...(f.keystoreFile !== undefined ? { keystore: readFlagFile('kafka-ssl-keystore-location', f.keystoreFile) } : {}),
      }
    : undefined;
  return { protocol: f.protocol, ...(tlsFiles ? { tls: tlsFiles } : {}), ...(credentials ? { sasl: credentials } : {}) };
}

/** node:tls options for a broker: its name checked against the certificate (Kafka's ssl.endpoint.identification.algorithm=https). */
export function tlsOptions(security: KafkaSecurity, host: string, port: number): TlsOptions {
  const t = security.tls;
  return {
    host,
    port,
    ...(isIP(host) === 0 ? { servername: host } : {}),
    ...(t?.ca ? { ca: t.ca } : {}),
    // One PEM holds both: OpenSSL takes the certificates for cert and the private key for key.
    ...(t?.keystore ? { cert: t.keystore, key: t.keystore } : {}),
  };
}

/** OpenSSL's verdicts on a certificate the client does not trust. */
const UNTRUSTED = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * Alerts a broker sends about the client's certificate (Kafka's ssl.client.auth=required): Java
 * answers a missing or untrusted one with bad_certificate, TLS 1.3 peers may say certificate_required.
 */
const CLIENT_CERTIFICATE_REFUSED = new Set([
  'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
  'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN',
  'ERR_SSL_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_REVOKED',
  'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
]);

/**
 * A TLS failure the user must fix (an untrusted or mismatched certificate, a client certificate the
 * broker requires or refuses, a listener that does not speak TLS), as a clear non-retriable error;
 * null for anything else (a network failure, retried).
 * @param clientCertificateGiven whether --kafka-ssl-keystore-location gave one (the fix differs)
 */
export function tlsFailure(address: string, err: Error, clientCertificateGiven = false): KindlingError | null {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  if (CLIENT_CERTIFICATE_REFUSED.has(code)) {
    const what = clientCertificateGiven
      ? `the broker refused the TLS client certificate of --kafka-ssl-keystore-location (${code}); give one signed by a CA the broker's ssl.truststore trusts`
      : `the broker requires a TLS client certificate (${code}): give it and its private key in one PEM file with --kafka-ssl-keystore-location`;
    return new KindlingError('KAFKA_TLS', `broker ${address}: ${what}`, { domain: 'user', cause: err });
  }
  if (UNTRUSTED.has(code)) {
    const fix =
      code === 'ERR_TLS_CERT_ALTNAME_INVALID'
        ? 'connect with the host name the certificate names'
        : code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID'
          ? 'the broker needs a valid certificate'
          : 'give the CA certificate that signed it (PEM) with --kafka-ssl-truststore-location';
    return new KindlingError('KAFKA_TLS', `broker ${address}: its TLS certificate is not trusted (${code}: ${err.message}); ${fix}`, { domain: 'user', cause: err });
  }
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG' || /wrong version number|packet length too long/i.test(err.message)) {
    return new KindlingError('KAFKA_TLS', `broker ${address}: the listener does not speak TLS (${err.message}); check --kafka-security-protocol and the port`, { domain: 'user', cause: err });
  }
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) {
    return new KindlingError('KAFKA_TLS', `broker ${address}: TLS handshake failed (${code}: ${err.message})`, { domain: 'user', cause: err });
  }
  return null;
}
