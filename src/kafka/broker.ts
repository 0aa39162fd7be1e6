// Runs a real single-node KRaft Apache Kafka broker on loopback, from Maven Central jars, without Docker.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createServer, createConnection } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { BrokerStartProgress } from './broker-progress.js';
import { waitFor } from './wait.js';

/** The Apache Kafka version that `broker-pom.xml` fetches (checked against the POM at run time). */
export const KAFKA_VERSION = '4.1.2';

/** The oldest Java feature release that Kafka 4.x brokers run on. */
export const MIN_JAVA_MAJOR = 17;

const INSTALL_HINT =
  'On Debian/Ubuntu: apt-get install -y openjdk-17-jdk-headless maven (as root or with sudo); ' +
  'elsewhere install a JDK 17+ and Apache Maven 3.8+ and put java and mvn on PATH (or set JAVA_HOME).';

/** Why a broker cannot be run here; `code` tells what is missing, `message` how to fix it. */
export class KafkaToolchainError extends Error {
  /** Which prerequisite failed. */
  readonly code: 'JAVA_MISSING' | 'JAVA_TOO_OLD' | 'MAVEN_MISSING' | 'JAR_FETCH_FAILED';
  /** What went wrong, without the install instructions that `message` adds. */
  readonly problem: string;

  /**
   * @param code which prerequisite failed
   * @param problem what happened; the message is this plus `hint`
   * @param hint how to fix it (default: how to install Java and Maven)
   */
  constructor(code: KafkaToolchainError['code'], problem: string, hint: string = INSTALL_HINT, options?: { cause?: unknown }) {
    super(hint ? `${problem} ${hint}` : problem, options);
    this.name = 'KafkaToolchainError';
    this.code = code;
    this.problem = problem;
  }
}

/** The Java runtime that will run the broker. */
export interface JavaInfo {
  /** The command run: `$JAVA_HOME/bin/java` when JAVA_HOME is set, else `java` from PATH. */
  command: string;
  /** Feature release, e.g. 17 or 21. */
  major: number;
  /** First line of `java -version`. */
  description: string;
}

/**
 * Finds Java and checks that it is at least {@link MIN_JAVA_MAJOR}.
 * @throws KafkaToolchainError (JAVA_MISSING or JAVA_TOO_OLD) with install instructions.
 */
export function findJava(env: NodeJS.ProcessEnv = process.env): JavaInfo {
  const javaHome = env['JAVA_HOME'];
  const command = javaHome ? join(javaHome, 'bin', 'java') : 'java';
  const where = javaHome ? `JAVA_HOME (${command})` : '`java` on PATH';
  const r = spawnSync(command, ['-version'], { encoding: 'utf8', timeout: 60_000, env });
  if (r.error) {
    throw new KafkaToolchainError(
      'JAVA_MISSING',
      `The Kafka broker needs Java ${MIN_JAVA_MAJOR}+, but ${where} could not be run (${r.error.message}).`,
      INSTALL_HINT,
      { cause: r.error },
    );
  }
  const text = `${r.stderr ?? ''}\n${r.stdout ?? ''}`;
  const m = /version "(\d+)(?:\.(\d+))?[^"]*"/.exec(text);
  const first = m?.[1] ? Number(m[1]) : NaN;
  const major = first === 1 && m?.[2] ? Number(m[2]) : first;
  const description = text.trim().split('\n')[0] ?? '';
  if (!Number.isFinite(major)) {
    throw new KafkaToolchainError(
      'JAVA_MISSING',
      `Could not read the Java version from ${where} (output: ${JSON.stringify(description)}).`,
    );
  }
  if (major < MIN_JAVA_MAJOR) {
    throw new KafkaToolchainError(
      'JAVA_TOO_OLD',
      `The Kafka broker needs Java ${MIN_JAVA_MAJOR}+, but ${where} is Java ${major} (${description}).`,
      `Install a newer JDK and point JAVA_HOME at it. ${INSTALL_HINT}`,
    );
  }
  return { command, major, description };
}

/**
 * Checks that Maven (`mvn`) runs; it is needed only the first time, to fetch the broker's jars.
 * @returns the first line of `mvn -v`.
 * @throws KafkaToolchainError (MAVEN_MISSING) with install instructions.
 */
