// Kafka benchmark: a topic pre-filled by `kindling produce`, drained by kafkajs (the baseline) and by the engine, plus live runs with consumer lag.
//
//   node dist/bench/kafka.js            (KAFKA_BROKERS=host:port to use a running broker; else one is started on 127.0.0.1)
//   KINDLING_BENCH_KAFKA_EVENTS=3000000, KINDLING_BENCH_KAFKA_LIVE_S=15 change the sizes.
//
// Every figure is from this one run on this machine and is reported as a ratio to kafkajs's own
// raw consume rate of the same topic; the engine's output is checked against the oracle before
// its time counts.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { startBroker, type KafkaBroker } from '../src/kafka/broker.js';
import { waitFor } from '../src/kafka/wait.js';
import { projectRoot } from '../src/engine/pool.js';
import type { ProgressRecord } from '../src/metrics/progress.js';
import type { RecordLatency } from '../src/metrics/record-latency.js';
import { rowToJson } from '../src/plan/output.js';
import { crashAlertsPlan } from '../src/plan/queries.js';
import { runPlanReference } from '../src/plan/reference.js';
import { DEFAULT_GENERATOR, labEventJson, type GeneratorSpec } from '../src/source/lab-events.js';
import { KafkaSource } from '../src/source/kafka.js';
import { LIBRDKAFKA_SCRIPT, librdkafkaPython } from './librdkafka.js';
import { saveResults } from './results.js';

const MAIN = join(projectRoot(), 'dist', 'src', 'main.js');
const SELF = fileURLToPath(import.meta.url);
const TOPIC_PARTITIONS = 2;
const START_TIME = '2024-11-25T10:40:00Z';
const EVENT_RATE = 10_000;

const log = (s: string): void => {
  process.stderr.write(s + '\n');
};
const f = (x: number, d = 0): string => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

/** The stream `kindling produce --seed <seed> --start-time START_TIME --event-rate EVENT_RATE` writes. */
function benchSpec(seed: number, startTimeMs = Date.parse(START_TIME), eventsPerSecond = EVENT_RATE): GeneratorSpec {
  return { ...DEFAULT_GENERATOR, seed, startTimeMs, eventsPerSecond };
}

// ---- child processes

interface ChildRun {
  code: number | null;
  stderr: string;
  wallMs: number;
  /** Peak resident set (VmHWM), sampled from /proc while it ran; 0 where /proc is missing. */
  peakRssMb: number;
}

/** Runs a node script to completion, sampling its peak RSS; `onStart` gets the child (to signal it). */
function runNode(args: readonly string[], onStart?: (pid: number, stop: () => void) => void): Promise<ChildRun> {
  return runProcess(process.execPath, args, onStart);
}

/** Runs a program to completion, sampling its peak RSS; `onStart` gets the child (to signal it). */
function runProcess(command: string, args: readonly string[], onStart?: (pid: number, stop: () => void) => void): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    let peak = 0;
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const sample = (): void => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peak = Math.max(peak, Number(m[1]) / 1024);
      } catch {
        // exited or no /proc
      }
    };
    const timer = setInterval(sample, 50);
    child.on('error', reject);
    child.on('exit', () => clearInterval(timer));
    child.on('close', (code) => {
      clearInterval(timer);
      resolve({ code, stderr: stderr + stdout, wallMs: performance.now() - started, peakRssMb: peak });
    });
    onStart?.(child.pid!, () => child.kill('SIGINT'));
  });
}

/** `kindling produce` of `events` events at `rate` (0: as fast as possible); returns its own reported rate. */
async function produce(brokers: string, topic: string, events: number, rate: number, seed: number, extra: string[] = []): Promise<{ eventsPerSecond: number; run: ChildRun }> {
  const run = await runNode([MAIN, 'produce', '--brokers', brokers, '--topic', topic, '--events', String(events), '--rate', String(rate), '--seed', String(seed), '--quiet', ...extra]);
  const m = /produce: done: ([\d,]+) events to .* \(([\d,]+) events\/s\)/.exec(run.stderr);
  if (run.code !== 0 || !m || Number(m[1]!.replace(/,/g, '')) !== events) throw new Error(`kindling produce failed (exit ${run.code}):\n${run.stderr}`);
  return { eventsPerSecond: Number(m[2]!.replace(/,/g, '')), run };
}

