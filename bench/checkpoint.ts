// Checkpoint bench: snapshot write and restore time against state size, and engine throughput with snapshots every 1 / 10 batches vs none, as ratios.
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CheckpointStore } from '../src/checkpoint/store.js';
import { routeState } from '../src/checkpoint/route.js';
import { SPLIT_BYTES } from '../src/engine/build.js';
import { Coordinator } from '../src/engine/coordinator.js';
import { WorkerPool } from '../src/engine/pool.js';
import type { OperatorEntries, SnapshotTaskResult } from '../src/engine/protocol.js';
import { partitionIdOf } from '../src/partition.js';
import { rowToJson } from '../src/plan/output.js';
import { planFingerprint } from '../src/plan/plan.js';
import { crashAlertsPlan } from '../src/plan/queries.js';
import type { AggregationEntry } from '../src/plan/state.js';
import type { EmittedBatch, Sink } from '../src/sink/sink.js';
import { FileSource } from '../src/source/file.js';
import { labFiles } from './fixtures.js';
import { saveResults } from './results.js';

const CORES = 2;
const PARTITIONS = 2;
/** The plan every task of this bench carries. */
const PLAN = { plan: crashAlertsPlan, planKey: planFingerprint(crashAlertsPlan) };

/** Snapshot costs at one state size. */
export interface SnapshotBenchRow {
  stateRows: number;
  bytes: number;
  writeMs: number;
  restoreMs: number;
}

/** Throughput of one checkpoint setting, median of the repeats. */
export interface ThroughputBenchRow {
  setting: 'off' | 'every 10' | 'every 1';
  batchMiB: number;
  batches: number;
  eventsPerSecond: number;
  /** eventsPerSecond / the same batch size with checkpoints off. */
  ratio: number;
  /** The fastest repeat's events/s, and its ratio to the fastest with checkpoints off (less exposed to other processes' load). */
  bestEventsPerSecond: number;
  bestRatio: number;
  /**
   * Share of the run's wall time the batch loop spent in the sink and checkpoint phases (waiting
   * for the write-ahead log, starting commits, handing state to a snapshot): the direct cost,
   * much less exposed to other processes than the ratios.
   */
  waitShare: number;
}

