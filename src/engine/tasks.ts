// A batch's tasks on the pool (scan, stateful, drain, snapshot, restore), and what their failures and rejected records mean for a person.
import { toPartitionState, type PartitionState } from '../checkpoint/format.js';
import type { WorkerShare } from '../checkpoint/route.js';
import { nowMs } from '../metrics/batch-progress.js';
import type { TaskProgress } from '../metrics/progress.js';
import { sortRows } from '../query/order.js';
import type { OutputMode, Query, QueryRef } from '../query/query.js';
import type { BatchWatermarks as TrackerWatermarks } from '../query/watermark.js';
import type { ResultRow } from '../query/window-state.js';
import type { Split } from '../source/source.js';
import { KindlingError } from '../errors.js';
import { TaskFailedError, type WorkerPool } from './pool.js';
import { describePosition, RecordPositions } from './positions.js';
import type { DrainTaskResult, RestoreTaskResult, ScanTaskResult, SnapshotTaskResult, StatefulTaskResult, TaskContext } from './protocol.js';
import type { DispatchedStep, shuffle } from './stages.js';

/** Stage 1's results of a batch (one per split, in split order, each a result or a failure), with its task records. */
export interface ScanOutcome {
  settled: PromiseSettledResult<ScanTaskResult>[];
  tasks: TaskProgress[];
}

/** Watermarks a stateful step runs with (WatermarkTracker.beginBatch), or null for a query without one. */
export type BatchWatermarks = TrackerWatermarks | null;