// ---- raw consumers (run as children of this script: `node kafka.js --raw kafkajs|kindling BROKERS TOPIC N`)

interface RawResult {
  records: number;
  /** From the first fetched batch to the last one. */
  ms: number;
  eventsPerSecond: number;
}

/** kafkajs's own consumer, fetch and discard: eachBatch counting messages, fetch sizes like Kindling's. */
async function rawKafkajs(brokers: string, topic: string, expected: number): Promise<RawResult> {
  const kafka = new Kafka({ clientId: 'kindling-bench-raw', brokers: brokers.split(','), logLevel: logLevel.ERROR });
  const consumer = kafka.consumer({ groupId: `kindling-bench-raw-${Date.now()}`, maxBytesPerPartition: 2 << 20, maxBytes: 8 << 20, minBytes: 1, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let records = 0;
  let first = 0;
  let last = 0;
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      if (first === 0) first = performance.now();
      records += batch.messages.length;
      last = performance.now();
    },
  });
  await waitFor(() => records >= expected, { timeoutMs: 600_000, intervalMs: 20, what: `${expected} records consumed by kafkajs` });
  await consumer.disconnect();
  return { records, ms: last - first, eventsPerSecond: (records * 1000) / (last - first) };
}

/** Kindling's own fetch path alone (KafkaSource polled and discarded): what the engine's source can deliver. */
async function rawKindling(brokers: string, topic: string, expected: number): Promise<RawResult> {
  const source = new KafkaSource({ brokers: brokers.split(','), topic, groupId: 'kindling-bench-raw', startingOffsets: 'earliest', maxOffsetsPerTrigger: null, availableNow: true, splitBytes: 1 << 20, log: () => undefined });
  let records = 0;
  let first = 0;
  let last = 0;
  for (;;) {
    const r = await source.poll();
    if (r.kind === 'end') break;
    if (r.kind !== 'batch') continue;
    if (first === 0) first = performance.now();
    records += r.batch.records ?? 0;
    last = performance.now();
  }
  await source.close();
  if (records !== expected) throw new Error(`Kindling's source read ${records} records, expected ${expected}`);
  return { records, ms: last - first, eventsPerSecond: (records * 1000) / (last - first) };
}

/** What librdkafka (confluent-kafka's Consumer in Python, tuned) reads the topic at, fetching and discarding, with its peak RSS. */
async function rawLibrdkafka(python: string, brokers: string, topic: string, expected: number): Promise<RawResult & { client: string; peakRssMb: number }> {
  const run = await runProcess(python, [LIBRDKAFKA_SCRIPT, brokers, topic, String(expected)]);
  const line = run.stderr.trim().split('\n').at(-1) ?? '';
  if (run.code !== 0 || !line.startsWith('{')) throw new Error(`the librdkafka reader failed (exit ${run.code}):\n${run.stderr}`);
  const r = JSON.parse(line) as RawResult & { client: string };
  if (r.records !== expected) throw new Error(`the librdkafka reader read ${r.records} records, the topic holds ${expected}`);
  return { ...r, peakRssMb: run.peakRssMb };
}

async function rawChild(kind: 'kafkajs' | 'kindling', brokers: string, topic: string, expected: number): Promise<RawResult> {
  const run = await runNode([SELF, '--raw', kind, brokers, topic, String(expected)]);
  const line = run.stderr.trim().split('\n').at(-1) ?? '';
  if (run.code !== 0 || !line.startsWith('{')) throw new Error(`raw ${kind} consumer failed (exit ${run.code}):\n${run.stderr}`);
  return JSON.parse(line) as RawResult;
}

// ---- the engine, checked against the oracle

type Offsets = Record<string, Record<string, number>>;

async function readProgress(file: string): Promise<ProgressRecord[]> {
  if (!existsSync(file)) return [];
  return (await readFile(file, 'utf8'))
    .split('\n')
    .filter((l) => l.trim())
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as ProgressRecord];
      } catch {
        return [];
      }
    });
}