export function findMaven(env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync('mvn', ['-v', '-B'], { encoding: 'utf8', timeout: 60_000, env });
  if (r.error || r.status !== 0) {
    const why = r.error ? r.error.message : `exit code ${r.status}: ${(r.stderr || r.stdout || '').trim()}`;
    throw new KafkaToolchainError(
      'MAVEN_MISSING',
      `Fetching the Kafka broker's jars needs Maven (mvn), which could not be run (${why}).`,
      INSTALL_HINT,
      r.error ? { cause: r.error } : undefined,
    );
  }
  return (r.stdout.trim().split('\n')[0] ?? '').replace(/\u001b\[[0-9;]*m/g, '');
}

/** Where the broker's jars are cached: `$KINDLING_KAFKA_HOME`, else `~/.cache/kindling/kafka-<version>`. */
export function defaultKafkaHome(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env['KINDLING_KAFKA_HOME'];
  if (explicit) return resolve(explicit);
  const cacheRoot = env['XDG_CACHE_HOME'] || join(homedir(), '.cache');
  return join(cacheRoot, 'kindling', `kafka-${KAFKA_VERSION}`);
}

/** Options for {@link ensureKafkaJars}. */
export interface EnsureJarsOptions {
  /** Cache folder (default {@link defaultKafkaHome}); the jars go to `<home>/libs`. */
  home?: string;
  /** The POM to resolve (default: `broker-pom.xml` beside this module's source). */
  pomPath?: string;
  /** Receives progress lines (fetching, done in N s). */
  log?: (line: string) => void;
  /** Give up on Maven after this long (default 15 minutes). */
  fetchTimeoutMs?: number;
}

/** The broker's runtime: where its jars are and which Java runs them. */
export interface KafkaJars {
  /** Apache Kafka version of the jars. */
  version: string;
  /** The cache folder. */
  home: string;
  /** The folder holding every jar of the classpath (`-cp "<libsDir>/*"`). */
  libsDir: string;
  /** The Java that will run the broker. */
  java: JavaInfo;
  /** True if this call ran Maven; false if the cache was already complete. */
  fetched: boolean;
  /** Milliseconds spent in this call (Maven included). */
  ms: number;
}

const MARKER = '.kindling-complete';

/** Finds `broker-pom.xml`: beside this file when run from source, or under src/ when run from dist/. */
export function brokerPomPath(): string {
  const candidates = [
    fileURLToPath(new URL('./broker-pom.xml', import.meta.url)),
    fileURLToPath(new URL('../../../src/kafka/broker-pom.xml', import.meta.url)),
  ];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`broker-pom.xml not found; looked in: ${candidates.join(', ')}`);
  return found;
}

/**
 * Makes sure the broker's jars are on disk, fetching them once with Maven into `<home>/libs`.
 *
 * Checks Java first (>= 17) and Maven only when a fetch is needed. The fetch goes to a temporary
 * folder that is renamed into place when complete, so an interrupted fetch is simply redone, and a
 * marker holding the POM's hash makes a changed POM refetch.
 *
 * @throws KafkaToolchainError when Java or Maven is missing or Maven fails.
 */
