// A batch's tasks on the pool (scan, stateful, drain, snapshot, restore), and what their failures and rejected records mean for a person.
import type { WorkerShare } from '../checkpoint/route.js';
import { nowMs } from '../metrics/batch-progress.js';
import type { TaskProgress } from '../metrics/progress.js';
import type { QueryPlan } from '../plan/plan.js';
import type { Row } from '../plan/types.js';
import type { Split } from '../source/source.js';
import { KindlingError } from '../errors.js';
import { TaskFailedError, type WorkerPool } from './pool.js';
import { describePosition, RecordPositions } from './positions.js';
import type { DrainTaskResult, OperatorEntries, OwnedInput, RestoreTaskResult, ScanGroupResult, ScanTaskResult, SplitPayload, SnapshotTaskResult, StatefulOperator, StatefulTaskResult, TaskContext } from './protocol.js';
import { splitRuns, type DispatchedStep } from './stages.js';
import type { BatchWatermarks } from './watermark.js';

/** Stage 1's results of a batch (one per split, in split order, each a result or a failure), with its task records. */
export interface ScanOutcome {
  settled: PromiseSettledResult<ScanTaskResult>[];
  tasks: TaskProgress[];
}

/** What the tasks of a run share. */
export interface TaskSettings {
  readonly plan: QueryPlan;
  readonly maxRecordBytes: number;
  /** Rejected records logged per run (all are counted). */
  readonly maxLoggedRejects: number;
  readonly log: (line: string) => void;
}