/**
 * The oracle's jsonl output for the engine's batches. The topic holds one producer's stream, so
 * event i sits at topic partition i mod P, offset floor(i / P) (checked through the end offsets);
 * each batch's records are regenerated from its recorded offset ranges.
 */
function oracleFiles(progress: readonly ProgressRecord[], topic: string, spec: GeneratorSpec, partitions: number): Record<string, string> {
  const byId = new Map<number, ProgressRecord>();
  for (const p of progress) byId.set(p.batchId, p);
  const ids = [...byId.keys()].sort((a, b) => a - b);
  function* batches(): Generator<string[]> {
    for (const id of ids) {
      const s = byId.get(id)!.sources[0]!;
      const records: string[] = [];
      if (s.startOffset !== null) {
        const start = (s.startOffset as Offsets)[topic]!;
        const end = (s.endOffset as Offsets)[topic]!;
        for (const [key, from] of Object.entries(start)) {
          const partition = Number(key);
          for (let offset = from; offset < end[key]!; offset++) records.push(labEventJson(spec, offset * partitions + partition));
        }
      }
      yield records;
    }
  }
  const oracle = runPlanReference(crashAlertsPlan, batches());
  const out: Record<string, string> = {};
  for (const b of oracle.batches) {
    // A batch past the engine's last is the oracle's closing no-data batch: the engine ran its own before stopping, so it has no rows.
    const name = b.batchId < ids.length ? `batch-${ids[b.batchId]}.jsonl` : `oracle-extra-batch-${b.batchId}.jsonl`;
    if (b.rows.length > 0) out[name] = b.rows.map((row) => rowToJson(row, oracle.columns)).join('\n') + '\n';
  }
  return out;
}

async function readSinkDir(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  if (!existsSync(dir)) return out;
  for (const name of (await readdir(dir)).sort()) out[name] = await readFile(join(dir, name), 'utf8');
  return out;
}

/** A digest of a folder's files, independent of the order they were listed in. */
const digest = (files: Record<string, string>): string =>
  createHash('sha256')
    .update(JSON.stringify(Object.keys(files).sort().map((k) => [k, files[k]])))
    .digest('hex')
    .slice(0, 12);

interface DrainResult {
  cores: number;
  /** The topic's record batch codec (`kindling produce --compression`); absent: uncompressed. */
  codec?: string;
  records: number;
  batches: number;
  /** From the first batch's start to the last batch's end (progress timestamps + durations). */
  ms: number;
  eventsPerSecond: number;
  peakRssMb: number;
  rowsDigest: string;
}

/** The engine drains the topic (--available-now) at `cores`; throws if its output is not the oracle's. */
async function engineDrain(brokers: string, topic: string, events: number, spec: GeneratorSpec, cores: number, work: string, codec?: string): Promise<DrainResult> {
  const out = join(work, `drain-${cores}${codec ? `-${codec}` : ''}`);
  const progressFile = `${out}.jsonl`;
  const run = await runNode([MAIN, '--brokers', brokers, '--topic', topic, '--starting-offsets', 'earliest', '--available-now', '--cores', String(cores), '--partitions', String(cores), '--sink', `jsonl:${out}`, '--progress-json', progressFile, '--no-ui', '--quiet']);
  if (run.code !== 0) throw new Error(`engine --cores ${cores} failed (exit ${run.code}):\n${run.stderr}`);
  const progress = await readProgress(progressFile);
  const records = progress.reduce((n, p) => n + p.numInputRows, 0);
  if (records !== events) throw new Error(`engine --cores ${cores} read ${records} records, the topic holds ${events}`);
  const expected = oracleFiles(progress, topic, spec, TOPIC_PARTITIONS);
  const got = await readSinkDir(out);
  if (digest(got) !== digest(expected)) {
    const differing = [...new Set([...Object.keys(got), ...Object.keys(expected)])].filter((k) => got[k] !== expected[k]);
    await writeFile(join(work, `drain-${cores}.expected.json`), JSON.stringify(expected, null, 1));
    throw new Error(
      `engine --cores ${cores}: output differs from the oracle on the same batches (${Object.keys(got).length} files vs ${Object.keys(expected).length}; differing: ${differing.join(', ')}); its time does not count. Kept in ${work}`,
    );
  }
  const data = progress.filter((p) => p.numInputRows > 0);
  const startMs = Date.parse(data[0]!.timestamp);
  const last = data.at(-1)!;
  const ms = Date.parse(last.timestamp) + last.durationMs.total - last.durationMs.source - startMs;
  return { cores, ...(codec ? { codec } : {}), records, batches: progress.length, ms, eventsPerSecond: (records * 1000) / ms, peakRssMb: run.peakRssMb, rowsDigest: digest(got) };
}