export async function ensureKafkaJars(opts: EnsureJarsOptions = {}): Promise<KafkaJars> {
  const t0 = Date.now();
  const log = opts.log ?? (() => {});
  const java = findJava();
  const home = opts.home ? resolve(opts.home) : defaultKafkaHome();
  const pomPath = opts.pomPath ?? brokerPomPath();
  const pom = readFileSync(pomPath, 'utf8');
  const pomVersion = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pom)?.[1];
  if (pomVersion !== KAFKA_VERSION) {
    throw new Error(`${pomPath} names Kafka ${pomVersion ?? '(none)'} but broker.ts expects ${KAFKA_VERSION}; keep them equal`);
  }
  const pomHash = createHash('sha256').update(pom).digest('hex');
  const libsDir = join(home, 'libs');
  const result = (fetched: boolean): KafkaJars => ({
    version: KAFKA_VERSION, home, libsDir, java, fetched, ms: Date.now() - t0,
  });

  if (await cacheMatches(libsDir, pomHash)) return result(false);

  const mvnVersion = findMaven();
  await mkdir(home, { recursive: true });
  const partial = join(home, `libs.partial-${process.pid}-${randomBytes(4).toString('hex')}`);
  log(`Fetching Apache Kafka ${KAFKA_VERSION} jars with Maven (${mvnVersion}) into ${libsDir} (once, ~45 MB)...`);
  try {
    const args = [
      '-B', '-q', '-f', pomPath,
      'dependency:copy-dependencies',
      '-DincludeScope=runtime',
      `-DoutputDirectory=${partial}`,
    ];
    const r = await run('mvn', args, { timeoutMs: opts.fetchTimeoutMs ?? 15 * 60_000, cwd: home });
    if (r.code !== 0) {
      throw new KafkaToolchainError(
        'JAR_FETCH_FAILED',
        `Maven could not fetch the Kafka ${KAFKA_VERSION} jars (${r.code === null ? 'timed out or killed' : `exit code ${r.code}`}); ` +
          `ran: mvn ${args.join(' ')}\n${tail(r.output, 30)}`,
        'Check that Maven can reach its repository (proxy settings in ~/.m2/settings.xml) and retry.',
      );
    }
    await writeFile(join(partial, MARKER), `${JSON.stringify({ kafka: KAFKA_VERSION, pomSha256: pomHash, at: new Date().toISOString() })}\n`);
    // Another process may have finished the same fetch meanwhile: keep its copy (it may be in use).
    if (!(await cacheMatches(libsDir, pomHash))) {
      await rm(libsDir, { recursive: true, force: true });
      try {
        await rename(partial, libsDir);
      } catch (err) {
        if (!(await cacheMatches(libsDir, pomHash))) throw err;
      }
    }
  } finally {
    await rm(partial, { recursive: true, force: true });
  }
  const out = result(true);
  log(`Fetched the Kafka jars in ${(out.ms / 1000).toFixed(1)} s.`);
  return out;
}

async function cacheMatches(libsDir: string, pomHash: string): Promise<boolean> {
  try {
    const marker = JSON.parse(await readFile(join(libsDir, MARKER), 'utf8')) as { pomSha256?: string };
    return marker.pomSha256 === pomHash;
  } catch {
    return false;
  }
}

/** Options for {@link startBroker}. */
export interface StartBrokerOptions {
  /** Client (PLAINTEXT) port on 127.0.0.1; default 9092; 0 picks a free port. */
  port?: number;
  /** KRaft controller port on 127.0.0.1 (never give it to clients); default: a free port. */
  controllerPort?: number;
  /**
   * Where the broker keeps its config (`<dataDir>/config`) and data (`<dataDir>/data`). Reused
   * across starts (formatted only the first time). Default: a fresh temporary folder that
   * `stop()` deletes.
   */
  dataDir?: string;
  /** Receives progress lines and every line the broker prints (WARN and above, plus start/stop). */
  log?: (line: string) => void;
  /** Jar cache folder, see {@link ensureKafkaJars}. */
  home?: string;
  /**
   * Give up when the broker has neither answered clients nor shown start-up progress (a log
   * loaded) for this long, in ms (default 90 000). A deadline on progress, not on the whole start:
   * after an unclean stop a broker with thousands of topic-partitions recovers each log first,
   * which on a loaded machine takes minutes. `Infinity` waits as long as java runs.
   */
  readyTimeoutMs?: number;
  /** Aborting it while the broker starts stops the broker cleanly (SIGTERM) and rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Called with the java process as soon as it is spawned (a caller may signal it while start-up is still waiting). */
  onSpawn?: (child: ChildProcess) => void;
  /** How long {@link KafkaBroker.stop} waits for a clean shutdown after SIGTERM before SIGKILL, in ms (default 10 000; `Infinity` never kills). */
  stopTimeoutMs?: number;
  /**
   * Secured client listeners beside the PLAINTEXT one (which stays: the readiness probe uses it),
   * each on its own port (0 picks a free one). A listener's name defaults to its protocol; give
   * another name (e.g. `MTLS`) for a second listener of one protocol. `clientAuth: 'required'`
   * (Kafka's ssl.client.auth) makes a TLS listener refuse clients without a certificate that
   * `tls.clientCaPath` trusts.
   */
  secureListeners?: ReadonlyArray<{ protocol: SecureProtocol; port: number; name?: string; clientAuth?: 'required' }>;
  /** For SSL and SASL_SSL listeners: the broker's key and certificate, as a PKCS12 keystore; `clientCaPath`: the PEM certificates a client's certificate must be signed by. */
  tls?: { keystorePath: string; password: string; clientCaPath?: string };
  /** SASL users, each able to log in with PLAIN (the listener's JAAS config) and SCRAM-SHA-256/512 (added to the storage at its first format). */
  saslUsers?: ReadonlyArray<{ username: string; password: string }>;
  /** One node of a cluster (see {@link startCluster}); absent: a cluster of this one node. */
  cluster?: ClusterMembership;
}

