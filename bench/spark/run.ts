// `npm run bench:spark`: the lab's Spark job and Kindling, one after the other, on the same pre-filled Kafka topic; figures side by side.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { cpus, homedir, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { findJava, findMaven, startBroker, type KafkaBroker } from '../../src/kafka/broker.js';
import { projectRoot } from '../../src/engine/pool.js';
import { crashAlertsPlan } from '../../src/plan/queries.js';
import { runPlanReference } from '../../src/plan/reference.js';
import type { Row, WindowValue } from '../../src/plan/types.js';
import { labEventJson } from '../../src/source/lab-events.js';
import { benchSpec } from '../fixtures.js';
import { saveResults } from '../results.js';

const log = (s: string): void => {
  process.stderr.write(s + '\n');
};

/** The comparison's settings (flags of `npm run bench:spark`). */
export interface SparkBenchOptions {
  events: number;
  /** Lab generator knobs; users are fewer than the lab's 1000 so a few hundred alert rows are compared, not a few dozen. */
  users: number;
  seed: number;
  brokers: string | null;
  topic: string | null;
  maxOffsetsPerTrigger: number;
  driverMemory: string;
  cores: number;
  partitions: number;
  python: string;
  /** The Python with pyspark-client for the lab's script through `kindling run` (null: those two runs are left out). */
  clientPython: string | null;
  /** The Kafka connector's jars (comma-separated paths) instead of fetching its Maven coordinate. */
  connectorJars: string | null;
}

const DEFAULTS: SparkBenchOptions = {
  events: 1_500_000,
  users: 200,
  seed: 1,
  brokers: null,
  topic: null,
  maxOffsetsPerTrigger: 100_000,
  driverMemory: '1g',
  cores: 2,
  partitions: 2,
  python: process.env['PYTHON'] ?? 'python3',
  clientPython: process.env['KINDLING_PYSPARK_CLIENT'] ?? null,
  connectorJars: null,
};

/** The lab's Activity 3 script as a student writes it (a cluster master, kafka:9092, the console sink, awaitTermination()). */
const LAB_SCRIPT = join(projectRoot(), 'test', 'fixtures', 'pyspark', 'lab_crash_alerts.py');

const USAGE = `Usage: npm run bench:spark -- [flags]

Runs the lab's Activity 3 job on PySpark (bench/spark/crash_alerts.py: local[2], shuffle partitions 2)
and then Kindling (--cores 2 --partitions 2) on the same Kafka topic, each reading everything the topic
holds in batches of --max-offsets-per-trigger offsets (Spark: Trigger.AvailableNow; Kindling:
--available-now), never at the same time. Prints throughput, batch latency, peak RSS and whether the
alert rows agree (with each other and with Kindling's single-threaded oracle); writes
bench/results/spark.json and .md.

  --events N                   events in the topic (default ${DEFAULTS.events}); the topic is filled once with
                               \`kindling produce\` and reused while it holds exactly these events
  --users N                    distinct users (default ${DEFAULTS.users}; the lab's 1000 gives few alerts)
  --seed N                     generator seed (default ${DEFAULTS.seed})
  --brokers HOST:PORT          an existing broker (default: start one on 127.0.0.1, data in bench/.data/kafka-spark)
  --topic NAME                 default lab-spark-<events>-u<users>-s<seed>
  --max-offsets-per-trigger N  batch size for both engines (default ${DEFAULTS.maxOffsetsPerTrigger})
  --driver-memory SIZE         Spark driver memory (default ${DEFAULTS.driverMemory})
  --cores N --partitions N     Kindling's (default 2 and 2)
  --python CMD                 the Python with PySpark (default $PYTHON or python3)
  --client-python CMD          the Python with pyspark-client (default $KINDLING_PYSPARK_CLIENT): then the lab's own
                               script (test/fixtures/pyspark/lab_crash_alerts.py, unchanged) also runs twice, through
                               \`kindling run\` and in PySpark, with the same overrides on both sides (broker, availableNow,
                               a json sink, a fresh checkpoint; Spark: local[2], bench/spark/lab_overrides)
  --connector-jars PATHS       the Kafka connector's jars, comma-separated, instead of its Maven coordinate`;

