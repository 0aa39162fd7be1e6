// The run command's flags, the Config they make, and core detection.
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { parseFlags, STANDARD_FLAGS, standardAnswer, type FlagName, type FlagSpec, type FlagValues } from './cli.js';
import { UsageError } from './errors.js';
import { RETAINED_BATCHES } from './checkpoint/recovery.js';
import { BUILTIN_PLANS } from './engine/query-module.js';
import { OUTPUT_MODES, type OutputMode } from './plan/plan.js';
import { parseBrokerList } from './source/kafka-address.js';
import { SASL_MECHANISMS } from './source/kafka-sasl.js';
import { SECURITY_PROTOCOLS, securityFrom, type KafkaSecurity } from './source/kafka-security.js';
import { DEFAULT_GENERATOR, type GeneratorSpec } from './source/lab-events.js';

const G = 'Query and engine';
const GEN = 'Generator source (--source generator, the default)';
const FILE = 'File source (--source file)';
const KAFKA = 'Kafka source (--source kafka, or just give --brokers)';
const CKPT = 'Checkpoints';
const OUT = 'Output';
const SEE = 'Seeing inside (progress, terminal view, web UI)';

/** The flags of `kindling run` (the default command). */
export const RUN_FLAGS = [
  { name: 'query', kind: 'string', group: G, default: 'crash-alerts', valueName: 'NAME|PATH', help: `built-in query (${Object.keys(BUILTIN_PLANS).join(', ')}) or the path of an ES module whose default export (or \`query\`) is a plan: readStream(schema)...toQuery({ name, outputMode }) (docs/queries.md)` },
  { name: 'explain', kind: 'bool', group: G, help: "print the query's plan and how Kindling runs it (pre-check, stage 1, stage 2), then exit without running it" },
  { name: 'output-mode', kind: 'enum', group: G, choices: OUTPUT_MODES, defaultText: "the query's own (crash-alerts: append; vulnerability-by-ip: complete)", help: 'append: final rows once a window completes; update: changed rows each batch; complete: the whole result each batch' },
  { name: 'cores', kind: 'int', group: G, min: 1, max: 256, defaultText: 'physical cores detected (/proc/cpuinfo, else systeminformation; capped by the cgroup CPU quota)', help: 'worker threads' },
  { name: 'partitions', kind: 'int', group: G, min: 1, max: 100_000, defaultText: 'same as --cores', help: "hash partitions of the key space (Spark's spark.sql.shuffle.partitions); 200 works and shows its overhead" },
  { name: 'trigger', kind: 'int', group: G, min: 0, valueName: 'MS', defaultText: '0, or 1000 for the rate-limited generator so output stays readable', help: 'processing-time trigger: start a batch at most every MS ms; 0 starts the next batch as soon as the last one finished' },
  { name: 'drain', kind: 'bool', group: G, help: 'when a finite input ends or on Ctrl-C, flush windows still open as rows tagged forced' },
  { name: 'max-record-bytes', kind: 'int', group: G, min: 1, default: 1_048_576, help: 'records longer than this are rejected (counted and logged), never parsed' },
  { name: 'source', kind: 'enum', group: G, choices: ['generator', 'file', 'kafka'], default: 'generator', defaultText: 'generator, or kafka when --brokers is given', help: 'where events come from' },
  { name: 'events', kind: 'int', group: GEN, min: 0, defaultText: 'unlimited', help: 'stop after N events (then the run ends after a last no-data batch)' },
  { name: 'rate', kind: 'int', group: GEN, min: 0, default: 10_000, help: "events per second of wall-clock time (default: the low end of the lab's TARGET_RPS range, 10,000-100,000 per producer); 0: as fast as possible" },
  { name: 'seed', kind: 'int', group: GEN, min: 0, max: 0xffffffff, default: DEFAULT_GENERATOR.seed, help: 'random seed: the same seed and start time give the same events' },
  { name: 'start-time', kind: 'string', group: GEN, valueName: 'ISO|MS', defaultText: 'now', help: 'event time of the first event' },
  { name: 'event-rate', kind: 'int', group: GEN, min: 1, defaultText: '--rate, or 10000 when --rate is 0', help: 'events per second of event time (timestamps advance by 1000/N ms per event)' },
  { name: 'users', kind: 'int', group: GEN, min: 1, default: DEFAULT_GENERATOR.users, help: 'distinct user_id values, user_1000 upwards, uniform' },
  { name: 'source-ips', kind: 'int', group: GEN, min: 1, max: 254, default: DEFAULT_GENERATOR.sourceIps, help: 'distinct source_ip values 192.168.1.x' },
  { name: 'crash-one-in', kind: 'int', group: GEN, min: 1, default: DEFAULT_GENERATOR.crashOneIn, help: "one event in N gets the term \"crash\" (the lab's ADDITIONAL_TERM_RATE)" },
  { name: 'vulnerability-one-in', kind: 'int', group: GEN, min: 1, default: DEFAULT_GENERATOR.vulnerabilityOneIn, help: 'one event in N mentions a "vulnerability"' },
  { name: 'late-fraction', kind: 'number', group: GEN, min: 0, max: 1, default: 0, help: 'fraction of events whose timestamp is pushed back (late or out of order)' },
  { name: 'late-spread-ms', kind: 'int', group: GEN, min: 0, default: 0, help: 'how far back a late event goes, at most (uniform)' },
  { name: 'path', kind: 'string', group: FILE, valueName: 'DIR|FILE', help: 'NDJSON files, read in name order (hidden files skipped)' },
  { name: 'max-files-per-batch', kind: 'int', group: FILE, min: 1, help: "whole files per batch (Spark's maxFilesPerTrigger)" },
  { name: 'max-events-per-batch', kind: 'int', group: FILE, min: 1, defaultText: 'file: unset; generator: 100000', help: 'records per batch (file and generator sources)' },
  { name: 'allow-empty', kind: 'bool', group: FILE, help: 'run even when --path holds nothing to read (no files, or only empty ones); without it that is a usage error (exit 2)' },
  { name: 'max-bytes-per-batch', kind: 'int', group: FILE, min: 1024, default: 16 * 1_048_576, help: 'bytes per batch when neither limit above is given; a batch holds the records that start in its bytes' },
  { name: 'brokers', kind: 'string', group: KAFKA, env: 'KAFKA_BROKERS', valueName: 'HOST:PORT[,...]', help: 'Kafka bootstrap brokers (npm run kafka starts one on 127.0.0.1:9092); giving --brokers selects --source kafka, KAFKA_BROKERS alone does not' },
  { name: 'topic', kind: 'string', group: KAFKA, default: 'logs', help: 'topic to read, every partition of it' },
  { name: 'group', kind: 'string', group: KAFKA, defaultText: 'kindling-<query name>', help: 'consumer group Kindling commits its offsets to, as advice for Kafka tools only (they then show the lag); a run resumes from --checkpoint-dir, never from these' },
  { name: 'starting-offsets', kind: 'enum', group: KAFKA, choices: ['earliest', 'latest'], default: 'latest', help: "where a run without a checkpoint starts: latest reads only events produced from now on (Spark's default for streaming queries, and Kindling's); earliest reads everything the topic holds" },
  { name: 'max-offsets-per-trigger', kind: 'int', group: KAFKA, min: 1, defaultText: 'no limit: all fetched', help: "at most N offsets per batch, split across topic partitions in proportion to their backlog (Spark's maxOffsetsPerTrigger)" },
  { name: 'kafka-isolation-level', kind: 'enum', group: KAFKA, choices: ['read_uncommitted', 'read_committed'], default: 'read_uncommitted', help: "Spark's kafka.isolation.level: read_uncommitted reads every record, aborted and still-open transactions' too; read_committed reads up to the last stable offset and drops aborted transactions' records" },
  { name: 'fail-on-data-loss', kind: 'enum', group: KAFKA, choices: ['true', 'false'], default: 'true', help: "Spark's failOnDataLoss for a topic deleted and recreated: true stops the run; false reads the new topic from its earliest offsets with a warning and a count" },
  { name: 'kafka-security-protocol', kind: 'enum', group: KAFKA, choices: SECURITY_PROTOCOLS, default: 'PLAINTEXT', help: "Spark's kafka.security.protocol: SSL is TLS, SASL_PLAINTEXT a SASL login without TLS, SASL_SSL both" },
  { name: 'kafka-sasl-mechanism', kind: 'enum', group: KAFKA, choices: SASL_MECHANISMS, default: 'PLAIN', help: "Spark's kafka.sasl.mechanism, for SASL_PLAINTEXT and SASL_SSL" },
  { name: 'kafka-sasl-username', kind: 'string', group: KAFKA, valueName: 'USER', help: "the SASL user (the username of Spark's kafka.sasl.jaas.config); the password comes from KAFKA_SASL_PASSWORD or --kafka-sasl-password-file, never from a flag" },
  { name: 'kafka-sasl-password-file', kind: 'string', group: KAFKA, valueName: 'FILE', help: 'a file holding the SASL password (one trailing newline is ignored); otherwise the KAFKA_SASL_PASSWORD environment variable' },
  { name: 'kafka-ssl-truststore-location', kind: 'string', group: KAFKA, valueName: 'FILE', defaultText: "the system's CA certificates", help: "Spark's kafka.ssl.truststore.location with ssl.truststore.type=PEM: the CA certificate(s) to trust, PEM" },
  { name: 'kafka-ssl-keystore-location', kind: 'string', group: KAFKA, valueName: 'FILE', help: "Spark's kafka.ssl.keystore.location with ssl.keystore.type=PEM: the client certificate chain and its private key in one PEM file, for brokers that ask for one" },
  { name: 'available-now', kind: 'bool', group: KAFKA, help: "read what the topic holds at start (in batches), then stop, like Spark's Trigger.AvailableNow" },
  { name: 'checkpoint-dir', kind: 'string', group: CKPT, valueName: 'DIR', defaultText: 'none: a restart starts over', help: 'offsets log, commit log and state snapshots; a restart with the same query resumes where the last run stopped (created if missing)' },
  { name: 'checkpoint-every', kind: 'int', group: CKPT, min: 1, default: 10, valueName: 'N', help: 'write a state snapshot every N batches (the offsets and commit logs are written every batch)' },
  { name: 'checkpoint-retain', kind: 'int', group: CKPT, min: 1, valueName: 'N', defaultText: `${RETAINED_BATCHES.toLocaleString('en-US')} batches (about 80 MiB of small files)`, help: 'keep the offsets and commit log entries of the newest N batches (and always those a restore needs), so kindling explain and what-if can replay the run' },
  { name: 'sink', kind: 'string', repeatable: true, group: OUT, default: ['console'], valueName: 'console|jsonl:DIR|kafka:TOPIC|none', help: 'where rows go. jsonl:DIR writes DIR/batch-<id>.jsonl atomically in Spark\'s JSON shape; kafka:TOPIC writes them to TOPIC (created if missing; value: the row as JSON, key: the grouping key), exactly once with --checkpoint-dir: one Kafka transaction per batch' },
  { name: 'sink-topic', kind: 'string', group: OUT, valueName: 'TOPIC', help: "the older spelling of --sink kafka:TOPIC: --sink kafka --sink-topic TOPIC (Spark's topic option)" },
  { name: 'sink-brokers', kind: 'string', group: OUT, valueName: 'HOST:PORT[,...]', defaultText: '--brokers (or KAFKA_BROKERS)', help: '--sink kafka:TOPIC: the brokers of TOPIC; it connects as the Kafka source does (--kafka-security-protocol and the rest)' },
  { name: 'quiet', kind: 'bool', group: SEE, help: 'no per-batch progress in the terminal, neither the live view nor plain lines (rows and the final summary still print)' },
  { name: 'progress-json', kind: 'string', group: SEE, valueName: 'FILE|-', help: "write each batch's progress record (Spark's StreamingQueryProgress fields plus tasks, workers, CPU and memory) as one JSON line to FILE, or to stdout with -" },
  { name: 'ui-port', kind: 'int', group: SEE, min: 0, max: 65_535, defaultText: "4040; if busy, the next free of 4041-4056 as Spark's UI does", help: 'port of the web UI (0: any free port). A port given here must be free, or the run exits with code 2' },
  { name: 'ui-host', kind: 'string', group: SEE, default: '127.0.0.1', valueName: 'HOST', help: 'address the web UI listens on (0.0.0.0 shows it to other machines)' },
  { name: 'no-ui', kind: 'bool', group: SEE, help: 'no web UI' },
  ...STANDARD_FLAGS,
] as const satisfies readonly FlagSpec[];

