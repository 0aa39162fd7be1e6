// Test helper: runs the real engine (real worker threads) over in-memory batches and collects its output.
import { Coordinator, type RunSummary } from '../../src/engine/coordinator.js';
import type { WorkerPool } from '../../src/engine/pool.js';
import { planFingerprint, type QueryPlan } from '../../src/plan/plan.js';
import type { EmittedBatch } from '../../src/sink/sink.js';
import { CollectingSink, MemorySource } from './memory-source.js';

/** What one engine run produced. */
export interface EngineRun {
  batches: EmittedBatch[];
  summary: RunSummary;
}

/** Options of an engine run over in-memory batches. */
export interface EngineRunOptions {
  plan: QueryPlan;
  partitions: number;
  drain?: boolean;
  splitsPerBatch?: number;
  useRecordEnds?: boolean;
}

/** Clears every worker's state so one pool can serve many runs. */
export async function resetPool(pool: WorkerPool, plan: QueryPlan, partitions: number): Promise<void> {
  await Promise.all(
    pool.loads.map((l) => pool.runOn(l.workerId, { kind: 'restore', workerId: l.workerId, partitionEntries: [], plan, planKey: planFingerprint(plan), partitions, workers: pool.size })),
  );
}

/** Runs the engine on `pool` over `batches` and returns every emitted batch and the summary. */
export async function runEngine(pool: WorkerPool, batches: readonly (readonly string[])[], o: EngineRunOptions): Promise<EngineRun> {
  await resetPool(pool, o.plan, o.partitions);
  const sink = new CollectingSink();
  const coordinator = new Coordinator(
    { plan: o.plan, partitions: o.partitions, triggerMs: 0, drain: o.drain ?? false, maxRecordBytes: 1 << 20, maxLoggedRejects: 0, log: () => undefined },
    new MemorySource(batches, o.splitsPerBatch ?? 3, o.useRecordEnds ?? false),
    [sink],
    pool,
  );
  const summary = await coordinator.run(new AbortController().signal);
  return { batches: sink.batches, summary };
}