/**
 * Sends a batch's tasks to the pool and gathers their results. It knows nothing of batch order,
 * watermarks or checkpoints (the batch loop does); it knows where a record is in the input, so a
 * corrupt record or a record ANSI mode fails the query on is named by its position.
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
   * Stage 1 of a batch: the splits cut into one run of consecutive splits per worker (about equal
   * bytes), one task each, raw bytes transferred, on whichever worker frees up first. One task per
   * split (16 per 16 MiB batch) cost ~0.4 ms of CPU per task in round trips and clones of the plan,
   * ~40 ns per event (measured with the engine bench). Stateless, so it may run before the batch's
   * turn (scan-ahead): nothing it does is visible until stage 2, which always runs in batch order
   * after the offsets log is written.
   */
  dispatchScans(batchId: number, splits: readonly Split[]): Promise<ScanOutcome> {
    const tasks: TaskProgress[] = [];
    const settled = new Array<PromiseSettledResult<ScanTaskResult>>(splits.length);
    const runs = splitRuns(splits.map((s) => splitWeight(s.payload)), this.pool.size * SCAN_TASKS_PER_WORKER);
    const all = runs.map(async ([from, to]) => {
      const members = splits.slice(from, to).map((split, k) => ({ splitIndex: from + k, split: split.payload }));
      const transfer = [...new Set(members.flatMap(({ split }) => (split.kind === 'bytes' ? [split.bytes.buffer as ArrayBuffer] : [])))];
      const queuedAtMs = nowMs();
      let outcome: { workerId: number; result: ScanGroupResult };
      try {
        outcome = await this.pool.runScan<ScanGroupResult>({ kind: 'scan', batchId, maxRecordBytes: this.options.maxRecordBytes, maxSamples: 5, splits: members, ...this.context }, transfer);
      } catch (reason) {
        for (let i = from; i < to; i++) settled[i] = { status: 'rejected', reason };
        return;
      }
      const { workerId, result } = outcome;
      let readyAtMs = queuedAtMs;
      for (let i = from; i < to; i++) {
        const r = result.results[i - from];
        if (r === undefined) {
          // The split that failed, and the ones after it that the task did not scan.
          const failure = result.failure ?? { kind: 'failure' as const, code: 'TASK_FAILED' as const, message: `a scan task returned ${result.results.length} of ${to - from} split results`, workerId, threadId: result.threadId, startedAtMs: result.startedAtMs, durationMs: result.durationMs };
          settled[i] = { status: 'rejected', reason: new TaskFailedError(workerId, failure) };
          continue;
        }
        settled[i] = { status: 'fulfilled', value: r };
        tasks.push({ stage: 1, splitIndex: i, partitionId: null, workerId, rows: recordsOf(r), startedAtMs: r.startedAtMs, durationMs: r.durationMs, queueWaitMs: Math.max(0, r.startedAtMs - readyAtMs) });
        readyAtMs = r.startedAtMs + r.durationMs;
      }
    });
    // Settled, not all: a failing split's position is told from the records of the splits before it.
    return Promise.all(all).then(() => ({ settled, tasks }));
  }

  /**
   * Stage 1's results, or its first failure (in split order). ANSI mode failing the query on a
   * record is told with the record's position in the input (the splits before it are counted in).
   */
  scanResults(splits: readonly Split[], settled: readonly PromiseSettledResult<ScanTaskResult>[]): ScanTaskResult[] {
    const failed = settled.findIndex((s) => s.status === 'rejected');
    if (failed === -1) return settled.map((s) => (s as PromiseFulfilledResult<ScanTaskResult>).value);
    const err: unknown = (settled[failed] as PromiseRejectedResult).reason;
    const recordIndex = err instanceof TaskFailedError ? err.failure.recordIndex : undefined;
    if (err instanceof TaskFailedError && err.code === 'QUERY_FAILED' && recordIndex !== undefined) {
      const earlier = settled.slice(0, failed).map((s) => recordsOf((s as PromiseFulfilledResult<ScanTaskResult>).value));
      throw this.queryFailed(err, this.positions.where(splits, earlier, failed, recordIndex));
    }
    throw err;
  }

  /** ANSI mode failed the query on a record: the run stops (a replay would fail again), naming the query, the record's position and the error. */
  private queryFailed(err: TaskFailedError, position: string | null): KindlingError {
    const on = position === null ? '' : ` on the record at ${position}`;
    return new KindlingError('QUERY_FAILED', `query ${this.options.plan.name} failed${on}: ${err.failure.message}`, { domain: 'user', cause: err });
  }

  /** Names the batch in an error; a query failing in stage 2 or the drain is told as such. */
  batchFailed(batchId: number, err: unknown): KindlingError {
    const e = err instanceof TaskFailedError && err.code === 'QUERY_FAILED' ? this.queryFailed(err, null) : (err as KindlingError);
    return new KindlingError(e.code ?? 'BATCH_FAILED', `batch ${batchId}: ${e.message}`, { domain: e.domain ?? 'internal', cause: err });
  }


  /** Stage 2 of one stateful operator: every worker steps all its partitions (eviction needs no input), in one message each. */
  runStateful(batchId: number, operator: StatefulOperator, inputs: readonly (readonly OwnedInput[])[], marks: BatchWatermarks | null): Promise<DispatchedStep[]> {
    return Promise.all(
      inputs.map((parts, workerId) => {
        const dispatchedAtMs = nowMs();
        return this.pool
          .runOn<StatefulTaskResult>(workerId, {
            kind: 'stateful',
            batchId,
            workerId,
            operator,
            lateWatermarkMs: marks?.lateWatermarkMs ?? 0,
            evictionWatermarkMs: marks?.evictionWatermarkMs ?? 0,
            inputs: parts,
            ...this.context,
          })
          .then((result) => ({ result, dispatchedAtMs }));
      }),
    );
  }

  /** Logs the first corrupt records with their position; all are counted. */
  logRejects(splits: readonly Split[], scans: readonly ScanTaskResult[]): void {
    const before = this.positions.advance(splits, scans.map(recordsOf));
    for (let i = 0; i < splits.length; i++) {
      for (const sample of scans[i]!.corruptSamples) {
        if (this.loggedRejects >= this.options.maxLoggedRejects) return;
        this.loggedRejects++;
        this.options.log(`corrupt record (a row of nulls) at ${describePosition(splits[i]!.origin, sample.recordIndex, before[i]!)}: ${sample.reason}: ${sample.excerpt}`);
        if (this.loggedRejects === this.options.maxLoggedRejects) this.options.log('(further corrupt records are counted, not logged)');
      }
    }
  }

  /**
   * The --drain step: every worker flushes its open groups (before HAVING and ordering); one
   * stage-2 task record per worker (all of its partitions) is appended to `tasks`.
   */
  async drain(tasks: TaskProgress[] = []): Promise<Row[]> {
    const results = await Promise.all(
      this.pool.loads.map((l) => {
        const dispatchedAtMs = nowMs();
        return this.pool.runOn<DrainTaskResult>(l.workerId, { kind: 'drain', workerId: l.workerId, ...this.context }).then((result) => ({ result, dispatchedAtMs }));
      }),
    );
    for (const { result: r, dispatchedAtMs } of results) {
      tasks.push({ stage: 2, splitIndex: null, partitionId: null, workerId: r.workerId, rows: r.rows.length, startedAtMs: r.startedAtMs, durationMs: r.durationMs, queueWaitMs: Math.max(0, r.startedAtMs - dispatchedAtMs) });
    }
    return results.flatMap(({ result }) => result.rows);
  }

  /** Every worker's state, by operator and partitionId (for a snapshot). */
  async readState(): Promise<OperatorEntries[]> {
    const results = await Promise.all(
      this.pool.loads.map((l) => this.pool.runOn<SnapshotTaskResult>(l.workerId, { kind: 'snapshot', workerId: l.workerId, ...this.context })),
    );
    return results.flatMap((r) => r.partitionEntries).sort((a, b) => a.partitionId - b.partitionId || a.operator.localeCompare(b.operator));
  }

  /** Replaces every worker's state with its share (an empty share clears it); resolves to the groups now held. */
  async restoreState(shares: readonly WorkerShare[]): Promise<number> {
    const results = await Promise.all(shares.map((partitionEntries, workerId) => this.pool.runOn<RestoreTaskResult>(workerId, { kind: 'restore', workerId, partitionEntries, ...this.context })));
    return results.reduce((n, r) => n + r.groups, 0);
  }
}

/** Stage-1 tasks per worker per batch: one, so each worker gets one message for its share of a batch. */
const SCAN_TASKS_PER_WORKER = 1;

/** A split's weight when a batch's splits are shared out: its bytes (records for generated events). */
function splitWeight(payload: SplitPayload): number {
  switch (payload.kind) {
    case 'file-range':
      return payload.end - payload.start;
    case 'generated':
      return payload.count;
    default:
      return payload.bytes.byteLength;
  }
}

/** Records of a split: parsed ones and those the pre-check skipped. */
const recordsOf = (s: ScanTaskResult): number => s.counters.records + s.skippedRecords;