/** One flag of `kindling run`. */
type RunFlag = (typeof RUN_FLAGS)[number];
/** The name of a flag of `kindling run`. */
export type RunFlagName = FlagName<typeof RUN_FLAGS>;
/** Parsed `kindling run` flags, typed by the table. */
export type RunFlagValues = FlagValues<typeof RUN_FLAGS>;

/** Everything a run needs, decided once at start. */
export interface RunConfig {
  readonly queryRef: string;
  /** --explain: print the plan and exit. */
  readonly explain: boolean;
  readonly outputMode: OutputMode | null;
  readonly cores: number;
  readonly partitions: number;
  readonly triggerMs: number;
  readonly drain: boolean;
  readonly maxRecordBytes: number;
  readonly source:
    | { kind: 'generator'; spec: GeneratorSpec; rate: number; events: number | null; maxEventsPerBatch: number; startTimeGiven?: boolean }
    | { kind: 'file'; path: string; maxFilesPerBatch: number | null; maxEventsPerBatch: number | null; maxBytesPerBatch: number; allowEmpty?: boolean }
    | {
        kind: 'kafka';
        brokers: string[];
        topic: string;
        groupId: string;
        startingOffsets: 'earliest' | 'latest';
        maxOffsetsPerTrigger: number | null;
        availableNow: boolean;
        isolationLevel: 'read_uncommitted' | 'read_committed';
        failOnDataLoss: boolean;
        /** TLS and SASL; absent: PLAINTEXT. */
        security?: KafkaSecurity;
      };
  readonly sinks: ReadonlyArray<{ kind: 'console' } | { kind: 'jsonl'; dir: string } | { kind: 'kafka'; topic: string; brokers: string[]; security?: KafkaSecurity }>;
  /** --checkpoint-dir, --checkpoint-every and --checkpoint-retain; null: no checkpoint (a restart starts over). */
  readonly checkpoint?: { readonly dir: string; readonly every: number; readonly retain?: number } | null;
  readonly quiet: boolean;
  /** --progress-json: a path, '-' for stdout, or null. */
  readonly progressJson: string | null;
  /** The web UI, or null with --no-ui. `explicitPort`: the user gave --ui-port, so a busy port is an error. */
  readonly ui: { readonly host: string; readonly port: number; readonly explicitPort: boolean } | null;
}

