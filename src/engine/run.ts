// The engine's one entry point: run a QueryPlan over a source into sinks, on a pool of worker threads, optionally checkpointed.
import type { ResumeInfo } from '../checkpoint/recovery.js';
import type { ProgressRecord } from '../metrics/progress.js';
import type { QueryPlan } from '../plan/plan.js';
import type { Sink } from '../sink/sink.js';
import type { Source } from '../source/source.js';
import { Coordinator, type CheckpointSettings, type RunSummary } from './coordinator.js';
import { WorkerPool } from './pool.js';
import type { WorkerFaults } from './protocol.js';

/** How to run a plan. Only `source`, `sinks`, `cores` and `partitions` are required. */
export interface QueryRunOptions<O> {
  readonly source: Source<O>;
  readonly sinks: readonly Sink[];
  /** Worker threads. */
  readonly cores: number;
  /** Hash partitions of the state (Spark's spark.sql.shuffle.partitions). */
  readonly partitions: number;
  /** Processing-time trigger in ms; 0 (default): a batch as soon as the last one ended. */
  readonly triggerMs?: number;
  /** Emit the open windows as a last, forced batch when the input ends or the run stops (default false). */
  readonly drain?: boolean;
  /** Longer records are corrupt (a row of nulls); default 1 MiB. */
  readonly maxRecordBytes?: number;
  /** Null or absent: no checkpoints. */
  readonly checkpoint?: CheckpointSettings | null;
  /** Where log lines go (default: nowhere). */
  readonly log?: (line: string) => void;
  /** The query's id when the checkpoint keeps none, and this run's id (each default: a new one). */
  readonly queryId?: string;
  readonly runId?: string;
  /** Called with each batch's progress record. */
  readonly onProgress?: (progress: ProgressRecord) => void;
  /** Runs after the checkpoint was restored and before the first batch (the CLI prints its banner and starts the UI here). */
  readonly beforeFirstBatch?: (run: QueryRun<O>) => Promise<void> | void;
  /** Test-only faults injected into the workers. */
  readonly faults?: WorkerFaults;
}

/** A running query. */
export interface QueryRun<O> {
  readonly plan: QueryPlan;
  readonly coordinator: Coordinator<O>;
  readonly pool: WorkerPool;
  /** What the checkpoint restore found (null without checkpointing). */
  readonly resume: ResumeInfo | null;
  /** Finishes the batch in flight (and the drain, the last snapshot), then ends the run. */
  stop(): void;
  /**
   * Resolves with the run's totals when the input ended or stop() was called, or rejects with
   * the error that stopped it; the source, the sinks and the worker threads are closed by then.
   */
  readonly done: Promise<RunSummary>;
}

/**
 * Runs `plan` (checked like Spark's analyzer and UnsupportedOperationChecker first: a PlanError,
 * exit code 2 in the CLI) over `source` into `sinks`. Resolves once the workers are up and the
 * checkpoint (if any) is restored, with the run in progress; `done` settles when it ends.
 * The caller hands over `source` and `sinks`: they are closed when the run ends.
 */
export async function runQueryPlan<O>(plan: QueryPlan, options: QueryRunOptions<O>): Promise<QueryRun<O>> {
  const { source, sinks } = options;
  const closeIo = (): Promise<unknown> => Promise.allSettled([source.close(), ...sinks.map((s) => s.close())]);
  const pool = new WorkerPool(options.cores, options.faults ? { faults: options.faults } : {});
  let coordinator: Coordinator<O>;
  let resume: ResumeInfo | null;
  try {
    coordinator = new Coordinator(
      {
        plan,
        partitions: options.partitions,
        triggerMs: options.triggerMs ?? 0,
        drain: options.drain ?? false,
        maxRecordBytes: options.maxRecordBytes ?? 1 << 20,
        maxLoggedRejects: 20,
        log: options.log ?? (() => undefined),
        checkpoint: options.checkpoint ?? null,
        ...(options.queryId !== undefined ? { queryId: options.queryId } : {}),
        ...(options.runId !== undefined ? { runId: options.runId } : {}),
      },
      source,
      sinks,
      pool,
    );
    if (options.onProgress) coordinator.onProgress(options.onProgress);
    resume = await coordinator.recover();
  } catch (err) {
    await pool.close();
    await closeIo();
    throw err;
  }
  const stopper = new AbortController();
  let resolveDone!: (summary: RunSummary) => void;
  let rejectDone!: (err: unknown) => void;
  const done = new Promise<RunSummary>((res, rej) => {
    resolveDone = res;
    rejectDone = rej;
  });
  done.catch(() => undefined); // handled by whoever awaits `done`; never an unhandled rejection meanwhile
  const run: QueryRun<O> = { plan, coordinator, pool, resume, stop: () => stopper.abort(), done };
  // The batches start after the caller got `run` (its continuation runs before a macrotask).
  setImmediate(() => {
    (async () => {
      try {
        await options.beforeFirstBatch?.(run);
        return await coordinator.run(stopper.signal);
      } finally {
        await closeIo();
        await pool.close();
      }
    })().then(resolveDone, rejectDone);
  });
  return run;
}