/** A stack frame in Kindling's built code or its dependencies (where a query module's frames end). */
const KINDLING_FRAME = /\/dist\/(src|workers)\/|\/node_modules\/|\(node:/;

/** What the tasks of a run share. */
export interface TaskSettings {
  readonly queryRef: QueryRef;
  readonly query: Query;
  readonly outputMode: OutputMode;
  readonly maxRecordBytes: number;
  /** Rejected records logged per run (all are counted). */
  readonly maxLoggedRejects: number;
  readonly log: (line: string) => void;
}

/**
 * Sends a batch's tasks to the pool and gathers their results. It knows nothing of batch order,
 * watermarks or checkpoints (the batch loop does); it knows where a record is in the input, so a
 * rejected record or a query that throws is named by its position.
 */
export class BatchTasks {
  private readonly positions = new RecordPositions();
  private loggedRejects = 0;

  constructor(
    private readonly pool: WorkerPool,
    private readonly context: TaskContext,
    private readonly options: TaskSettings,
  ) {}

  /**
   * Stage 1 of a batch: one task per split, raw bytes transferred, on whichever worker frees up
   * first. Stateless, so it may run before the batch's turn (scan-ahead): nothing it does is
   * visible until stage 2, which always runs in batch order after the offsets log is written.
   */
  dispatchScans(batchId: number, splits: readonly Split[]): Promise<ScanOutcome> {
    const tasks: TaskProgress[] = [];
    // Settled, not all: a failing split's position is told from the records of the splits before it.
    const all = Promise.allSettled(
      splits.map(async (split, splitIndex) => {
        const transfer = split.payload.kind === 'bytes' ? [split.payload.bytes.buffer as ArrayBuffer] : [];
        const queuedAtMs = nowMs();
        const { workerId, result: r } = await this.pool.runScan<ScanTaskResult>(
          { kind: 'scan', batchId, splitIndex, maxRecordBytes: this.options.maxRecordBytes, maxSamples: 5, split: split.payload, ...this.context },
          transfer,
        );
        tasks.push({ stage: 1, splitIndex, partitionId: null, workerId, rows: r.records, startedAtMs: r.startedAtMs, durationMs: r.durationMs, queueWaitMs: Math.max(0, r.startedAtMs - queuedAtMs) });
        return r;
      }),
    );
    return all.then((settled) => ({ settled, tasks }));
  }


  /**
   * Stage 1's results, or its first failure (in split order). The user's query code throwing is
   * told with the record's position in the input (the splits before it are counted in).
   */
  scanResults(splits: readonly Split[], settled: readonly PromiseSettledResult<ScanTaskResult>[]): ScanTaskResult[] {
    const failed = settled.findIndex((s) => s.status === 'rejected');
    if (failed === -1) return settled.map((s) => (s as PromiseFulfilledResult<ScanTaskResult>).value);
    const err: unknown = (settled[failed] as PromiseRejectedResult).reason;
    const recordIndex = err instanceof TaskFailedError ? err.failure.recordIndex : undefined;
    if (err instanceof TaskFailedError && err.code === 'QUERY_FAILED' && recordIndex !== undefined) {
      const earlier = settled.slice(0, failed).map((s) => (s as PromiseFulfilledResult<ScanTaskResult>).value.records);
      throw this.queryFailed(err, this.positions.where(splits, earlier, failed, recordIndex));
    }
    throw err;
  }

  /**
   * The user's query code threw: the run stops (it is no lost worker, a replay would throw again)
   * naming the query, the record's position, the error and where in the query module it was thrown.
   */
  private queryFailed(err: TaskFailedError, position: string | null): KindlingError {
    const { queryRef, query } = this.options;
    // The query module's frames: those above the first one in Kindling's own code.
    const frames: string[] = [];
    for (const line of (err.failure.stack ?? '').split('\n')) {
      if (!/^\s+at /.test(line)) continue;
      if (KINDLING_FRAME.test(line)) break;
      frames.push(line);
    }
    const on = position === null ? '' : ` on the record at ${position}`;
    const message = `query ${query.name} (${queryRef}) failed${on}: ${err.failure.message}${frames.length > 0 ? '\n' + frames.join('\n') : ''}`;
    return new KindlingError('QUERY_FAILED', message, { domain: 'user', cause: err });
  }

  /** Names the batch in an error; the user's query code throwing in stage 2 or the drain is told as such. */
  batchFailed(batchId: number, err: unknown): KindlingError {
    const e = err instanceof TaskFailedError && err.code === 'QUERY_FAILED' ? this.queryFailed(err, null) : (err as KindlingError);
    return new KindlingError(e.code ?? 'BATCH_FAILED', `batch ${batchId}: ${e.message}`, { domain: e.domain ?? 'internal', cause: err });
  }


  /** Stage 2: every worker steps all its partitions (eviction needs no input), in one message each. */
  runStateful(batchId: number, inputs: ReturnType<typeof shuffle>, marks: BatchWatermarks): Promise<DispatchedStep[]> {
    return Promise.all(
      inputs.map((parts, workerId) => {
        const dispatchedAtMs = nowMs();
        return this.pool
          .runOn<StatefulTaskResult>(workerId, {
            kind: 'stateful',
            batchId,
            workerId,
            outputMode: this.options.outputMode,
            lateWatermarkMs: marks?.lateWatermarkMs ?? null,
            evictionWatermarkMs: marks?.evictionWatermarkMs ?? null,
            inputs: parts,
            ...this.context,
          })
          .then((result) => ({ result, dispatchedAtMs }));
      }),
    );
  }


  /** Logs the first rejected records with their position; all are counted. */
  logRejects(splits: readonly Split[], scans: readonly ScanTaskResult[]): void {
    const before = this.positions.advance(splits, scans.map((s) => s.records));
    for (let i = 0; i < splits.length; i++) {
      for (const sample of scans[i]!.samples) {
        if (this.loggedRejects >= this.options.maxLoggedRejects) return;
        this.loggedRejects++;
        this.options.log(`rejected record at ${describePosition(splits[i]!.origin, sample.recordIndex, before[i]!)}: ${sample.reason}: ${sample.excerpt}`);
        if (this.loggedRejects === this.options.maxLoggedRejects) this.options.log('(further rejected records are counted, not logged)');
      }
    }
  }

  /**
   * The --drain step: every worker flushes its open groups as forced rows, in the query's order;
   * one stage-2 task record per worker (all of its partitions) is appended to `tasks`.
   */
  async drain(tasks: TaskProgress[] = []): Promise<ResultRow[]> {
    const results = await Promise.all(
      this.pool.loads.map((l) => {
        const dispatchedAtMs = nowMs();
        return this.pool.runOn<DrainTaskResult>(l.workerId, { kind: 'drain', workerId: l.workerId, ...this.context }).then((result) => ({ result, dispatchedAtMs }));
      }),
    );
    for (const { result: r, dispatchedAtMs } of results) {
      tasks.push({ stage: 2, splitIndex: null, partitionId: null, workerId: r.workerId, rows: r.rows.length, startedAtMs: r.startedAtMs, durationMs: r.durationMs, queueWaitMs: Math.max(0, r.startedAtMs - dispatchedAtMs) });
    }
    return sortRows(results.flatMap(({ result }) => result.rows), this.options.query.orderBy);
  }

  /** Every worker's state, by partitionId (for a snapshot). */
  async readState(): Promise<PartitionState[]> {
    const results = await Promise.all(
      this.pool.loads.map((l) => this.pool.runOn<SnapshotTaskResult>(l.workerId, { kind: 'snapshot', workerId: l.workerId, ...this.context })),
    );
    return results.flatMap((r) => r.partitionEntries.map((p) => toPartitionState(p.partitionId, p.entries))).sort((a, b) => a.partitionId - b.partitionId);
  }

  /** Replaces every worker's state with its share (an empty share clears it); resolves to the groups now held. */
  async restoreState(shares: readonly WorkerShare[]): Promise<number> {
    const results = await Promise.all(shares.map((partitionEntries, workerId) => this.pool.runOn<RestoreTaskResult>(workerId, { kind: 'restore', workerId, partitionEntries, ...this.context })));
    return results.reduce((n, r) => n + r.groups, 0);
  }
}