/** Reads the cgroup v2 CPU quota (`/sys/fs/cgroup/cpu.max`) as whole cores, or null when unlimited. */
async function cgroupCores(): Promise<number | null> {
  try {
    const [quota, period] = (await readFile('/sys/fs/cgroup/cpu.max', 'utf8')).trim().split(/\s+/);
    if (quota === undefined || quota === 'max' || period === undefined) return null;
    return Math.max(1, Math.ceil(Number(quota) / Number(period)));
  } catch {
    return null;
  }
}

/**
 * Physical cores from /proc/cpuinfo on Linux: distinct (physical id, core id) pairs, as
 * systeminformation counts them, in a few ms instead of the ~120 ms its import and cpu() took here
 * before the first batch. Null where the file is missing or says nothing of cores.
 */
export function physicalCoresFromCpuinfo(text: string): number | null {
  const cores = new Set<string>();
  let physical = '0';
  for (const line of text.split('\n')) {
    const m = /^(physical id|core id)\s*:\s*(\S+)/.exec(line);
    if (!m) continue;
    if (m[1] === 'physical id') physical = m[2]!;
    else cores.add(`${physical}:${m[2]}`);
  }
  return cores.size > 0 ? cores.size : null;
}

/** Physical cores (/proc/cpuinfo, else systeminformation), capped by a cgroup CPU quota; falls back to availableParallelism. */
export async function detectCores(): Promise<number> {
  let cores = availableParallelism();
  try {
    const fromCpuinfo = physicalCoresFromCpuinfo(await readFile('/proc/cpuinfo', 'utf8').catch(() => ''));
    if (fromCpuinfo !== null) cores = fromCpuinfo;
    else {
      // Not Linux (or no core ids): systeminformation, imported only here.
      const { default: si } = await import('systeminformation');
      const cpu = await si.cpu();
      if (cpu.physicalCores > 0) cores = cpu.physicalCores;
    }
  } catch {
    // The CPU could not be read: keep the OS's count.
  }
  const quota = await cgroupCores();
  return Math.max(1, quota === null ? cores : Math.min(cores, quota));
}