/** What one node of a multi-node KRaft cluster shares with the others. */
export interface ClusterMembership {
  /** This node's id (1, 2, ...). */
  nodeId: number;
  /** Every node's `id@host:controllerPort`, comma-separated (Kafka's controller.quorum.voters). */
  voters: string;
  /** The cluster id every node's storage is formatted with. */
  clusterId: string;
  /** Nodes in the cluster: internal topics get this replication factor (at most 3). */
  size: number;
}

/** Kafka's security protocols other than PLAINTEXT. */
export type SecureProtocol = 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL';

/** A secured listener as written to server.properties. */
interface SecureListener {
  protocol: SecureProtocol;
  port: number;
  /** Kafka's listener name (upper case): the protocol unless the caller named it. */
  name: string;
  /** ssl.client.auth=required on this listener. */
  clientAuth: boolean;
}

/** The SASL mechanisms a broker started here enables on its SASL listeners. */
const BROKER_SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;

/** A running broker. */
export interface KafkaBroker {
  /** Bootstrap string for clients, e.g. `127.0.0.1:9092`. */
  brokers: string;
  /** Client port. */
  port: number;
  /** Controller port (for KRaft only). */
  controllerPort: number;
  /** Bootstrap string of each secured listener asked for (`127.0.0.1:<port>`), by listener name (its protocol unless named). */
  secureBrokers: Partial<Record<string, string>>;
  /** The folder holding config/ and data/. */
  dataDir: string;
  /** The java process. */
  process: ChildProcess;
  /** Apache Kafka version. */
  version: string;
  /** Where the time to readiness went, in ms. */
  timings: { jarsMs: number; formatMs: number; startMs: number; totalMs: number };
  /** Resolves when the java process has exited (with its exit code, or null if killed by a signal). */
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after `stopTimeoutMs` (default 10 s); resolves once java has exited. Safe to call more than once. */
  stop(): Promise<void>;
}

/**
 * Starts a single-node KRaft broker (combined broker + controller) on 127.0.0.1 and resolves once
 * a client can describe the cluster.
 *
 * Fetches the jars first if needed ({@link ensureKafkaJars}), writes `server.properties` and a
 * log4j2 config under `<dataDir>/config`, formats the storage on first use, and starts
 * `kafka.Kafka`. Readiness is polled every 250 ms: TCP connect, then kafkajs `describeCluster`, then
 * `describeGroups` (which succeeds once the group coordinator has loaded, so consumer groups work);
 * if java exits first the promise rejects at once with its last output lines.
 * If this Node process exits without calling `stop()`, the broker is sent SIGTERM.
 *
 * @throws KafkaToolchainError when Java or Maven is missing; Error when the port is taken, the
 *   format fails, java exits early, or the deadline passes (the broker is stopped first).
 */