// ---- live runs: the lab's TARGET_RPS, lag sampled while it runs

interface LiveResult {
  targetRate: number;
  producedRate: number;
  events: number;
  /** Offsets behind the topic's end, sampled every 250 ms while the producer ran. */
  lagSamples: Array<{ atS: number; lag: number }>;
  lagP50: number;
  lagP99: number;
  lagMax: number;
  /**
   * Record latency (Kafka timestamp to the end of the batch that processed it) over the run: the
   * record-weighted median of the batches' p50, the record-weighted 99th percentile of their p99
   * (at least the run's true p99), and the largest max.
   */
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyMaxMs: number;
  /** The same p50/p99 over the batches that started WARM_UP_MS or more after the first: without the records that waited for the engine to start and connect. */
  steadyLatencyP50Ms: number;
  steadyLatencyP99Ms: number;
  /** After the producer stopped: until the engine's position reached the end. */
  catchUpMs: number;
  peakRssMb: number;
  outputMatchesOracle: boolean;
}

/** Live runs: batches this long after the first are "steady": the engine has started and connected. */
const WARM_UP_MS = 2000;

async function liveRun(brokers: string, rate: number, seconds: number, work: string): Promise<LiveResult> {
  const topic = `bench-live-${rate}-${Date.now()}`;
  const events = rate * seconds;
  const startTimeMs = Date.now();
  const spec = benchSpec(7, startTimeMs, rate);
  const admin = new Kafka({ clientId: 'kindling-bench-admin', brokers: brokers.split(','), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: TOPIC_PARTITIONS, replicationFactor: 1 }], waitForLeaders: true });
  const out = join(work, `live-${rate}`);
  const progressFile = join(work, `live-${rate}.jsonl`);
  let stopEngine: (() => void) | null = null;
  const engine = runNode(
    [MAIN, '--brokers', brokers, '--topic', topic, '--starting-offsets', 'earliest', '--sink', `jsonl:${out}`, '--progress-json', progressFile, '--no-ui', '--quiet', '--cores', '2'],
    (_pid, stop) => (stopEngine = stop),
  );
  const position = async (): Promise<number> => {
    const p = (await readProgress(progressFile)).filter((r) => r.sources[0]?.endOffset).at(-1);
    if (!p) return 0;
    return Object.values((p.sources[0]!.endOffset as Offsets)[topic]!).reduce((a, b) => a + b, 0);
  };
  const end = async (): Promise<number> => (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
  const samples: Array<{ atS: number; lag: number }> = [];
  let producing = true;
  const t0 = performance.now();
  const producer = produce(brokers, topic, events, rate, 7, ['--start-time', String(startTimeMs), '--event-rate', String(rate)]).finally(() => (producing = false));
  while (producing) {
    const [e, p] = await Promise.all([end(), position()]);
    samples.push({ atS: (performance.now() - t0) / 1000, lag: Math.max(0, e - p) });
    await new Promise((r) => setTimeout(r, 250));
  }
  const produced = await producer;
  const stopped = performance.now();
  await waitFor(async () => (await position()) >= events, { timeoutMs: 120_000, intervalMs: 50, what: `the engine to catch up with ${events} events` });
  const catchUpMs = performance.now() - stopped;
  // Once caught up, the engine runs a no-data batch if the watermark moved (as the oracle does at the
  // end); wait for it, or for a second without new batches, then stop it as a user would.
  let seen = (await readProgress(progressFile)).length;
  let changedAt = performance.now();
  await waitFor(
    async () => {
      const progress = await readProgress(progressFile);
      if (progress.slice(Math.max(0, seen - 1)).some((p) => p.kindling.noDataBatch)) return true;
      if (progress.length !== seen) {
        seen = progress.length;
        changedAt = performance.now();
      }
      return performance.now() - changedAt > 1000;
    },
    { timeoutMs: 30_000, intervalMs: 50, what: 'the engine to settle after catching up' },
  );
  stopEngine!();
  const run = await engine;
  await admin.disconnect();
  if (run.code !== 0) throw new Error(`live engine at ${rate}/s failed (exit ${run.code}):\n${run.stderr}`);
  const progress = await readProgress(progressFile);
  const outputMatchesOracle = digest(await readSinkDir(out)) === digest(oracleFiles(progress, topic, spec, TOPIC_PARTITIONS));
  const lags = samples.map((s) => s.lag).sort((a, b) => a - b);
  const q = (x: number): number => lags[Math.min(lags.length - 1, Math.floor(x * lags.length))] ?? 0;
  const latencies = progress.flatMap((p) => (p.kindling.recordLatencyMs ? [p.kindling.recordLatencyMs] : []));
  const firstStartMs = Math.min(...progress.map((p) => Date.parse(p.timestamp)));
  const steady = progress.flatMap((p) => (p.kindling.recordLatencyMs && Date.parse(p.timestamp) - firstStartMs >= WARM_UP_MS ? [p.kindling.recordLatencyMs] : []));
  const weighted = (pick: (l: RecordLatency) => number, quantile: number, of: readonly RecordLatency[] = latencies): number => {
    const sorted = [...of].sort((a, b) => pick(a) - pick(b));
    const total = sorted.reduce((n, l) => n + l.records, 0);
    let seen = 0;
    for (const l of sorted) if ((seen += l.records) > quantile * total) return pick(l);
    return sorted.length ? pick(sorted.at(-1)!) : 0;
  };
  return {
    targetRate: rate, producedRate: produced.eventsPerSecond, events, lagSamples: samples, lagP50: q(0.5), lagP99: q(0.99), lagMax: lags.at(-1) ?? 0,
    latencyP50Ms: weighted((l) => l.p50, 0.5), latencyP99Ms: weighted((l) => l.p99, 0.99), latencyMaxMs: Math.max(0, ...latencies.map((l) => l.max)),
    steadyLatencyP50Ms: weighted((l) => l.p50, 0.5, steady), steadyLatencyP99Ms: weighted((l) => l.p99, 0.99, steady),
    catchUpMs, peakRssMb: run.peakRssMb, outputMatchesOracle,
  };
}