/**
 * The topic of `--sink kafka:TOPIC` (or of the older `--sink kafka --sink-topic TOPIC`), checked
 * against Kafka's rule for topic names so a typo fails here with the flag, not at the broker.
 */
export function kafkaSinkTopic(raw: string, sinkTopic: string | undefined): string {
  if (raw === 'kafka') {
    if (sinkTopic === undefined || sinkTopic === '') throw new UsageError("--sink kafka needs a topic: --sink kafka:TOPIC (or the older --sink kafka --sink-topic TOPIC)");
    return checkTopicName(sinkTopic, '--sink-topic');
  }
  const topic = raw.slice('kafka:'.length);
  if (sinkTopic !== undefined) throw new UsageError(`--sink ${raw} names its topic; --sink-topic '${sinkTopic}' is the older spelling of the same thing: give one`);
  if (topic === '') throw new UsageError("--sink kafka:TOPIC needs a topic after 'kafka:'; got 'kafka:'");
  return checkTopicName(topic, '--sink kafka:TOPIC');
}

/** Kafka's topic names: 1-249 of [a-zA-Z0-9._-], not "." or "..". */
function checkTopicName(topic: string, flag: string): string {
  if (!/^[a-zA-Z0-9._-]{1,249}$/.test(topic) || topic === '.' || topic === '..') {
    throw new UsageError(`${flag}: a Kafka topic name is 1 to 249 letters, digits, '.', '_' or '-' (not '.' or '..'); got '${topic}'`);
  }
  return topic;
}