export async function startBroker(opts: StartBrokerOptions = {}): Promise<KafkaBroker> {
  const t0 = Date.now();
  const log = opts.log ?? (() => {});
  const jars = await ensureKafkaJars({ ...(opts.home ? { home: opts.home } : {}), log });

  const port = opts.port === undefined ? 9092 : opts.port === 0 ? await freePort() : opts.port;
  await assertPortFree(port, 'client');
  let controllerPort = opts.controllerPort ?? (await freePort());
  while (opts.controllerPort === undefined && controllerPort === port) controllerPort = await freePort();
  await assertPortFree(controllerPort, 'controller');
  if (controllerPort === port) throw new Error(`The controller port must differ from the client port (both ${port})`);

  const secure: SecureListener[] = [];
  const taken = new Set([port, controllerPort]);
  for (const l of opts.secureListeners ?? []) {
    let p = l.port;
    while (p === 0 || (l.port === 0 && taken.has(p))) p = await freePort();
    taken.add(p);
    const name = (l.name ?? l.protocol).toUpperCase();
    await assertPortFree(p, `${name} listener`);
    secure.push({ protocol: l.protocol, port: p, name, clientAuth: l.clientAuth === 'required' });
  }
  if (secure.some((l) => l.protocol !== 'SASL_PLAINTEXT') && !opts.tls) throw new Error('SSL and SASL_SSL listeners need opts.tls (a PKCS12 keystore)');
  if (secure.some((l) => l.clientAuth) && !opts.tls?.clientCaPath) throw new Error('a listener with clientAuth needs opts.tls.clientCaPath (the PEM certificates client certificates are checked against)');

  const ownsDataDir = opts.dataDir === undefined;
  const dataDir = resolve(opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'kindling-kafka-'))));
  const configDir = join(dataDir, 'config');
  const logDir = join(dataDir, 'data');
  await mkdir(configDir, { recursive: true });
  await mkdir(logDir, { recursive: true });
  const serverProps = join(configDir, 'server.properties');
  const log4jProps = join(configDir, 'log4j2.properties');
  const cluster = opts.cluster ?? { nodeId: 1, voters: `1@127.0.0.1:${controllerPort}`, clusterId: newClusterId(), size: 1 };
  await writeFile(serverProps, serverProperties({ port, controllerPort, logDir, secure, cluster }) + securityProperties(secure, opts));
  await writeFile(log4jProps, LOG4J2_PROPERTIES);
  const classpath = `${jars.libsDir}/*`;
  const log4jFlag = `-Dlog4j2.configurationFile=${log4jProps}`;

  const tFormat = Date.now();
  const formatted = existsSync(join(logDir, 'meta.properties'));
  if (!formatted) {
    // Kafka's cluster ids are 16 random bytes in base64url (what `StorageTool random-uuid` prints);
    // made here to save a JVM start. One starting with '-' would read as a flag, so avoid it.
    const { clusterId } = cluster;
    log(`Formatting ${logDir} (cluster id ${clusterId})`);
    const r = await run(
      jars.java.command,
      ['-Xms64m', '-Xmx256m', '-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', log4jFlag,
        '-cp', classpath, 'kafka.tools.StorageTool', 'format', '--ignore-formatted', '-t', clusterId, '-c', serverProps, ...scramArgs(opts.saslUsers ?? [])],
      { timeoutMs: 120_000 },
    );
    if (r.code !== 0) {
      if (ownsDataDir) await rm(dataDir, { recursive: true, force: true });
      throw new Error(`Formatting the Kafka storage in ${logDir} failed (exit ${r.code}):\n${tail(r.output, 30)}`);
    }
  }
  const formatMs = Date.now() - tFormat;

  const tStart = Date.now();
  const brokers = `127.0.0.1:${port}`;
  log(`Starting Apache Kafka ${KAFKA_VERSION} on ${brokers} (controller 127.0.0.1:${controllerPort}, data ${dataDir})`);
  const child = spawn(
    jars.java.command,
    ['-Xms256m', '-Xmx512m', '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-XX:+ExitOnOutOfMemoryError',
      '-Djava.awt.headless=true', log4jFlag, '-cp', classpath, 'kafka.Kafka', serverProps],
    { stdio: ['ignore', 'pipe', 'pipe'], cwd: dataDir },
  );
  opts.onSpawn?.(child);
  const recent: string[] = [];
  const progress = new BrokerStartProgress();
  let progressAtMs = Date.now();
  const onLine = (line: string): void => {
    const verdict = progress.read(line, Date.now());
    if (verdict.progress) progressAtMs = Date.now();
    if (verdict.show === null) return;
    recent.push(verdict.show);
    if (recent.length > 60) recent.shift();
    log(verdict.show);
  };
  createInterface({ input: child.stdout! }).on('line', onLine);
  createInterface({ input: child.stderr! }).on('line', onLine);

  const died = new AbortController();
  const exited = new Promise<number | null>((res) => {
    child.once('exit', (code, signal) => {
      died.abort(new Error(
        `The Kafka broker (java) exited with ${code === null ? `signal ${signal}` : `code ${code}`} before it was ready. ` +
          `Last output:\n${lastLines(recent, 25) || '(none)'}`,
      ));
      res(code);
    });
    child.once('error', (err) => {
      died.abort(new Error(`Could not run ${jars.java.command}: ${err.message}`));
      res(null);
    });
  });
  const killOnExit = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  };
  process.on('exit', killOnExit);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        progress.stopRequested();
        child.kill('SIGTERM');
        // A clean stop writes Kafka's clean-shutdown marker; killing it sooner makes the next start recover every log.
        const stopTimeoutMs = opts.stopTimeoutMs ?? 10_000;
        const hard = Number.isFinite(stopTimeoutMs) ? setTimeout(() => child.kill('SIGKILL'), stopTimeoutMs) : undefined;
        await exited;
        clearTimeout(hard);
      }
      process.off('exit', killOnExit);
      if (ownsDataDir) await rm(dataDir, { recursive: true, force: true });
    })());

  const probe = new Kafka({
    clientId: 'kindling-broker-probe',
    brokers: [brokers],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    requestTimeout: 5000,
    retry: { retries: 0 },
  });
  // Give up only when the broker stalls: neither ready nor loading logs for readyTimeoutMs.
  const readyTimeoutMs = opts.readyTimeoutMs ?? 90_000;
  const stalled = new AbortController();
  let lastNoticeMs = Date.now();
  const watch = setInterval(() => {
    const now = Date.now();
    const quietMs = now - progressAtMs;
    if (quietMs >= readyTimeoutMs) {
      stalled.abort(new Error(
        `The Kafka broker on ${brokers} did not become ready: no start-up progress for ${(quietMs / 1000).toFixed(0)} s ` +
          `(${((now - tStart) / 1000).toFixed(0)} s since it was started), so it was stopped. Last output:\n${lastLines(recent, 25) || '(none)'}`,
      ));
    } else if (now - lastNoticeMs >= 30_000) {
      lastNoticeMs = now;
      log(`Still starting after ${((now - tStart) / 1000).toFixed(0)} s${formatted ? ' (a data dir kept from an earlier run)' : ''}; waiting for it${Number.isFinite(readyTimeoutMs) ? '' : ' (Ctrl-C stops it)'}...`);
    }
  }, 1000);
  try {
    await waitFor(
      async () => {
        if (!(await tcpOpen(port))) return false;
        const admin = probe.admin();
        try {
          await admin.connect();
          const cluster = await admin.describeCluster();
          if (cluster.brokers.length === 0) return false;
          // Asking for a group makes the broker create __consumer_offsets and load its group
          // coordinator; until then the first consumer of a fresh broker gets "coordinator not
          // available / loading" and kafkajs crashes and restarts it. Ready means groups work too.
          await admin.describeGroups(['kindling-readiness-probe']);
          return true;
        } finally {
          await admin.disconnect().catch(() => {});
        }
      },
      { timeoutMs: Infinity, intervalMs: 250, what: `the Kafka broker on ${brokers}`, signal: AbortSignal.any([died.signal, stalled.signal, ...(opts.signal ? [opts.signal] : [])]) },
    );
  } catch (err) {
    clearInterval(watch);
    // Stopping a broker mid-start sends it into a shutdown that may end in SIGKILL: report why it was
    // stopped (the stall), not how it ended.
    await stop();
    if (opts.signal?.aborted) throw opts.signal.reason;
    if (stalled.signal.aborted) throw stalled.signal.reason;
    if (died.signal.aborted) throw died.signal.reason;
    const why = err instanceof Error ? err.message : String(err);
    throw new Error(`${why}\nLast broker output:\n${lastLines(recent, 25) || '(none)'}`, { cause: err });
  }
  clearInterval(watch);
  const startMs = Date.now() - tStart;
  const totalMs = Date.now() - t0;
  log(`Kafka broker ready on ${brokers} in ${(totalMs / 1000).toFixed(1)} s`);
  return {
    brokers, port, controllerPort, dataDir, process: child, version: KAFKA_VERSION,
    secureBrokers: Object.fromEntries(secure.map((l) => [l.name, `127.0.0.1:${l.port}`])),
    timings: { jarsMs: jars.ms, formatMs, startMs, totalMs },
    exited, stop,
  };
}