// ---- the section

export interface KafkaBenchResult {
  brokers: string;
  brokerStartMs: number | null;
  events: number;
  producer: { oneEventsPerSecond: number; twoAtOnceEventsPerSecond: number };
  rawKafkajs: RawResult;
  rawKindlingSource: RawResult;
  /** librdkafka's reads of the uncompressed topic and of each codec's (`codec` absent: uncompressed); `skipped` says why there are none. */
  librdkafka: { client: string; reads: Array<RawResult & { codec?: string; peakRssMb: number }> } | { skipped: string };
  drains: DrainResult[];
  live: LiveResult[];
}

/** Runs the whole Kafka benchmark. */
export async function kafkaBench(options: { events: number; liveSeconds: number; log: (s: string) => void }): Promise<KafkaBenchResult> {
  const { events } = options;
  let broker: KafkaBroker | null = null;
  let brokers = process.env['KAFKA_BROKERS']?.trim() ?? '';
  let brokerStartMs: number | null = null;
  const work = await mkdtemp(join(tmpdir(), 'kindling-bench-kafka-'));
  let keep = false;
  try {
    if (!brokers) {
      options.log('kafka bench: starting a broker on 127.0.0.1 (set KAFKA_BROKERS to use a running one)...');
      broker = await startBroker({ port: 0 });
      brokers = broker.brokers;
      brokerStartMs = broker.timings.totalMs;
      options.log(`  Kafka ${broker.version} on ${brokers}, ready in ${f(broker.timings.totalMs / 1000, 1)} s`);
    }
    const topic = `bench-drain-${Date.now()}`;
    options.log(`kafka bench: pre-filling ${topic} with ${f(events)} events (kindling produce, ${TOPIC_PARTITIONS} partitions, as fast as it goes)...`);
    const one = await produce(brokers, topic, events, 0, 1, ['--partitions', String(TOPIC_PARTITIONS), '--start-time', START_TIME, '--event-rate', String(EVENT_RATE)]);
    options.log(`  producer: ${f(one.eventsPerSecond)} events/s`);
    const admin = new Kafka({ clientId: 'kindling-bench-admin', brokers: brokers.split(','), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const ends = await admin.fetchTopicOffsets(topic);
    await admin.disconnect();
    if (ends.length !== TOPIC_PARTITIONS || ends.some((e) => Number(e.high) !== events / TOPIC_PARTITIONS)) {
      throw new Error(`the topic's end offsets ${JSON.stringify(ends)} are not ${events / TOPIC_PARTITIONS} per partition: a send was retried, so offsets no longer map to event indexes`);
    }

    const twoTopic = `bench-two-${Date.now()}`;
    const half = Math.floor(events / 4);
    const twoStart = performance.now();
    await Promise.all([produce(brokers, twoTopic, half, 0, 2), produce(brokers, twoTopic, half, 0, 3)]);
    const twoAtOnce = (2 * half * 1000) / (performance.now() - twoStart);
    options.log(`  two producers at once: ${f(twoAtOnce)} events/s together (including their start-up)`);

    options.log('kafka bench: kafkajs raw consume (fetch and discard)...');
    const rawKafkajs = await rawChild('kafkajs', brokers, topic, events);
    options.log(`  kafkajs: ${f(rawKafkajs.eventsPerSecond)} events/s`);
    const rawKindlingSource = await rawChild('kindling', brokers, topic, events);
    options.log(`  Kindling's source alone: ${f(rawKindlingSource.eventsPerSecond)} events/s`);
    const python = librdkafkaPython(options.log);
    const librdkafkaReads: Array<RawResult & { codec?: string; peakRssMb: number }> = [];
    let librdkafkaClient = '';
    const librdkafkaRead = async (codecTopic: string, codec?: string): Promise<void> => {
      if (!('python' in python)) return;
      const r = await rawLibrdkafka(python.python, brokers, codecTopic, events);
      librdkafkaClient = r.client;
      librdkafkaReads.push({ records: r.records, ms: r.ms, eventsPerSecond: r.eventsPerSecond, peakRssMb: r.peakRssMb, ...(codec ? { codec } : {}) });
      options.log(`  librdkafka (${r.client})${codec ? `, ${codec}` : ''}: ${f(r.eventsPerSecond)} events/s`);
    };
    if ('skipped' in python) options.log(`  librdkafka row skipped: ${python.skipped}`);
    else options.log('kafka bench: librdkafka raw consume (confluent-kafka in Python, tuned; fetch and discard)...');
    await librdkafkaRead(topic);

    const drains: DrainResult[] = [];
    for (const cores of [1, 2]) {
      options.log(`kafka bench: engine drains the topic, --cores ${cores}...`);
      const d = await engineDrain(brokers, topic, events, benchSpec(1), cores, work);
      options.log(`  ${f(d.eventsPerSecond)} events/s in ${d.batches} batches, output equal to the oracle, peak RSS ${f(d.peakRssMb)} MB`);
      drains.push(d);
    }

    // The same stream compressed by the producer with each codec: decompression runs on the workers.
    for (const codec of ['gzip', 'snappy', 'lz4', 'zstd']) {
      const codecTopic = `bench-drain-${codec}-${Date.now()}`;
      options.log(`kafka bench: the same events with --compression ${codec}; engine --cores 2 drains them...`);
      await produce(brokers, codecTopic, events, 0, 1, ['--partitions', String(TOPIC_PARTITIONS), '--start-time', START_TIME, '--event-rate', String(EVENT_RATE), '--compression', codec]);
      const d = await engineDrain(brokers, codecTopic, events, benchSpec(1), 2, work, codec);
      options.log(`  ${f(d.eventsPerSecond)} events/s in ${d.batches} batches, output equal to the oracle, peak RSS ${f(d.peakRssMb)} MB`);
      drains.push(d);
      await librdkafkaRead(codecTopic, codec);
    }
    const librdkafka = 'skipped' in python ? { skipped: python.skipped } : { client: librdkafkaClient, reads: librdkafkaReads };

    const live: LiveResult[] = [];
    for (const rate of [10_000, 100_000]) {
      options.log(`kafka bench: live run at ${f(rate)} events/s for ${options.liveSeconds} s (engine --cores 2 reading while kindling produce writes)...`);
      const l = await liveRun(brokers, rate, options.liveSeconds, work);
      options.log(`  produced ${f(l.producedRate)} events/s; record latency p50 ${f(l.latencyP50Ms)} ms, p99 ${f(l.latencyP99Ms)} ms (after the first 2 s: ${f(l.steadyLatencyP50Ms)}, ${f(l.steadyLatencyP99Ms)} ms); lag p50 ${f(l.lagP50)}, max ${f(l.lagMax)} offsets; caught up ${f(l.catchUpMs)} ms after the producer stopped; oracle ${l.outputMatchesOracle ? 'equal' : 'DIFFERENT'}`);
      live.push(l);
    }
    return { brokers, brokerStartMs, events, producer: { oneEventsPerSecond: one.eventsPerSecond, twoAtOnceEventsPerSecond: twoAtOnce }, rawKafkajs, rawKindlingSource, librdkafka, drains, live };
  } catch (err) {
    keep = true;
    throw err;
  } finally {
    await broker?.stop();
    if (!keep && process.env['KINDLING_BENCH_KEEP'] !== '1') await rm(work, { recursive: true, force: true });
  }
}

/** The markdown report: ratios to kafkajs's raw consume rate. */
export function kafkaTable(r: KafkaBenchResult): string {
  const base = r.rawKafkajs.eventsPerSecond;
  const lines = [
    `Topic: ${f(r.events)} lab events in ${TOPIC_PARTITIONS} partitions, written by \`kindling produce\`; broker ${r.brokers}${r.brokerStartMs === null ? '' : ` (started by the bench in ${f(r.brokerStartMs / 1000, 1)} s)`}.`,
    '',
    '| reader | events/s | x kafkajs raw | batches | peak RSS MB |',
    '|---|---:|---:|---:|---:|',
    `| kafkajs consumer, fetch and discard (baseline) | ${f(base)} | 1.00 | | |`,
    `| Kindling's Kafka source alone, fetch and discard | ${f(r.rawKindlingSource.eventsPerSecond)} | ${f(r.rawKindlingSource.eventsPerSecond / base, 2)} | | |`,
    ...('skipped' in r.librdkafka
      ? [`| librdkafka consumer: skipped (${r.librdkafka.skipped}) | | | | |`]
      : r.librdkafka.reads.map((l) => `| librdkafka consumer (${(r.librdkafka as { client: string }).client} in Python, tuned), fetch and discard${l.codec ? `, ${l.codec} record batches` : ''} | ${f(l.eventsPerSecond)} | ${f(l.eventsPerSecond / base, 2)} | | ${f(l.peakRssMb)} |`)),
    ...r.drains.map(
      (d) =>
        `| engine --cores ${d.cores}, crash-alerts, jsonl sink (output = oracle)${d.codec ? `, ${d.codec} record batches` : ''} | ${f(d.eventsPerSecond)} | ${f(d.eventsPerSecond / base, 2)} | ${d.batches} | ${f(d.peakRssMb)} |`,
    ),
    '',
    `Producer (\`kindling produce --rate 0\`): ${f(r.producer.oneEventsPerSecond)} events/s alone; two at once into one topic: ${f(r.producer.twoAtOnceEventsPerSecond)} events/s together.`,
    '',
    '| live run | produced events/s | record latency p50 ms | p99 ms | max ms | after the first 2 s: p50 ms | p99 ms | lag p50 (offsets) | lag p99 | lag max | caught up after producer stopped | peak RSS MB | output = oracle |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    ...r.live.map((l) => `| ${f(l.targetRate)} events/s target, ${f(l.events)} events | ${f(l.producedRate)} | ${f(l.latencyP50Ms)} | ${f(l.latencyP99Ms)} | ${f(l.latencyMaxMs)} | ${f(l.steadyLatencyP50Ms)} | ${f(l.steadyLatencyP99Ms)} | ${f(l.lagP50)} | ${f(l.lagP99)} | ${f(l.lagMax)} | ${f(l.catchUpMs)} ms | ${f(l.peakRssMb)} | ${l.outputMatchesOracle ? 'yes' : 'NO'} |`),
  ];
  const c2 = r.drains.find((d) => d.cores === 2 && d.codec === undefined);
  if (c2) lines.push('', `Target: engine --cores 2 drain >= 0.7x kafkajs raw: ${f(c2.eventsPerSecond / base, 2)}x.`);
  const compressed = r.drains.filter((d) => d.codec !== undefined);
  if (compressed.length > 0) lines.push('', `Compressed topics, engine --cores 2 (issue target >= 1.5x kafkajs raw): ${compressed.map((d) => `${d.codec} ${f(d.eventsPerSecond / base, 2)}x`).join(', ')}.`);
  if (!('skipped' in r.librdkafka)) {
    const reads = r.librdkafka.reads;
    const vsEngine = reads.flatMap((l) => {
      const d = r.drains.find((x) => x.cores === 2 && x.codec === l.codec);
      return d ? [`${l.codec ?? 'uncompressed'} ${f(d.eventsPerSecond / l.eventsPerSecond, 2)}x`] : [];
    });
    lines.push('', `librdkafka (${r.librdkafka.client}) vs kafkajs raw: ${reads.map((l) => `${l.codec ?? 'uncompressed'} ${f(l.eventsPerSecond / base, 2)}x`).join(', ')}. Engine --cores 2 vs librdkafka on the same topic: ${vsEngine.join(', ')}.`);
  }
  for (const l of r.live) {
    lines.push('', `Lag over time at ${f(l.targetRate)} events/s (offsets behind the topic's end, every 250 ms): ${l.lagSamples.map((s) => `${s.atS.toFixed(1)}s:${s.lag}`).join(' ')}`);
  }
  return lines.join('\n');
}

function machine(): string {
  const c = cpus();
  return `${c.length} logical CPU(s), ${c[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--raw') {
    const [, kind, brokers, topic, n] = argv;
    const r = kind === 'kafkajs' ? await rawKafkajs(brokers!, topic!, Number(n)) : await rawKindling(brokers!, topic!, Number(n));
    process.stderr.write(JSON.stringify(r) + '\n');
    return;
  }
  const events = Number(process.env['KINDLING_BENCH_KAFKA_EVENTS'] ?? 3_000_000);
  if (!Number.isSafeInteger(events) || events <= 0 || events % TOPIC_PARTITIONS !== 0) throw new Error(`KINDLING_BENCH_KAFKA_EVENTS must be a positive multiple of ${TOPIC_PARTITIONS}`);
  const liveSeconds = Number(process.env['KINDLING_BENCH_KAFKA_LIVE_S'] ?? 15);
  // The machine may be shared: the load beside the figures says how much they may be depressed.
  const loadAtStart = loadavg()[0]!;
  const result = await kafkaBench({ events, liveSeconds, log });
  const markdown = kafkaTable(result);
  const header = `# kafka benchmark\n\n${new Date().toISOString()} on ${machine()}; load average (1 min) ${loadAtStart.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end\n\n`;
  process.stdout.write(`\n${header}${markdown}\n`);
  await saveResults('kafka', { machine: machine(), at: new Date().toISOString(), data: result }, header + markdown, log);
}

if (process.argv[1] === SELF) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      log(`kafka bench failed: ${(err as Error).message}`);
      process.exit(1);
    },
  );
}