/** --sink kafka:TOPIC: the topic and brokers, and the Kafka source's security settings when it has them. */
function kafkaSinkFrom(raw: string, values: RunFlagValues, source: RunConfig['source']): { kind: 'kafka'; topic: string; brokers: string[]; security?: KafkaSecurity } {
  const topic = kafkaSinkTopic(raw, values['sink-topic']);
  const brokers = values['sink-brokers'] ?? values['brokers'];
  if (brokers === undefined) throw new UsageError('--sink kafka:TOPIC needs --sink-brokers HOST:PORT (or --brokers, or KAFKA_BROKERS)');
  const security = source.kind === 'kafka' ? source.security : undefined;
  return { kind: 'kafka', topic, brokers: parseBrokerList(brokers, '--sink-brokers'), ...(security ? { security } : {}) };
}

function checkpointFrom(values: RunFlagValues, given: ReadonlySet<RunFlagName>): RunConfig['checkpoint'] {
  const dir = values['checkpoint-dir'];
  if (dir === undefined) {
    if (given.has('checkpoint-every')) throw new UsageError('--checkpoint-every needs --checkpoint-dir DIR (where the snapshots go)');
    if (given.has('checkpoint-retain')) throw new UsageError('--checkpoint-retain needs --checkpoint-dir DIR (where the offsets and commit logs go)');
    return null;
  }
  return { dir, every: values['checkpoint-every'], retain: values['checkpoint-retain'] ?? RETAINED_BATCHES };
}

function parseStartTime(raw: string | undefined, nowMs: number): number {
  if (raw === undefined) return nowMs;
  if (/^-?\d+$/.test(raw)) return Number(raw);
  const ms = Date.parse(raw);
  if (Number.isNaN(ms)) throw new UsageError(`--start-time must be an ISO 8601 date or epoch milliseconds; got '${raw}'`);
  return ms;
}

/** The web UI's settings; --no-ui together with --ui-port or --ui-host is a contradiction, reported as such (kindling run SCRIPT.py and connect too). */
export function uiConfig(values: Pick<RunFlagValues, 'no-ui' | 'ui-host' | 'ui-port'>, given: ReadonlySet<string>): RunConfig['ui'] {
  if (values['no-ui']) {
    for (const f of ['ui-port', 'ui-host'] as const) if (given.has(f)) throw new UsageError(`--${f} sets up the web UI, which --no-ui turns off; give one of them`);
    return null;
  }
  return { host: values['ui-host'], port: values['ui-port'] ?? 4040, explicitPort: given.has('ui-port') };
}