function parseArgs(argv: readonly string[]): SparkBenchOptions | null {
  const o = { ...DEFAULTS };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (flag === '--help' || flag === '-h') return null;
    const v = argv[++i];
    if (v === undefined) throw new Error(`${flag} needs a value`);
    const int = (): number => {
      if (!/^\d+$/.test(v) || Number(v) < 1) throw new Error(`${flag} must be an integer >= 1; got '${v}'`);
      return Number(v);
    };
    switch (flag) {
      case '--events': o.events = int(); break;
      case '--users': o.users = int(); break;
      case '--seed': o.seed = int(); break;
      case '--brokers': o.brokers = v; break;
      case '--topic': o.topic = v; break;
      case '--max-offsets-per-trigger': o.maxOffsetsPerTrigger = int(); break;
      case '--driver-memory': o.driverMemory = v; break;
      case '--cores': o.cores = int(); break;
      case '--partitions': o.partitions = int(); break;
      case '--python': o.python = v; break;
      case '--client-python': o.clientPython = v; break;
      case '--connector-jars': o.connectorJars = v; break;
      default: throw new Error(`unknown flag ${flag}; see --help`);
    }
  }
  return o;
}

// ---- prerequisites -----------------------------------------------------------------------------

/** Why the comparison cannot run here, with what to do about it. */
class MissingPrerequisite extends Error {}

function pysparkVersion(python: string): string {
  const r = spawnSync(python, ['-c', 'import pyspark; print(pyspark.__version__)'], { encoding: 'utf8', timeout: 60_000 });
  if (r.error || r.status !== 0) {
    const why = r.error ? `${python} could not be run (${r.error.message})` : `${python} has no pyspark module`;
    throw new MissingPrerequisite(
      `The Spark comparison needs PySpark: ${why}.\n` +
        `  Install it:        pip install pyspark        (or --python /path/to/a/python that has it)\n` +
        `  Then the connector: mvn -B dependency:get -Dartifact=org.apache.spark:spark-sql-kafka-0-10_2.13:<pyspark version>\n` +
        `  (Spark's Ivy looks in ~/.m2 first; the runner also tries this itself.) Java 17+ is needed too.`,
    );
  }
  return r.stdout.trim();
}

/** PySpark versions whose Spark jars (the Kafka connector among them) Maven Central served, as last checked. */
const CONNECTOR_VERSIONS_SEEN = '4.0.0-4.0.4, 4.1.0-4.1.3 and 4.2.0';