/** The server.properties of a combined broker+controller node on loopback with a static voter. */
function serverProperties(p: {
  port: number;
  controllerPort: number;
  logDir: string;
  secure: readonly SecureListener[];
  cluster: ClusterMembership;
}): string {
  const extra = p.secure.map((l) => `,${l.name}://127.0.0.1:${l.port}`).join('');
  const replicas = Math.min(3, p.cluster.size);
  // With 3 replicas, writes to internal topics (offsets, transactions) go on while one node is down.
  const minIsr = Math.max(1, replicas - 1);
  return [
    '# Written by Kindling (src/kafka/broker.ts) at every start; edits here are overwritten.',
    'process.roles=broker,controller',
    `node.id=${p.cluster.nodeId}`,
    `controller.quorum.voters=${p.cluster.voters}`,
    `listeners=PLAINTEXT://127.0.0.1:${p.port},CONTROLLER://127.0.0.1:${p.controllerPort}${extra}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${p.port}${extra}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    `listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT${p.secure.map((l) => `,${l.name}:${l.protocol}`).join('')}`,
    `log.dirs=${p.logDir}`,
    'num.partitions=2',
    // Internal topics cannot have more replicas than nodes, or clients wait forever.
    `offsets.topic.replication.factor=${replicas}`,
    'offsets.topic.num.partitions=1',
    `transaction.state.log.replication.factor=${replicas}`,
    `transaction.state.log.min.isr=${minIsr}`,
    'transaction.state.log.num.partitions=1',
    `share.coordinator.state.topic.replication.factor=${replicas}`,
    `share.coordinator.state.topic.min.isr=${minIsr}`,
    'group.initial.rebalance.delay.ms=0',
    // 32 MB instead of 128 MB, so the cleaner fits in a 512 MB heap.
    'log.cleaner.dedupe.buffer.size=33554432',
    '',
  ].join('\n');
}

/** Kafka's cluster ids are 16 random bytes in base64url (what `StorageTool random-uuid` prints), made here to save a JVM start; one starting with '-' would read as a flag. */
function newClusterId(): string {
  let clusterId = '';
  do clusterId = randomBytes(16).toString('base64url');
  while (clusterId.startsWith('-'));
  return clusterId;
}

/** A running multi-node cluster. */
export interface KafkaCluster {
  /** Bootstrap string naming every node. */
  brokers: string;
  /** The nodes; node i has node id i + 1. */
  nodes: KafkaBroker[];
  /** Stops every node still running. */
  stop(): Promise<void>;
}

/**
 * Starts `nodes` combined broker+controller KRaft nodes on 127.0.0.1 (static voters, one storage
 * format with one cluster id), each with its own ports and data folder, and resolves once each
 * answers clients. Internal topics get min(3, nodes) replicas, so a cluster of 3 keeps working
 * with one node stopped. Stop one with `nodes[i].stop()`.
 */
export async function startCluster(opts: { nodes: number; log?: (line: string) => void; home?: string; readyTimeoutMs?: number }): Promise<KafkaCluster> {
  const ports: Array<{ port: number; controllerPort: number }> = [];
  const taken = new Set<number>();
  const pick = async (): Promise<number> => {
    let p = await freePort();
    while (taken.has(p)) p = await freePort();
    taken.add(p);
    return p;
  };
  for (let i = 0; i < opts.nodes; i++) ports.push({ port: await pick(), controllerPort: await pick() });
  const voters = ports.map((p, i) => `${i + 1}@127.0.0.1:${p.controllerPort}`).join(',');
  const clusterId = newClusterId();
  const started = await Promise.allSettled(
    ports.map((p, i) =>
      startBroker({
        ...p,
        ...(opts.home ? { home: opts.home } : {}),
        ...(opts.readyTimeoutMs ? { readyTimeoutMs: opts.readyTimeoutMs } : {}),
        log: (line) => opts.log?.(`[node ${i + 1}] ${line}`),
        cluster: { nodeId: i + 1, voters, clusterId, size: opts.nodes },
      }),
    ),
  );
  const nodes = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(nodes.map((n) => n.stop()));
    throw failed.reason;
  }
  return { brokers: nodes.map((n) => n.brokers).join(','), nodes, stop: async () => void (await Promise.all(nodes.map((n) => n.stop()))) };
}

/** The secured listeners' TLS and SASL settings, appended to server.properties. */
function securityProperties(secure: readonly SecureListener[], opts: StartBrokerOptions): string {
  if (secure.length === 0) return '';
  const lines = ['# Secured listeners (StartBrokerOptions.secureListeners).'];
  if (opts.tls) {
    lines.push(`ssl.keystore.location=${opts.tls.keystorePath}`, 'ssl.keystore.type=PKCS12', `ssl.keystore.password=${opts.tls.password}`, `ssl.key.password=${opts.tls.password}`, 'ssl.client.auth=none');
    if (opts.tls.clientCaPath) lines.push(`ssl.truststore.location=${opts.tls.clientCaPath}`, 'ssl.truststore.type=PEM');
    for (const l of secure) if (l.clientAuth) lines.push(`listener.name.${l.name.toLowerCase()}.ssl.client.auth=required`);
  }
  const sasl = secure.filter((l) => l.protocol !== 'SSL');
  if (sasl.length > 0) {
    lines.push(`sasl.enabled.mechanisms=${BROKER_SASL_MECHANISMS.join(',')}`);
    const plainUsers = (opts.saslUsers ?? []).map((u) => ` user_${u.username}=${JSON.stringify(u.password)}`).join('');
    for (const l of sasl) {
      const name = l.name.toLowerCase();
      lines.push(`listener.name.${name}.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required${plainUsers};`);
      for (const m of ['scram-sha-256', 'scram-sha-512']) lines.push(`listener.name.${name}.${m}.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** StorageTool's --add-scram arguments: each user under both SCRAM mechanisms. */
function scramArgs(users: ReadonlyArray<{ username: string; password: string }>): string[] {
  return users.flatMap((u) => ['SCRAM-SHA-256', 'SCRAM-SHA-512'].flatMap((m) => ['--add-scram', `${m}=[name=${u.username},password=${u.password}]`]));
}

/** WARN and above to stderr; KafkaRaftServer at INFO so "Kafka Server started" shows. */
const LOG4J2_PROPERTIES = [
  '# Written by Kindling (src/kafka/broker.ts).',
  'status = warn',
  'name = kindling-kafka',
  'shutdownHook = disable',
  'appender.stderr.type = Console',
  'appender.stderr.name = STDERR',
  'appender.stderr.target = SYSTEM_ERR',
  'appender.stderr.layout.type = PatternLayout',
  'appender.stderr.layout.pattern = [%d{HH:mm:ss,SSS}] %p %m (%c)%n',
  'rootLogger.level = warn',
  'rootLogger.appenderRef.stderr.ref = STDERR',
  'logger.raft.name = kafka.server.KafkaRaftServer',
  'logger.raft.level = info',
  'logger.logmanager.name = kafka.log.LogManager',
  'logger.logmanager.level = info',
  '',
].join('\n');

/** Asks the OS for a free TCP port on 127.0.0.1 (free now; something else may take it later). */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? res(port) : rej(new Error('could not get a free port'))));
    });
  });
}