/** One flag of the generator source. */
type GeneratorFlag = Extract<RunFlag, { readonly group: typeof GEN }>;
/** The generator's flags (`kindling produce` takes the same ones). */
export const GENERATOR_FLAGS: readonly GeneratorFlag[] = RUN_FLAGS.filter((f): f is GeneratorFlag => f.group === GEN);
const GENERATOR_FLAG_NAMES = GENERATOR_FLAGS.map((f) => f.name);
const KAFKA_FLAG_NAMES = RUN_FLAGS.filter((f) => f.group === KAFKA).map((f) => f.name);
const FILE_FLAG_NAMES = ['path', 'max-files-per-batch', 'max-bytes-per-batch', 'allow-empty'] as const;

/** The generator's stream settings from its flags (`rate` picks the event-time rate when --event-rate is absent). */
export function generatorSpecFrom(values: FlagValues<typeof GENERATOR_FLAGS>, nowMs: number): GeneratorSpec {
  const rate = values['rate'];
  return {
    ...DEFAULT_GENERATOR,
    seed: values['seed'],
    startTimeMs: parseStartTime(values['start-time'], nowMs),
    eventsPerSecond: values['event-rate'] ?? (rate > 0 ? rate : 10_000),
    users: values['users'],
    sourceIps: values['source-ips'],
    crashOneIn: values['crash-one-in'],
    vulnerabilityOneIn: values['vulnerability-one-in'],
    lateFraction: values['late-fraction'],
    lateSpreadMs: values['late-spread-ms'],
  };
}

/** The TLS and SASL flags, shared by `kindling run` and `kindling produce`. */
export const SECURITY_FLAG_NAMES = [
  'kafka-security-protocol', 'kafka-sasl-mechanism', 'kafka-sasl-username', 'kafka-sasl-password-file', 'kafka-ssl-truststore-location', 'kafka-ssl-keystore-location',
] as const satisfies readonly RunFlagName[];

/** The security settings those flags give (files read, the password from its file or the environment); usage errors name the flag. */
export function securityFromFlags(values: Pick<RunFlagValues, (typeof SECURITY_FLAG_NAMES)[number]>, given: ReadonlySet<string>, env: NodeJS.ProcessEnv = process.env): KafkaSecurity | undefined {
  return securityFrom({
    protocol: values['kafka-security-protocol'],
    mechanism: values['kafka-sasl-mechanism'],
    username: values['kafka-sasl-username'],
    passwordFile: values['kafka-sasl-password-file'],
    caFile: values['kafka-ssl-truststore-location'],
    keystoreFile: values['kafka-ssl-keystore-location'],
    given,
  }, env);
}

/** The source a run reads: --source when given, else Kafka when --brokers is on the command line (KAFKA_BROKERS alone does not pick it). */
function sourceKindOf(values: RunFlagValues, given: ReadonlySet<RunFlagName>): RunConfig['source']['kind'] {
  return !given.has('source') && given.has('brokers') ? 'kafka' : values['source'];
}