/** Makes sure the Kafka connector matching PySpark is in ~/.m2 (where spark.jars.packages looks first). */
function primeConnector(version: string): string {
  const coordinate = `org.apache.spark:spark-sql-kafka-0-10_2.13:${version}`;
  const jar = join(homedir(), '.m2', 'repository', 'org', 'apache', 'spark', 'spark-sql-kafka-0-10_2.13', version, `spark-sql-kafka-0-10_2.13-${version}.jar`);
  if (existsSync(jar)) return coordinate;
  log(`  priming ~/.m2 with ${coordinate} (mvn dependency:get)...`);
  // findMaven checks that mvn runs (with an install hint if not); it returns mvn's version line, not a path.
  findMaven();
  // The 3.x plugin resolves runtime dependencies only; Maven's default 2.8 also asks for test jars that Central lacks.
  const r = spawnSync('mvn', ['-B', '-q', 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1:get', `-Dartifact=${coordinate}`], { encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0 || !existsSync(jar)) {
    const why = r.error ? r.error.message : `mvn exited ${r.status}`;
    throw new MissingPrerequisite(
      `Could not fetch Spark's Kafka connector ${coordinate} from Maven Central (${why}).\n` +
        `  A PySpark release can reach PyPI before Spark's jars of that version reach Maven Central: on 2026-12-02\n` +
        `  they were published for ${CONNECTOR_VERSIONS_SEEN}, not for 4.0.5 (which PyPI had).\n` +
        `  Install a PySpark whose connector is published (e.g. pip install 'pyspark==4.0.4') and run again.\n` +
        `${r.stderr ?? ''}${r.stdout ?? ''}`.replace(/\u001b\[[0-9;]*m/g, '').trim().split('\n').slice(0, 1).join('\n'),
    );
  }
  return coordinate;
}

// ---- the topic ---------------------------------------------------------------------------------

const START_TIME = '2024-11-25T10:40:00Z';
const EVENT_RATE = 10_000;

/** Events in the topic (sum over its partitions), or null when it does not exist. */
async function topicEvents(brokers: string, topic: string): Promise<{ events: number; fromZero: boolean } | null> {
  const kafka = new Kafka({ clientId: 'kindling-bench-spark', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    if (!(await admin.listTopics()).includes(topic)) return null;
    const offsets = await admin.fetchTopicOffsets(topic);
    return { events: offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0), fromZero: offsets.every((p) => p.low === '0') };
  } finally {
    await admin.disconnect();
  }
}

async function deleteTopic(brokers: string, topic: string): Promise<void> {
  const kafka = new Kafka({ clientId: 'kindling-bench-spark', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics: [topic], timeout: 30_000 });
    for (let i = 0; i < 120 && (await admin.listTopics()).includes(topic); i++) await new Promise((r) => setTimeout(r, 250));
  } finally {
    await admin.disconnect();
  }
}

/** Fills the topic with `kindling produce` unless it already holds exactly these events. */
async function ensureTopic(o: SparkBenchOptions, brokers: string, topic: string): Promise<void> {
  const found = await topicEvents(brokers, topic);
  if (found && found.events === o.events && found.fromZero) {
    log(`  reusing topic ${topic} (${o.events.toLocaleString('en-US')} events)`);
    return;
  }
  if (found) {
    log(`  topic ${topic} holds ${found.events.toLocaleString('en-US')} events, not ${o.events.toLocaleString('en-US')}: deleting it`);
    await deleteTopic(brokers, topic);
  }
  log(`  filling topic ${topic} with ${o.events.toLocaleString('en-US')} events (kindling produce, 2 topic partitions)...`);
  const code = await runQuiet(process.execPath, [
    join(projectRoot(), 'dist', 'src', 'main.js'), 'produce', '--brokers', brokers, '--topic', topic, '--partitions', '2',
    '--events', String(o.events), '--rate', '0', '--seed', String(o.seed), '--users', String(o.users),
    '--start-time', START_TIME, '--event-rate', String(EVENT_RATE), '--quiet',
  ]);
  if (code !== 0) throw new Error(`kindling produce exited with code ${code}`);
  const after = await topicEvents(brokers, topic);
  if (!after || after.events !== o.events) throw new Error(`topic ${topic} holds ${after?.events ?? 0} events after producing ${o.events}`);
}

function runQuiet(command: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

// ---- measuring a run ---------------------------------------------------------------------------

/** Resident memory of a process and all its descendants (Spark: python, spark-submit and the JVM), from /proc. */
function treeRssBytes(rootPid: number): number {
  const children = new Map<number, number[]>();
  const rss = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const pid = Number(name);
      const list = children.get(ppid) ?? [];
      list.push(pid);
      children.set(ppid, list);
      rss.set(pid, Number(readFileSync(`/proc/${name}/statm`, 'utf8').split(' ')[1]) * 4096);
    } catch {
      // The process ended between the listing and the read.
    }
  }
  let total = 0;
  const stack = [rootPid];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    total += rss.get(pid) ?? 0;
    stack.push(...(children.get(pid) ?? []));
  }
  return total;
}