class DigestSink implements Sink {
  readonly name = 'digest';
  private readonly hash = createHash('sha256');
  rows = 0;
  async emit(batch: EmittedBatch): Promise<void> {
    for (const r of batch.rows) this.hash.update(rowToJson(r, batch.columns) + '\n');
    this.rows += batch.rows.length;
  }
  digest(): string {
    return this.hash.copy().digest('hex').slice(0, 16);
  }
  async close(): Promise<void> {}
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** A run's parts, checkpointed (or not), its pool's threads started before any clock runs. */
async function assemble(input: string, batchBytes: number, every: number | null, ckDir: string | null) {
  const source = await FileSource.open({ path: input, maxFilesPerBatch: null, maxEventsPerBatch: null, maxBytesPerBatch: batchBytes, splitBytes: SPLIT_BYTES });
  const pool = new WorkerPool(CORES);
  await Promise.all(pool.loads.map((l) => pool.runOn(l.workerId, { kind: 'restore', workerId: l.workerId, partitionEntries: [], ...PLAN, partitions: PARTITIONS, workers: CORES })));
  const checkpoint = every !== null && ckDir !== null ? { log: await CheckpointStore.open(ckDir), every } : null;
  const sink = new DigestSink();
  const coordinator = new Coordinator(
    { plan: crashAlertsPlan, partitions: PARTITIONS, triggerMs: 0, drain: false, maxRecordBytes: 1 << 20, maxLoggedRejects: 0, log: () => undefined, checkpoint },
    source,
    [sink],
    pool,
  );
  await coordinator.recover();
  return { source, pool, sink, coordinator };
}

/** Synthetic state: `rows` groups over keys user_0.. and 10 s windows, split by the engine's partitioner. */
function syntheticShares(rows: number) {
  const keys = Math.min(rows, 10_000);
  const windows = Math.ceil(rows / keys);
  const byPartition = new Map<number, AggregationEntry[]>();
  let made = 0;
  for (let w = 0; w < windows && made < rows; w++) {
    for (let k = 0; k < keys && made < rows; k++, made++) {
      const user = `user_${k}`;
      const startUs = (1_732_531_200_000 + w * 10_000) * 1000;
      const id = `${startUs}\u0000${user}\u0000`;
      const p = partitionIdOf(id, PARTITIONS);
      let list = byPartition.get(p);
      if (!list) byPartition.set(p, (list = []));
      list.push([id, [{ startUs, endUs: startUs + 10_000_000 }, user], [1 + ((k + w) % 9)], startUs + 10_000_000]);
    }
  }
  const state = [...byPartition].map(([partitionId, entries]): OperatorEntries => ({ partitionId, operator: 'aggregate', entries }));
  return routeState(state, { partitions: PARTITIONS, hash: 'murmur2-positive-mod' }, { partitions: PARTITIONS, workers: CORES });
}

async function stateRowsIn(pool: WorkerPool): Promise<number> {
  const results = await Promise.all(pool.loads.map((l) => pool.runOn<SnapshotTaskResult>(l.workerId, { kind: 'snapshot', workerId: l.workerId, ...PLAN, partitions: PARTITIONS, workers: CORES })));
  return results.reduce((n, r) => n + r.partitionEntries.reduce((m, p) => m + p.entries.length, 0), 0);
}

/**
 * Snapshot write (read state from the workers, encode, checksum, write, fsync, rename) and restore
 * (read, verify, decode, route, load into the workers) on the real code path, 2 workers.
 */
export async function snapshotBench(sizes: readonly number[], input: string, log: (s: string) => void, repeats = 3): Promise<SnapshotBenchRow[]> {
  const rows: SnapshotBenchRow[] = [];
  for (const size of sizes) {
    const ckDir = await mkdtemp(join(tmpdir(), 'kindling-bench-ck-'));
    const run = await assemble(input, 16 * 1_048_576, 1_000_000, ckDir);
    const shares = syntheticShares(size);
    await Promise.all(shares.map((partitionEntries, workerId) => run.pool.runOn(workerId, { kind: 'restore', workerId, partitionEntries, ...PLAN, partitions: PARTITIONS, workers: CORES })));
    const writes: number[] = [];
    const restores: number[] = [];
    let bytes = 0;
    for (let r = 0; r < repeats; r++) {
      let t = performance.now();
      const written = await run.coordinator.snapshot(r);
      bytes = await written.written;
      writes.push(performance.now() - t);
      if (written.rows !== size) throw new Error(`snapshot held ${written.rows} rows, expected ${size}`);
      t = performance.now();
      const info = (await run.coordinator.recover())!;
      restores.push(performance.now() - t);
      // Checked before the figure counts: the restored workers hold every row again.
      if (info.stateRows !== size || (await stateRowsIn(run.pool)) !== size) throw new Error(`restore of ${size} rows lost some`);
    }
    rows.push({ stateRows: size, bytes, writeMs: median(writes), restoreMs: median(restores) });
    log(`  snapshot ${size.toLocaleString('en-US')} rows: write ${median(writes).toFixed(1)} ms, restore ${median(restores).toFixed(1)} ms, ${(bytes / 1_048_576).toFixed(1)} MiB`);
    await run.pool.close();
    await run.source.close();
    await rm(ckDir, { recursive: true, force: true });
  }
  return rows;
}

async function throughputOnce(input: string, batchBytes: number, every: number | null) {
  const ckDir = every === null ? null : await mkdtemp(join(tmpdir(), 'kindling-bench-ck-'));
  const run = await assemble(input, batchBytes, every, ckDir);
  let batches = 0;
  let waitedMs = 0;
  run.coordinator.onProgress((p) => {
    batches++;
    waitedMs += p.durationMs.sink + p.durationMs.checkpoint;
  });
  const signal = new AbortController().signal;
  const started = performance.now();
  const summary = await run.coordinator.run(signal);
  const elapsedMs = performance.now() - started;
  await run.pool.close();
  await run.source.close();
  if (ckDir) await rm(ckDir, { recursive: true, force: true });
  return { eventsPerSecond: (summary.records * 1000) / elapsedMs, batches, digest: run.sink.digest(), rows: run.sink.rows, waitShare: waitedMs / elapsedMs };
}

/**
 * Engine throughput with checkpoints off, every 10 and every 1 batch, at two batch sizes; the
 * settings interleave over the repeats so drift hits them alike. All must emit the same rows.
 */
export async function throughputBench(input: string, log: (s: string) => void, repeats = 5): Promise<ThroughputBenchRow[]> {
  const settings = [
    { setting: 'off' as const, every: null },
    { setting: 'every 10' as const, every: 10 },
    { setting: 'every 1' as const, every: 1 },
  ];
  const out: ThroughputBenchRow[] = [];
  for (const batchMiB of [16, 2]) {
    await throughputOnce(input, batchMiB * 1_048_576, null); // warm-up, not counted
    const samples = new Map<string, number[]>(settings.map((s) => [s.setting, []]));
    const shares = new Map<string, number[]>(settings.map((s) => [s.setting, []]));
    const batchesOf = new Map<string, number>();
    let digest: string | null = null;
    for (let r = 0; r < repeats; r++) {
      for (const s of settings) {
        const result = await throughputOnce(input, batchMiB * 1_048_576, s.every);
        if (digest !== null && result.digest !== digest) throw new Error(`checkpoints ${s.setting} changed the output (${result.digest} vs ${digest})`);
        digest = result.digest;
        samples.get(s.setting)!.push(result.eventsPerSecond);
        shares.get(s.setting)!.push(result.waitShare);
        batchesOf.set(s.setting, result.batches);
      }
    }
    const base = median(samples.get('off')!);
    const bestBase = Math.max(...samples.get('off')!);
    for (const s of settings) {
      const eps = median(samples.get(s.setting)!);
      const best = Math.max(...samples.get(s.setting)!);
      const waitShare = median(shares.get(s.setting)!);
      out.push({ setting: s.setting, batchMiB, batches: batchesOf.get(s.setting)!, eventsPerSecond: eps, ratio: eps / base, bestEventsPerSecond: best, bestRatio: best / bestBase, waitShare });
      log(`  ${batchMiB} MiB batches, checkpoints ${s.setting}: median ${Math.round(eps).toLocaleString('en-US')} events/s (${(eps / base).toFixed(2)}x of off), best ${(best / bestBase).toFixed(2)}x, loop waited ${(waitShare * 100).toFixed(1)} %`);
    }
  }
  return out;
}

/** Both tables as Markdown. */
export function checkpointTable(snapshots: readonly SnapshotBenchRow[], throughput: readonly ThroughputBenchRow[]): string {
  const lines = [
    `Snapshot write and restore, ${CORES} workers, ${PARTITIONS} partitions (median of 3):`,
    '',
    '| state rows | snapshot size | write | restore | write per row |',
    '|---:|---:|---:|---:|---:|',
    ...snapshots.map((r) => `| ${r.stateRows.toLocaleString('en-US')} | ${(r.bytes / 1_048_576).toFixed(1)} MiB | ${r.writeMs.toFixed(1)} ms | ${r.restoreMs.toFixed(1)} ms | ${((r.writeMs * 1000) / r.stateRows).toFixed(2)} µs |`),
    '',
    'Engine throughput (crash-alerts, file source, 2 workers) with checkpoints, as a ratio to checkpoints off at the same batch size (median of 5, settings interleaved; the final snapshot at the stop included):',
    '',
    '| batch size | checkpoints | batches | events/s (median) | ratio to off (median) | ratio to off (best of 5) | loop time in sink + checkpoint |',
    '|---:|---|---:|---:|---:|---:|---:|',
    ...throughput.map((r) => `| ${r.batchMiB} MiB | ${r.setting} | ${r.batches} | ${Math.round(r.eventsPerSecond).toLocaleString('en-US')} | ${r.ratio.toFixed(2)}x | ${r.bestRatio.toFixed(2)}x | ${(r.waitShare * 100).toFixed(1)} % |`),
  ];
  return lines.join('\n');
}

async function main(): Promise<void> {
  const log = (s: string): void => {
    process.stderr.write(s + '\n');
  };
  const events = Number(process.env['KINDLING_BENCH_EVENTS'] ?? 6_000_000);
  const input = await labFiles(events, 6, 1, log);
  log('== checkpoint bench: snapshots');
  const snapshots = await snapshotBench([10_000, 100_000, 1_000_000], input, log);
  log('== checkpoint bench: throughput');
  const throughput = await throughputBench(input, log);
  const c = cpus();
  const machine = `${c.length} logical CPU(s), ${c[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, load average ${loadavg()[0]!.toFixed(1)} at the end`;
  const at = new Date().toISOString();
  const markdown = `# checkpoint benchmark\n\n${at} on ${machine}, ${events.toLocaleString('en-US')} input events\n\n${checkpointTable(snapshots, throughput)}\n`;
  process.stdout.write('\n' + markdown);
  await saveResults('checkpoint', { machine, at, events, data: { snapshots, throughput } }, markdown, log);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    process.stderr.write(`checkpoint bench failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