/** Turns parsed flags into a RunConfig, checking the rules between flags. */
export async function runConfigFrom(values: RunFlagValues, given: ReadonlySet<RunFlagName>, nowMs = Date.now()): Promise<RunConfig> {
  const cores = values['cores'] ?? (await detectCores());
  const sourceKind = sourceKindOf(values, given);
  const onlyFor = (flags: readonly RunFlagName[], kind: string): void => {
    for (const f of flags) if (given.has(f)) throw new UsageError(`--${f} applies to --source ${kind}; this run uses --source ${sourceKind}`);
  };
  let source: RunConfig['source'];
  if (sourceKind !== 'kafka') onlyFor(KAFKA_FLAG_NAMES, 'kafka');
  if (sourceKind === 'kafka') {
    onlyFor(GENERATOR_FLAG_NAMES, 'generator');
    onlyFor(FILE_FLAG_NAMES, 'file');
    if (given.has('max-events-per-batch')) throw new UsageError('--max-events-per-batch applies to the file and generator sources; cut Kafka batches with --max-offsets-per-trigger');
    const queryName = values['query'].replace(/^.*[\\/]/, '').replace(/\.[cm]?[jt]s$/, '');
    source = {
      kind: 'kafka',
      brokers: parseBrokerList(values['brokers'], '--source kafka'),
      topic: values['topic'],
      groupId: values['group'] ?? `kindling-${queryName}`,
      startingOffsets: values['starting-offsets'],
      maxOffsetsPerTrigger: values['max-offsets-per-trigger'] ?? null,
      availableNow: values['available-now'],
      isolationLevel: values['kafka-isolation-level'],
      failOnDataLoss: values['fail-on-data-loss'] === 'true',
    };
    const security = securityFromFlags(values, given);
    if (security) source = { ...source, security };
  } else if (sourceKind === 'file') {
    onlyFor(GENERATOR_FLAG_NAMES, 'generator');
    const path = values['path'];
    if (path === undefined) throw new UsageError('--source file needs --path DIR|FILE (NDJSON files)');
    if (given.has('max-files-per-batch') && given.has('max-events-per-batch')) {
      throw new UsageError('--max-files-per-batch and --max-events-per-batch cut batches in different ways; give one of them');
    }
    source = {
      kind: 'file',
      path,
      maxFilesPerBatch: values['max-files-per-batch'] ?? null,
      maxEventsPerBatch: values['max-events-per-batch'] ?? null,
      maxBytesPerBatch: values['max-bytes-per-batch'],
      allowEmpty: values['allow-empty'],
    };
  } else {
    onlyFor(FILE_FLAG_NAMES, 'file');
    source = {
      kind: 'generator',
      rate: values['rate'],
      events: values['events'] ?? null,
      maxEventsPerBatch: values['max-events-per-batch'] ?? 100_000,
      startTimeGiven: given.has('start-time'),
      spec: generatorSpecFrom(values, nowMs),
    };
  }
  const sinks = values['sink'].map((raw) => {
    if (raw === 'console') return { kind: 'console' as const };
    if (raw.startsWith('jsonl:') && raw.length > 'jsonl:'.length) return { kind: 'jsonl' as const, dir: raw.slice('jsonl:'.length) };
    if (raw === 'none') return null;
    if (raw === 'kafka' || raw.startsWith('kafka:')) return kafkaSinkFrom(raw, values, source);
    throw new UsageError(`--sink must be console, jsonl:DIR, kafka:TOPIC or none; got '${raw}'`);
  });
  const kafkaSinks = values['sink'].filter((raw) => raw === 'kafka' || raw.startsWith('kafka:'));
  if (kafkaSinks.length > 1) throw new UsageError(`--sink kafka:TOPIC may be given once; got ${kafkaSinks.map((r) => `'${r}'`).join(' and ')}`);
  if (kafkaSinks.length === 0) for (const f of ['sink-topic', 'sink-brokers'] as const) if (given.has(f)) throw new UsageError(`--${f} applies to --sink kafka:TOPIC`);
  const rateLimited = source.kind === 'generator' && source.rate > 0;
  return {
    queryRef: values['query'],
    explain: values['explain'],
    outputMode: values['output-mode'] ?? null,
    cores,
    partitions: values['partitions'] ?? cores,
    triggerMs: values['trigger'] ?? (rateLimited ? 1000 : 0),
    drain: values['drain'],
    maxRecordBytes: values['max-record-bytes'],
    source,
    sinks: sinks.filter((s): s is NonNullable<typeof s> => s !== null),
    checkpoint: checkpointFrom(values, given),
    quiet: values['quiet'],
    progressJson: values['progress-json'] ?? null,
    ui: uiConfig(values, given),
  };
}

/** `kindling run`'s argv parsed: a RunConfig, or the --help/--version answer it asked for. */
export type RunArgs = { readonly config: RunConfig; readonly answer: null } | { readonly config: null; readonly answer: 'help' | 'version' };

/** Parses `kindling run` argv into a RunConfig (UsageError on bad flags). */
export async function parseRunArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<RunArgs> {
  const { values, positionals, given } = parseFlags(argv, RUN_FLAGS, env);
  if (!argv.some((a) => a === '--brokers' || a.startsWith('--brokers='))) given.delete('brokers');
  const answer = standardAnswer(values);
  if (answer) return { config: null, answer };
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'; flags start with -- (see --help)`);
  return { config: await runConfigFrom(values, given), answer: null };
}
