// One engine benchmark run in its own process (so peak RSS is its own): prints a JSON result line.
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Coordinator } from '../src/engine/coordinator.js';
import { runInline } from '../src/engine/inline.js';
import { WorkerPool } from '../src/engine/pool.js';
import { rowToJson } from '../src/plan/output.js';
import { avg, count, max } from '../src/plan/column.js';
import { readStream } from '../src/plan/dataframe.js';
import { crashAlertsPlan } from '../src/plan/queries.js';
import { planFingerprint, type QueryPlan } from '../src/plan/plan.js';
import type { EmittedBatch, Sink } from '../src/sink/sink.js';
import { FileSource } from '../src/source/file.js';
import { SPLIT_BYTES } from '../src/engine/build.js';

/**
 * The second bench query: avg and max over a double field and three grouping columns, every
 * record parsed (no filter, so no pre-check), complete mode. The lab's `timestamp` is declared
 * DOUBLE here, so from_json reads it as one.
 */
export const threeGroupsPlan: QueryPlan = readStream('timestamp DOUBLE, status STRING, severity STRING, source_ip STRING, user_id STRING, content STRING')
  .groupBy('severity', 'status', 'source_ip')
  .agg(avg('timestamp').alias('avg_ts'), max('timestamp').alias('max_ts'), count('*').alias('n'))
  .toQuery({ name: 'three-groups', outputMode: 'complete' });

/** The bench's plans by name. */
export const BENCH_PLANS = { 'crash-alerts': crashAlertsPlan, 'three-groups': threeGroupsPlan } as const;

/** What the parent asks for: the inline baseline or the engine at a core and partition count, running crash-alerts unless `query` names the other plan. */
export type EngineBenchCase = ({ kind: 'inline' } | { kind: 'engine'; cores: number; partitions: number }) & { query?: keyof typeof BENCH_PLANS; /** false: no second (warm) pass. */ warm?: boolean };

/** What a run reports. */
export interface EngineBenchResult {
  records: number;
  elapsedMs: number;
  eventsPerSecond: number;
  /** Digest of every emitted row (sorted), to check against the oracle before the time counts. */
  rowsDigest: string;
  /** Digest of the last batch's rows (complete mode: the final result, whatever the batches). */
  lastBatchDigest: string;
  rows: number;
  batchLatencyP50Ms: number;
  batchLatencyP99Ms: number;
  mainThreadShare: number;
  peakRssMb: number;
  /** CPU time of the whole process (all threads, user + system) per input record, in ns, over the timed run: less moved by other load than wall time. */
  cpuNsPerEvent: number;
  /**
   * A second pass over the same files in the same process and threads, right after the first: the
   * query code is compiled and optimised by then. The first (cold) pass of a 3M-event run is
   * ~0.5 s, of which each thread's JIT warm-up is a large part (paid once per worker thread).
   * Absent when the case asked for one pass.
   */
  warm?: WarmPass;
}

/** The second pass's figures (see EngineBenchResult.warm). */
export interface WarmPass {
  records: number;
  eventsPerSecond: number;
  cpuNsPerEvent: number;
  rowsDigest: string;
  lastBatchDigest: string;
  batchLatencyP50Ms: number;
  batchLatencyP99Ms: number;
  mainThreadShare: number;
}

/** Collects every row's JSON, for the digest. */
class DigestSink implements Sink {
  readonly name = 'digest';
  readonly lines: string[] = [];
  lastBatch: string[] = [];
  async emit(batch: EmittedBatch): Promise<void> {
    this.lastBatch = batch.rows.map((r) => rowToJson(r, batch.columns));
    this.lines.push(...this.lastBatch);
  }
  async close(): Promise<void> {}
}

/** Sorted rows' sha256: batch-independent, since the bench input has no late rows. */
export function digestOf(lines: string[]): string {
  return createHash('sha256').update([...lines].sort().join('\n')).digest('hex').slice(0, 16);
}

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

/** One pass over the input: what the result reports of it. */
interface Pass {
  records: number;
  elapsedMs: number;
  cpuNsPerEvent: number;
  latencies: number[];
  mainThreadShare: number;
  sink: DigestSink;
}