interface Measured {
  code: number;
  /** The machine's 1-minute load average when the run started: other work competing for the cores. */
  loadBefore: number;
  wallMs: number;
  peakRssBytes: number;
  stdout: string;
}

/** Runs a command, sampling the RSS of its process tree every 100 ms; stderr goes to `logFile`. */
async function measure(command: string, args: string[], logFile: string, env: NodeJS.ProcessEnv = process.env): Promise<Measured> {
  const loadBefore = loadavg()[0]!;
  const started = performance.now();
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let peak = 0;
  const timer = setInterval(() => {
    if (child.pid !== undefined) peak = Math.max(peak, treeRssBytes(child.pid));
  }, 100);
  const code = await new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c) => resolve(c ?? 1));
  });
  clearInterval(timer);
  await writeFile(logFile, stderr);
  return { code, loadBefore, wallMs: performance.now() - started, peakRssBytes: peak, stdout };
}

/** What both engines report, computed the same way from their per-batch progress records. */
export interface EngineFigures {
  engine: string;
  batches: number;
  inputRows: number;
  /** Input rows / (end of the last batch - start of the first): processing only, start-up excluded. */
  eventsPerSecond: number;
  /** Input rows / the process's whole wall time, start-up included. */
  eventsPerSecondWithStartup: number;
  wallMs: number;
  batchP50Ms: number;
  batchMaxMs: number;
  /** Median over batches with input of duration x 100,000 / rows: batch cost at equal size (the engines' batches may differ in size). */
  msPer100kP50: number;
  peakRssMb: number;
  rows: number;
  /** 1-minute load average at the start of the run (2 cores: above ~2, other work was competing). */
  loadBefore: number;
}

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

/** Figures from progress lines: `timestamp` is a batch's start (ISO), `durationMs[key]` its length. */
function figures(engine: string, progressFile: string, durationKey: string, m: Measured, rows: number): EngineFigures {
  const records = readFileSync(progressFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { timestamp: string; numInputRows: number; durationMs: Record<string, number> });
  const withInput = records.filter((r) => r.numInputRows > 0);
  const inputRows = records.reduce((n, r) => n + r.numInputRows, 0);
  const first = Math.min(...records.map((r) => Date.parse(r.timestamp)));
  const last = Math.max(...records.map((r) => Date.parse(r.timestamp) + (r.durationMs[durationKey] ?? 0)));
  const durations = withInput.map((r) => r.durationMs[durationKey] ?? 0);
  return {
    engine,
    batches: records.length,
    inputRows,
    eventsPerSecond: (inputRows * 1000) / Math.max(1, last - first),
    eventsPerSecondWithStartup: (inputRows * 1000) / m.wallMs,
    wallMs: m.wallMs,
    batchP50Ms: quantile(durations, 0.5),
    batchMaxMs: Math.max(0, ...durations),
    msPer100kP50: quantile(withInput.map((r) => ((r.durationMs[durationKey] ?? 0) * 100_000) / r.numInputRows), 0.5),
    peakRssMb: m.peakRssBytes / 2 ** 20,
    rows,
    loadBefore: m.loadBefore,
  };
}