async function assertPortFree(port: number, role: string): Promise<void> {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`The ${role} port must be an integer from 1 to 65535, got ${port}`);
  }
  const err = await new Promise<NodeJS.ErrnoException | undefined>((res) => {
    const srv = createServer();
    srv.once('error', (e: NodeJS.ErrnoException) => res(e));
    srv.listen(port, '127.0.0.1', () => srv.close(() => res(undefined)));
  });
  if (err) {
    const hint = err.code === 'EADDRINUSE' ? ' (is another broker already running? choose another port)' : '';
    throw new Error(`The ${role} port 127.0.0.1:${port} cannot be used: ${err.code ?? err.message}${hint}`);
  }
}

function tcpOpen(port: number): Promise<boolean> {
  return new Promise((res) => {
    const sock = createConnection({ host: '127.0.0.1', port });
    const done = (ok: boolean): void => {
      sock.destroy();
      res(ok);
    };
    sock.setTimeout(1000, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

/** Runs a command to completion, collecting stdout+stderr; code is null if it was killed. */
function run(
  cmd: string,
  args: string[],
  o: { timeoutMs: number; cwd?: string },
): Promise<{ code: number | null; output: string }> {
  return new Promise((res) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(o.cwd ? { cwd: o.cwd } : {}) });
    let output = '';
    const add = (b: Buffer): void => {
      output += b.toString('utf8');
      if (output.length > 200_000) output = output.slice(-100_000);
    };
    child.stdout.on('data', add);
    child.stderr.on('data', add);
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      res({ code: null, output: `${output}\n${err.message}` });
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      res({ code, output });
    });
  });
}

/** The last `n` lines the broker printed, without Java stack frames, for error messages. */
function lastLines(lines: readonly string[], n: number): string {
  return lines.filter((l) => !/^\s+(at |\.\.\. \d+ more)/.test(l)).slice(-n).join('\n');
}

function tail(text: string, lines: number): string {
  return text.replace(/\u001b\[[0-9;]*m/g, '').trimEnd().split('\n').slice(-lines).join('\n');
}