/** One timed pass over every file: inline on this thread (`pool` null) or on the pool's workers. */
async function runPass(dir: string, benchCase: EngineBenchCase, plan: QueryPlan, pool: WorkerPool | null): Promise<Pass> {
  const source = await FileSource.open({ path: dir, maxFilesPerBatch: null, maxEventsPerBatch: null, maxBytesPerBatch: Number(process.env['KINDLING_BENCH_BATCH_MB'] ?? 16) * 1_048_576, splitBytes: SPLIT_BYTES });
  const sink = new DigestSink();
  const latencies: number[] = [];
  let mainThreadShare = 1;
  let records: number;
  let cpu: NodeJS.CpuUsage;
  let elapsedMs: number;
  if (pool === null || benchCase.kind === 'inline') {
    const cpuAtStart = process.cpuUsage();
    const started = performance.now();
    let last = started;
    const summary = await runInline(plan, source, {
      drain: true,
      emit: (b) => {
        void sink.emit(b);
        const now = performance.now();
        latencies.push(now - last);
        last = now;
      },
    });
    elapsedMs = performance.now() - started;
    cpu = process.cpuUsage(cpuAtStart);
    records = summary.records;
  } else {
    const coordinator = new Coordinator(
      { plan, partitions: benchCase.partitions, triggerMs: 0, drain: true, maxRecordBytes: 1 << 20, maxLoggedRejects: 0, log: () => undefined },
      source,
      [sink],
      pool,
    );
    let mainBusy = 0;
    let workerBusy = 0;
    coordinator.onProgress((p) => {
      latencies.push(p.durationMs.total);
      mainBusy += p.kindling.mainThreadUtilisation * p.durationMs.total;
      workerBusy += p.kindling.workers.reduce((n, w) => n + w.busyMs, 0);
    });
    const started = performance.now();
    const cpuAtStart = process.cpuUsage();
    const summary = await coordinator.run(new AbortController().signal);
    cpu = process.cpuUsage(cpuAtStart);
    elapsedMs = performance.now() - started;
    records = summary.records;
    mainThreadShare = mainBusy / (mainBusy + workerBusy);
  }
  await source.close();
  return { records, elapsedMs, cpuNsPerEvent: ((cpu.user + cpu.system) * 1000) / Math.max(1, records), latencies, mainThreadShare, sink };
}

async function main(): Promise<void> {
  const [dir, caseJson] = process.argv.slice(2);
  const benchCase = JSON.parse(caseJson!) as EngineBenchCase;
  const plan = BENCH_PLANS[benchCase.query ?? 'crash-alerts'];
  const pool = benchCase.kind === 'engine' ? new WorkerPool(benchCase.cores) : null;
  // An empty restore task: starts the threads (before the clock runs: a real run pays this once,
  // not per batch), and before the second pass empties the state the first left (complete mode).
  const clearWorkers = async (): Promise<void> => {
    if (pool === null || benchCase.kind !== 'engine') return;
    await Promise.all(pool.loads.map((l) => pool.runOn(l.workerId, { kind: 'restore', workerId: l.workerId, partitionEntries: [], plan, planKey: planFingerprint(plan), partitions: benchCase.partitions, workers: benchCase.cores })));
  };
  await clearWorkers();
  const cold = await runPass(dir!, benchCase, plan, pool);
  // Peak RSS of the first pass (the second one only adds the garbage the first left).
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  // The second pass, same threads: the query code is compiled and optimised by then, as in a run that has been going for a while.
  let warm: Pass | null = null;
  if (benchCase.warm !== false) {
    await clearWorkers();
    warm = await runPass(dir!, benchCase, plan, pool);
  }
  await pool?.close();
  const result: EngineBenchResult = {
    records: cold.records,
    elapsedMs: cold.elapsedMs,
    eventsPerSecond: (cold.records * 1000) / cold.elapsedMs,
    rowsDigest: digestOf(cold.sink.lines),
    lastBatchDigest: digestOf(cold.sink.lastBatch),
    rows: cold.sink.lines.length,
    batchLatencyP50Ms: quantile(cold.latencies, 0.5),
    batchLatencyP99Ms: quantile(cold.latencies, 0.99),
    mainThreadShare: cold.mainThreadShare,
    peakRssMb,
    cpuNsPerEvent: cold.cpuNsPerEvent,
    ...(warm && { warm: {
      records: warm.records,
      eventsPerSecond: (warm.records * 1000) / warm.elapsedMs,
      cpuNsPerEvent: warm.cpuNsPerEvent,
      rowsDigest: digestOf(warm.sink.lines),
      lastBatchDigest: digestOf(warm.sink.lastBatch),
      batchLatencyP50Ms: quantile(warm.latencies, 0.5),
      batchLatencyP99Ms: quantile(warm.latencies, 0.99),
      mainThreadShare: warm.mainThreadShare,
    } }),
  };
  process.stdout.write(JSON.stringify(result) + '\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    process.stderr.write(`engine bench run failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