/** Alert rows as comparable keys: window bounds in epoch ms (Spark and Kindling print them alike, but parse to be sure). */
function rowKeys(dir: string, match: RegExp): string[] {
  const keys: string[] = [];
  if (!existsSync(dir)) return keys;
  for (const name of readdirSync(dir).filter((n) => match.test(n)).sort()) {
    for (const line of readFileSync(join(dir, name), 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const r = JSON.parse(line) as { window: { start: string; end: string }; user_id: string; crash_count: number };
      keys.push(`${Date.parse(r.window.start)}|${Date.parse(r.window.end)}|${r.user_id}|${r.crash_count}`);
    }
  }
  return keys.sort();
}

/** The oracle's rows for the topic's events (no late rows: one batch gives the same answer as any cut). */
function oracleKeys(o: SparkBenchOptions): string[] {
  const spec = { ...benchSpec(o.seed), users: o.users, startTimeMs: Date.parse(START_TIME), eventsPerSecond: EVENT_RATE };
  function* batches(): Generator<string[]> {
    for (let i = 0; i < o.events; i += 100_000) {
      const b: string[] = [];
      for (let k = i; k < Math.min(o.events, i + 100_000); k++) b.push(labEventJson(spec, k));
      yield b;
    }
  }
  const r = runPlanReference(crashAlertsPlan, batches());
  const key = ([w, user, count]: Row): string => `${(w as WindowValue).startUs / 1000}|${(w as WindowValue).endUs / 1000}|${String(user)}|${String(count)}`;
  return r.batches.flatMap((b) => b.rows.map(key)).sort();
}

function compare(a: string[], b: string[]): { equal: boolean; onlyA: string[]; onlyB: string[] } {
  const sa = new Set(a);
  const sb = new Set(b);
  const onlyA = a.filter((k) => !sb.has(k));
  const onlyB = b.filter((k) => !sa.has(k));
  return { equal: onlyA.length === 0 && onlyB.length === 0 && a.length === b.length, onlyA, onlyB };
}

// ---- the comparison ----------------------------------------------------------------------------

function machine(): string {
  const c = cpus();
  return `${c.length} logical CPU(s), ${c[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, load average ${loadavg()[0]!.toFixed(1)} at the end`;
}

async function main(argv: string[]): Promise<number> {
  const o = parseArgs(argv);
  if (!o) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  let version: string;
  let connector: string;
  try {
    version = pysparkVersion(o.python);
    const java = findJava();
    connector = o.connectorJars ?? primeConnector(version);
    log(`spark bench: PySpark ${version}, ${java.description}, connector ${connector}`);
  } catch (err) {
    if (err instanceof MissingPrerequisite || (err as Error).name === 'KafkaToolchainError') {
      log((err as Error).message);
      return 3;
    }
    throw err;
  }
  const out = join(projectRoot(), 'bench', '.data', 'spark-run');
  await rm(out, { recursive: true, force: true });
  await mkdir(join(out, 'spark'), { recursive: true });
  await mkdir(join(out, 'kindling'), { recursive: true });

  let broker: KafkaBroker | null = null;
  const onSignal = (): void => {
    void broker?.stop().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  try {
    let brokers = o.brokers;
    if (!brokers) {
      log('  starting a Kafka broker on 127.0.0.1 (data kept in bench/.data/kafka-spark, so the topic is reused next time)...');
      broker = await startBroker({ port: 0, dataDir: join(projectRoot(), 'bench', '.data', 'kafka-spark') });
      brokers = broker.brokers;
    }
    const topic = o.topic ?? `lab-spark-${o.events}-u${o.users}-s${o.seed}`;
    await ensureTopic(o, brokers, topic);

    log('  computing the oracle\'s rows (single-threaded reference)...');
    const oracle = oracleKeys(o);

    log(`  running Spark (local[2], shuffle partitions 2, driver memory ${o.driverMemory}, maxOffsetsPerTrigger ${o.maxOffsetsPerTrigger})...`);
    const sparkRun = await measure(
      o.python,
      [join(projectRoot(), 'bench', 'spark', 'crash_alerts.py'), '--brokers', brokers, '--topic', topic, '--out', join(out, 'spark'),
        '--max-offsets-per-trigger', String(o.maxOffsetsPerTrigger), '--driver-memory', o.driverMemory, '--connector', connector],
      join(out, 'spark', 'stderr.log'),
    );
    if (sparkRun.code !== 0) {
      const tail = readFileSync(join(out, 'spark', 'stderr.log'), 'utf8').trim().split('\n').slice(-15).join('\n');
      throw new Error(`the Spark job exited with code ${sparkRun.code}; the end of its log (${join(out, 'spark', 'stderr.log')}):\n${tail}`);
    }
    const sparkRows = rowKeys(join(out, 'spark', 'rows'), /^part-.*\.json$/);
    const spark = figures('Spark (PySpark ' + version + ')', join(out, 'spark', 'progress.jsonl'), 'triggerExecution', sparkRun, sparkRows.length);
    log(`    ${spark.batches} batches, ${spark.inputRows.toLocaleString('en-US')} rows in, ${sparkRows.length} alert rows, ${Math.round(spark.eventsPerSecond).toLocaleString('en-US')} events/s`);

    log(`  running Kindling (--cores ${o.cores} --partitions ${o.partitions}, --max-offsets-per-trigger ${o.maxOffsetsPerTrigger})...`);
    const kindlingRun = await measure(
      process.execPath,
      [join(projectRoot(), 'dist', 'src', 'main.js'), '--source', 'kafka', '--brokers', brokers, '--topic', topic, '--available-now',
        '--starting-offsets', 'earliest', '--max-offsets-per-trigger', String(o.maxOffsetsPerTrigger), '--cores', String(o.cores),
        '--partitions', String(o.partitions), '--sink', `jsonl:${join(out, 'kindling', 'rows')}`, '--no-ui', '--quiet',
        '--progress-json', join(out, 'kindling', 'progress.jsonl'), '--group', `bench-spark-${process.pid}`],
      join(out, 'kindling', 'stderr.log'),
    );
    if (kindlingRun.code !== 0) {
      const tail = readFileSync(join(out, 'kindling', 'stderr.log'), 'utf8').trim().split('\n').slice(-15).join('\n');
      throw new Error(`Kindling exited with code ${kindlingRun.code}:\n${tail}`);
    }
    const kindlingRows = rowKeys(join(out, 'kindling', 'rows'), /\.jsonl$/);
    const kindling = figures(`Kindling --cores ${o.cores} --partitions ${o.partitions}`, join(out, 'kindling', 'progress.jsonl'), 'total', kindlingRun, kindlingRows.length);

    const script = o.clientPython ? await runLabScript(o, o.clientPython, brokers, topic, connector, out, oracle) : null;

    const agree = compare(sparkRows, kindlingRows);
    const sparkVsOracle = compare(sparkRows, oracle);
    const kindlingVsOracle = compare(kindlingRows, oracle);
    const result = {
      machine: machine(),
      at: new Date().toISOString(),
      settings: { ...o, topic, connector, startTime: START_TIME, eventRate: EVENT_RATE },
      spark,
      kindling,
      ratios: {
        throughput: kindling.eventsPerSecond / spark.eventsPerSecond,
        throughputWithStartup: kindling.eventsPerSecondWithStartup / spark.eventsPerSecondWithStartup,
        batchP50: spark.batchP50Ms / Math.max(0.001, kindling.batchP50Ms),
        msPer100k: spark.msPer100kP50 / Math.max(0.001, kindling.msPer100kP50),
        peakRss: spark.peakRssMb / kindling.peakRssMb,
      },
      rows: {
        spark: sparkRows.length,
        kindling: kindlingRows.length,
        oracle: oracle.length,
        sparkEqualsKindling: agree.equal,
        sparkEqualsOracle: sparkVsOracle.equal,
        kindlingEqualsOracle: kindlingVsOracle.equal,
        onlySpark: agree.onlyA.slice(0, 10),
        onlyKindling: agree.onlyB.slice(0, 10),
      },
      script,
    };
    const md = table(result);
    await writeResults(result, md);
    process.stdout.write('\n' + md + '\n');
    return agree.equal && (script === null || script.rows.sparkEqualsKindling) ? 0 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    if (broker) await broker.stop();
  }
}

/** The lab's script run in PySpark and through `kindling run`, one after the other, on the topic: figures, ratios, rows. */
async function runLabScript(o: SparkBenchOptions, clientPython: string, brokers: string, topic: string, connector: string, out: string, oracle: string[]): Promise<ScriptComparison> {
  const sparkOut = join(out, 'spark-script');
  const kindlingOut = join(out, 'kindling-script');
  await mkdir(sparkOut, { recursive: true });
  await mkdir(kindlingOut, { recursive: true });
  const args = [LAB_SCRIPT, topic, String(o.maxOffsetsPerTrigger)];
  log(`  running the lab's script in PySpark (local[2], the overrides in bench/spark/lab_overrides)...`);
  const sparkRun = await measure(o.python, args, join(sparkOut, 'stderr.log'), {
    ...process.env,
    PYTHONPATH: [join(projectRoot(), 'bench', 'spark', 'lab_overrides'), join(projectRoot(), 'src', 'connect', 'python'), process.env['PYTHONPATH']].filter(Boolean).join(':'),
    KINDLING_BENCH_LAB_BROKERS: brokers,
    KINDLING_BENCH_LAB_OUT: sparkOut,
    KINDLING_BENCH_LAB_DRIVER_MEMORY: o.driverMemory,
    KINDLING_BENCH_LAB_CONNECTOR: connector,
  });
  if (sparkRun.code !== 0) throw new Error(`the lab's script in PySpark exited with code ${sparkRun.code}; see ${join(sparkOut, 'stderr.log')}`);
  const sparkRows = rowKeys(join(sparkOut, 'rows'), /^part-.*\.json$/);
  const spark = figures("PySpark, the lab's script (local[2])", join(sparkOut, 'progress.jsonl'), 'triggerExecution', sparkRun, sparkRows.length);
  log(`    ${spark.batches} batches, ${sparkRows.length} alert rows, ${Math.round(spark.eventsPerSecond).toLocaleString('en-US')} events/s`);

  log(`  running the lab's script through kindling run (--cores ${o.cores} --partitions ${o.partitions})...`);
  const kindlingRun = await measure(
    process.execPath,
    [join(projectRoot(), 'dist', 'src', 'main.js'), 'run', LAB_SCRIPT, '--python', clientPython, '--brokers', brokers, '--available-now',
      '--checkpoint-dir', join(kindlingOut, 'checkpoint'), '--sink', `jsonl:${join(kindlingOut, 'rows')}`, '--no-ui',
      '--progress-json', join(kindlingOut, 'progress.jsonl'), '--cores', String(o.cores), '--partitions', String(o.partitions), '--', ...args.slice(1)],
    join(kindlingOut, 'stderr.log'),
  );
  if (kindlingRun.code !== 0) throw new Error(`kindling run exited with code ${kindlingRun.code}; see ${join(kindlingOut, 'stderr.log')}`);
  const kindlingRows = rowKeys(join(kindlingOut, 'rows'), /\.jsonl$/);
  const kindling = figures(`kindling run, the lab's script (--cores ${o.cores} --partitions ${o.partitions})`, join(kindlingOut, 'progress.jsonl'), 'total', kindlingRun, kindlingRows.length);
  const agree = compare(sparkRows, kindlingRows);
  return {
    spark,
    kindling,
    ratios: {
      throughput: kindling.eventsPerSecond / spark.eventsPerSecond,
      throughputWithStartup: kindling.eventsPerSecondWithStartup / spark.eventsPerSecondWithStartup,
      peakRss: spark.peakRssMb / kindling.peakRssMb,
    },
    rows: { sparkEqualsKindling: agree.equal, kindlingEqualsOracle: compare(kindlingRows, oracle).equal, sparkEqualsOracle: compare(sparkRows, oracle).equal },
  };
}

/** The lab's script in both engines. */
interface ScriptComparison {
  spark: EngineFigures;
  kindling: EngineFigures;
  ratios: { throughput: number; throughputWithStartup: number; peakRss: number };
  rows: { sparkEqualsKindling: boolean; kindlingEqualsOracle: boolean; sparkEqualsOracle: boolean };
}

function table(r: {
  machine: string;
  at: string;
  settings: SparkBenchOptions & { topic: string };
  spark: EngineFigures;
  kindling: EngineFigures;
  ratios: { throughput: number; throughputWithStartup: number; batchP50: number; msPer100k: number; peakRss: number };
  rows: { spark: number; kindling: number; oracle: number; sparkEqualsKindling: boolean; sparkEqualsOracle: boolean; kindlingEqualsOracle: boolean };
  script: ScriptComparison | null;
}): string {
  const f = (x: number, d = 0): string => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  const line = (e: EngineFigures): string =>
    `| ${e.engine} | ${f(e.eventsPerSecond)} | ${f(e.eventsPerSecondWithStartup)} | ${e.batches} | ${f(e.batchP50Ms)} | ${f(e.batchMaxMs)} | ${f(e.msPer100kP50)} | ${f(e.peakRssMb)} | ${e.rows} | ${f(e.loadBefore, 1)} |`;
  const s = r.settings;
  return [
    `# spark benchmark\n\n${r.at} on ${r.machine}\n`,
    `Topic ${s.topic}: ${f(s.events)} lab events (seed ${s.seed}, ${s.users} users, 2 topic partitions), read from the earliest offset in batches of at most ${f(s.maxOffsetsPerTrigger)} offsets; crash-alerts (Activity 3).\n`,
    '| engine | events/s (batches) | events/s (with start-up) | batches | batch p50 ms | batch max ms | ms per 100k events (p50) | peak RSS MB | alert rows | load avg at start |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    line(r.spark),
    line(r.kindling),
    ...(r.script ? [line(r.script.spark), line(r.script.kindling)] : []),
    '',
    ...(r.script
      ? [
          `The lab's script (test/fixtures/pyspark/lab_crash_alerts.py, unchanged; both runs with the broker, availableNow, a json sink and a fresh checkpoint put over it): ` +
            `kindling run vs PySpark: throughput ${f(r.script.ratios.throughput, 1)}x (with start-up, Python's included, ${f(r.script.ratios.throughputWithStartup, 1)}x), peak RSS ${f(r.script.ratios.peakRss, 1)}x smaller; ` +
            `alert rows equal: ${r.script.rows.sparkEqualsKindling ? 'yes' : 'NO'} (kindling run = oracle: ${r.script.rows.kindlingEqualsOracle ? 'yes' : 'no'}; PySpark = oracle: ${r.script.rows.sparkEqualsOracle ? 'yes' : 'no'}).`,
        ]
      : ["(The lab's script through kindling run was not run: give --client-python or set KINDLING_PYSPARK_CLIENT.)"]),
    `Kindling vs Spark: throughput ${f(r.ratios.throughput, 1)}x (with start-up ${f(r.ratios.throughputWithStartup, 1)}x), batch p50 ${f(r.ratios.batchP50, 1)}x shorter (${f(r.ratios.msPer100k, 1)}x per 100k events), peak RSS ${f(r.ratios.peakRss, 1)}x smaller.`,
    `Alert rows: Spark ${r.rows.spark}, Kindling ${r.rows.kindling}, oracle ${r.rows.oracle}; Spark = Kindling: ${r.rows.sparkEqualsKindling ? 'yes' : 'NO'}; Spark = oracle: ${r.rows.sparkEqualsOracle ? 'yes' : 'no'}; Kindling = oracle: ${r.rows.kindlingEqualsOracle ? 'yes' : 'no'}.`,
  ].join('\n');
}

async function writeResults(result: unknown, md: string): Promise<void> {
  await saveResults('spark', result, md, log);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    log(`spark bench failed: ${(err as Error).message}`);
    process.exit(1);
  },
);
