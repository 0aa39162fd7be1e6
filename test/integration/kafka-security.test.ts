// TLS and SASL against a real broker of the test's own with SSL, SASL_PLAINTEXT and SASL_SSL listeners (certificates made here with the JDK's keytool; SCRAM users added at format).
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { findJava, startBroker, type KafkaBroker } from '../../src/kafka/broker.js';
import { crashAlertsPlan } from '../../src/plan/queries.js';
import { expectedJsonl } from '../helpers/oracle-jsonl.js';
import { describeKafka, uniqueName } from '../helpers/kafka.js';
import { batchesFromProgress, cleanTemps, Kindling, kindling, readProgress, readSinkDir, readTopic, tempDir } from './kafka-harness.js';

const STREAM = ['--start-time', '2024-11-25T10:40:00Z', '--event-rate', '40', '--users', '12', '--crash-one-in', '4'];
const EVENTS = 3000;
const USER = 'lab-reader';
const PASSWORD = 'pencil-7f3a-secret';

/** A self-signed certificate for 127.0.0.1 in a PKCS12 keystore, and the certificate alone as PEM (the CA file a client trusts). */
function makeCertificate(dir: string, name: string, password: string): { keystorePath: string; certificatePem: string } {
  const java = findJava().command;
  const keytool = java === 'java' ? 'keytool' : join(dirname(java), basename(java).replace(/java/, 'keytool'));
  const keystorePath = join(dir, `${name}.p12`);
  const certificatePem = join(dir, `${name}.pem`);
  const run = (args: string[]): void => {
    const r = spawnSync(keytool, args, { encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) throw new Error(`keytool ${args.join(' ')} failed: ${r.error?.message ?? ''}${r.stderr}${r.stdout}`);
  };
  run(['-genkeypair', '-alias', name, '-keyalg', 'RSA', '-keysize', '2048', '-validity', '2', '-dname', `CN=${name}`, '-ext', 'SAN=IP:127.0.0.1,DNS:localhost',
    '-keystore', keystorePath, '-storetype', 'PKCS12', '-storepass', password, '-keypass', password]);
  run(['-exportcert', '-rfc', '-alias', name, '-keystore', keystorePath, '-storepass', password, '-file', certificatePem]);
  return { keystorePath, certificatePem };
}

/**
 * The client's certificate chain and private key in one PEM file (Kafka's ssl.keystore.type=PEM, what
 * --kafka-ssl-keystore-location reads), taken from a keytool keystore by a few lines of Java: keytool
 * cannot write a private key as PEM, and the JDK is already needed for the broker.
 */
function exportPem(dir: string, keystorePath: string, alias: string, password: string): string {
  const java = findJava().command;
  const source = join(dir, 'ExportPem.java');
  const out = join(dir, `${alias}-chain-and-key.pem`);
  writeFileSync(source, [
    'import java.io.*; import java.security.*; import java.util.Base64;',
    'public class ExportPem { public static void main(String[] a) throws Exception {',
    '  KeyStore ks = KeyStore.getInstance("PKCS12"); try (var in = new FileInputStream(a[0])) { ks.load(in, a[1].toCharArray()); }',
    '  var b64 = Base64.getMimeEncoder(64, "\\n".getBytes());',
    '  try (var out = new PrintWriter(a[3])) {',
    '    out.println("-----BEGIN CERTIFICATE-----"); out.println(b64.encodeToString(ks.getCertificate(a[2]).getEncoded())); out.println("-----END CERTIFICATE-----");',
    '    out.println("-----BEGIN PRIVATE KEY-----"); out.println(b64.encodeToString(ks.getKey(a[2], a[1].toCharArray()).getEncoded())); out.println("-----END PRIVATE KEY-----");',
    '  } } }',
  ].join('\n'));
  const r = spawnSync(java, [source, keystorePath, password, alias, out], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`java ExportPem failed: ${r.error?.message ?? ''}${r.stderr}${r.stdout}`);
  return out;
}

afterEach(cleanTemps);

describeKafka('Kafka over TLS and SASL (a broker of the test\'s own)', () => {
  let broker: KafkaBroker | undefined;
  let dir = '';
  let ca = '';
  let otherCa = '';
  let passwordFile = '';
  let clientPem = '';
  let strangerPem = '';
  const topic = uniqueName('secured');
  let data: Map<number, string[]>;

  beforeAll(async () => {
    // Not a tempDir: those go after each test, and these files serve the whole file.
    dir = await mkdtemp(join(tmpdir(), 'kindling-kafka-security-'));
    const cert = makeCertificate(dir, 'broker', 'keystore-pass');
    ca = cert.certificatePem;
    otherCa = makeCertificate(dir, 'stranger', 'keystore-pass').certificatePem;
    passwordFile = join(dir, 'password');
    await writeFile(passwordFile, `${PASSWORD}\n`);
    // A client certificate the MTLS listener trusts, and one it does not.
    const client = makeCertificate(dir, 'lab-client', 'client-pass');
    clientPem = exportPem(dir, client.keystorePath, 'lab-client', 'client-pass');
    strangerPem = exportPem(dir, makeCertificate(dir, 'stranger-client', 'client-pass').keystorePath, 'stranger-client', 'client-pass');
    broker = await startBroker({
      port: 0,
      secureListeners: [
        { protocol: 'SSL', port: 0 }, { protocol: 'SASL_PLAINTEXT', port: 0 }, { protocol: 'SASL_SSL', port: 0 },
        { protocol: 'SSL', port: 0, name: 'MTLS', clientAuth: 'required' },
      ],
      tls: { keystorePath: cert.keystorePath, password: 'keystore-pass', clientCaPath: client.certificatePem },
      saslUsers: [{ username: USER, password: PASSWORD }],
    });
    // Written over the PLAINTEXT listener; read back independently with kafkajs for the oracle.
    const r = await kindling(['produce', '--brokers', broker.brokers, '--topic', topic, '--rate', '0', '--events', String(EVENTS), '--seed', '31', ...STREAM]);
    expect(r.code, r.stderr).toBe(0);
    data = await readTopic(broker.brokers, topic);
  }, 240_000);

  afterAll(async () => {
    await broker?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Reads the whole topic through `brokers` with `flags`, returns the run (its rows already checked against the oracle when it succeeded). */
  async function read(brokers: string, flags: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stderr: string }> {
    const runDir = await tempDir();
    const out = join(runDir, 'out');
    const progressFile = join(runDir, 'progress.jsonl');
    const r = await kindling(
      ['--brokers', brokers, '--topic', topic, '--group', uniqueName('g'), '--sink', `jsonl:${out}`, '--progress-json', progressFile,
        '--no-ui', '--quiet', '--cores', '2', '--starting-offsets', 'earliest', '--available-now', '--max-offsets-per-trigger', '1000', ...flags],
      90_000,
      env,
    );
    if (r.code === 0) {
      expect(r.stderr).toContain(`events in ${EVENTS.toLocaleString('en-US')} | rejected 0`);
      const got = await readSinkDir(out);
      expect(Object.keys(got).length).toBeGreaterThan(0);
      expect(got).toEqual(expectedJsonl(crashAlertsPlan, batchesFromProgress(await readProgress(progressFile), topic, data)));
    }
    expect(r.stderr).not.toContain(PASSWORD);
    return r;
  }

  it('reads every record over SSL (a CA file), SASL_PLAINTEXT and SASL_SSL with PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512', async () => {
    const b = broker!.secureBrokers;
    const ssl = await read(b.SSL!, ['--kafka-security-protocol', 'SSL', '--kafka-ssl-truststore-location', ca]);
    expect(ssl.code, ssl.stderr).toBe(0);
    for (const mechanism of ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']) {
      const sasl = ['--kafka-sasl-mechanism', mechanism, '--kafka-sasl-username', USER];
      const plain = await read(b.SASL_PLAINTEXT!, ['--kafka-security-protocol', 'SASL_PLAINTEXT', ...sasl, '--kafka-sasl-password-file', passwordFile]);
      expect(plain.code, `${mechanism} over SASL_PLAINTEXT: ${plain.stderr}`).toBe(0);
      const overTls = await read(b.SASL_SSL!, ['--kafka-security-protocol', 'SASL_SSL', ...sasl, '--kafka-ssl-truststore-location', ca], { KAFKA_SASL_PASSWORD: PASSWORD });
      expect(overTls.code, `${mechanism} over SASL_SSL: ${overTls.stderr}`).toBe(0);
    }
  }, 240_000);

  it('a wrong password stops the run at once with exit 2 and the broker\'s reason, for PLAIN and SCRAM, without retrying', async () => {
    const b = broker!.secureBrokers;
    for (const mechanism of ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']) {
      const r = await read(b.SASL_SSL!, ['--kafka-security-protocol', 'SASL_SSL', '--kafka-sasl-mechanism', mechanism, '--kafka-sasl-username', USER, '--kafka-ssl-truststore-location', ca], {
        KAFKA_SASL_PASSWORD: 'not-the-password',
      });
      expect(r.stderr).toMatch(new RegExp(`broker ${b.SASL_SSL!.replace(/\./g, '\\.')}: SASL authentication of ${USER} with ${mechanism} failed: .*check --kafka-sasl-username and the password`));
      expect(r.stderr).not.toContain('waiting for broker');
      expect(r.stderr).not.toContain('not-the-password');
      expect(r.code).toBe(2);
    }
  }, 120_000);

  it('an untrusted certificate (the system CAs, or another CA file) stops the run at once with exit 2 naming the fix', async () => {
    const b = broker!.secureBrokers;
    for (const trust of [[], ['--kafka-ssl-truststore-location', otherCa]]) {
      const r = await read(b.SSL!, ['--kafka-security-protocol', 'SSL', ...trust]);
      expect(r.stderr).toMatch(/its TLS certificate is not trusted \((DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE)/);
      expect(r.stderr).toContain('--kafka-ssl-truststore-location');
      expect(r.stderr).not.toContain('waiting for broker');
      expect(r.code).toBe(2);
    }
  }, 120_000);

  it('the wrong protocol for a listener: the waiting line says which flag to check (plaintext on a TLS port), or the run stops (SASL on a plaintext port)', async () => {
    const b = broker!.secureBrokers;
    const run = new Kindling(['--brokers', b.SSL!, '--topic', topic, '--sink', 'none', '--no-ui', '--quiet', '--starting-offsets', 'earliest']);
    await run.waitForLog(/kafka: waiting for broker 127\.0\.0\.1:\d+: closed the connection before serving a request: if the listener uses TLS or SASL, give --kafka-security-protocol/, 15_000).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}\n${run.stderr}`);
    });
    expect(await run.interrupt()).toBe(0);
    const saslOnPlain = await read(broker!.brokers, ['--kafka-security-protocol', 'SASL_PLAINTEXT', '--kafka-sasl-username', USER], { KAFKA_SASL_PASSWORD: PASSWORD });
    expect(saslOnPlain.stderr).toContain('it is not a SASL listener');
    expect(saslOnPlain.code).toBe(2);
  }, 60_000);

  it('flags that do not fit together are usage errors (exit 2) naming the flag', async () => {
    const b = broker!.secureBrokers;
    const noUser = await read(b.SASL_PLAINTEXT!, ['--kafka-security-protocol', 'SASL_PLAINTEXT']);
    expect(noUser.stderr).toContain('--kafka-security-protocol SASL_PLAINTEXT needs --kafka-sasl-username');
    expect(noUser.code).toBe(2);
    const noPassword = await read(b.SASL_PLAINTEXT!, ['--kafka-security-protocol', 'SASL_PLAINTEXT', '--kafka-sasl-username', USER], { KAFKA_SASL_PASSWORD: undefined });
    expect(noPassword.stderr).toContain('set KAFKA_SASL_PASSWORD or give --kafka-sasl-password-file FILE');
    expect(noPassword.code).toBe(2);
    const caWithoutTls = await read(b.SASL_PLAINTEXT!, ['--kafka-ssl-truststore-location', ca]);
    expect(caWithoutTls.stderr).toContain('--kafka-ssl-truststore-location applies to --kafka-security-protocol SSL or SASL_SSL; --kafka-security-protocol is PLAINTEXT');
    expect(caWithoutTls.code).toBe(2);
  }, 60_000);

  /** `kindling produce` of the topic's events (same seed and stream) to a new topic through `brokers` with `flags`. */
  async function produceTo(brokers: string, flags: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stderr: string; topic: string }> {
    const target = uniqueName('secured-produce');
    const r = await kindling(['produce', '--brokers', brokers, '--topic', target, '--rate', '0', '--events', String(EVENTS), '--seed', '31', ...STREAM, ...flags], 90_000, env);
    expect(r.stderr).not.toContain(PASSWORD);
    return { ...r, topic: target };
  }

  it('kindling produce writes over SSL, SASL_PLAINTEXT and SASL_SSL (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512): the same records as over PLAINTEXT', async () => {
    const b = broker!.secureBrokers;
    const runs = [
      await produceTo(b.SSL!, ['--kafka-security-protocol', 'SSL', '--kafka-ssl-truststore-location', ca]),
      await produceTo(b.SASL_PLAINTEXT!, ['--kafka-security-protocol', 'SASL_PLAINTEXT', '--kafka-sasl-mechanism', 'PLAIN', '--kafka-sasl-username', USER], { KAFKA_SASL_PASSWORD: PASSWORD }),
      await produceTo(b.SASL_SSL!, ['--kafka-security-protocol', 'SASL_SSL', '--kafka-sasl-mechanism', 'SCRAM-SHA-256', '--kafka-sasl-username', USER, '--kafka-sasl-password-file', passwordFile, '--kafka-ssl-truststore-location', ca]),
      await produceTo(b.SASL_SSL!, ['--kafka-security-protocol', 'SASL_SSL', '--kafka-sasl-mechanism', 'SCRAM-SHA-512', '--kafka-sasl-username', USER, '--kafka-ssl-truststore-location', ca], { KAFKA_SASL_PASSWORD: PASSWORD }),
    ];
    for (const r of runs) {
      expect(r.code, r.stderr).toBe(0);
      // Read back over PLAINTEXT with kafkajs: what the PLAINTEXT producer wrote in beforeAll is the oracle.
      expect(await readTopic(broker!.brokers, r.topic)).toEqual(data);
    }
  }, 240_000);

  it('kindling produce with a wrong password or an untrusted certificate stops at once with exit 2, without retrying', async () => {
    const b = broker!.secureBrokers;
    const wrong = await produceTo(b.SASL_SSL!, ['--kafka-security-protocol', 'SASL_SSL', '--kafka-sasl-mechanism', 'SCRAM-SHA-512', '--kafka-sasl-username', USER, '--kafka-ssl-truststore-location', ca], {
      KAFKA_SASL_PASSWORD: 'not-the-password',
    });
    expect(wrong.stderr).toMatch(new RegExp(`SASL authentication of ${USER} with SCRAM-SHA-512 failed: .*check --kafka-sasl-username and the password`));
    expect(wrong.stderr).not.toContain('not-the-password');
    const untrusted = await produceTo(b.SSL!, ['--kafka-security-protocol', 'SSL', '--kafka-ssl-truststore-location', otherCa]);
    expect(untrusted.stderr).toContain('its TLS certificate is not trusted');
    for (const r of [wrong, untrusted]) {
      expect(r.stderr).not.toContain('waiting for broker');
      expect(r.code).toBe(2);
    }
  }, 120_000);

  it('a listener that requires a client certificate (ssl.client.auth=required): read and produce with --kafka-ssl-keystore-location', async () => {
    const mtls = broker!.secureBrokers['MTLS']!;
    const flags = ['--kafka-security-protocol', 'SSL', '--kafka-ssl-truststore-location', ca, '--kafka-ssl-keystore-location', clientPem];
    const r = await read(mtls, flags);
    expect(r.code, r.stderr).toBe(0);
    const p = await produceTo(mtls, flags);
    expect(p.code, p.stderr).toBe(0);
    expect(await readTopic(broker!.brokers, p.topic)).toEqual(data);
  }, 120_000);

  it('without a client certificate, or with one the broker does not trust, the source and produce stop at once with exit 2 naming the flag', async () => {
    const mtls = broker!.secureBrokers['MTLS']!;
    for (const cert of [[], ['--kafka-ssl-keystore-location', strangerPem]]) {
      const flags = ['--kafka-security-protocol', 'SSL', '--kafka-ssl-truststore-location', ca, ...cert];
      for (const r of [await read(mtls, flags), await produceTo(mtls, flags)]) {
        expect(r.stderr).toMatch(/the broker refused the TLS client certificate|requires a TLS client certificate/);
        expect(r.stderr).toContain('--kafka-ssl-keystore-location');
        expect(r.stderr).not.toContain('waiting for broker');
        expect(r.code).toBe(2);
      }
    }
  }, 120_000);
});
