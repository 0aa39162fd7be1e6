// The pure steps between a batch's tasks: the shuffle of stage 1's partial rows, and the merge of stage 2's results.
import type { PartialRows } from '../query/aggregate.js';
import { sortRows } from '../query/order.js';
import type { Query } from '../query/query.js';
import type { ResultRow } from '../query/window-state.js';
import type { BatchCounts } from '../metrics/batch-progress.js';
import type { TaskProgress } from '../metrics/progress.js';
import type { ScanTaskResult, StatefulTaskResult } from './protocol.js';

/**
 * The shuffle: each scan already grouped its partial rows by the worker owning their partition,
 * so worker w gets element w of every scan (the empty ones left out).
 */
export function shuffle(scans: readonly ScanTaskResult[], workers: number): PartialRows[][] {
  return Array.from({ length: workers }, (_, workerId) =>
    scans.map((scan) => scan.partials[workerId]).filter((p): p is PartialRows => p !== undefined && p.keys.length > 0),
  );
}

/** A worker's stateful result with the time its task was dispatched (for the queue wait). */
export interface DispatchedStep {
  readonly result: StatefulTaskResult;
  readonly dispatchedAtMs: number;
}

/** A batch's output and counters. */
export interface MergedBatch {
  readonly rows: ResultRow[];
  readonly counts: BatchCounts;
}

/**
 * The merge: output rows in the query's order, the counters of every task, and one stage-2 task
 * record per partition that did something (appended to `tasks`).
 */
export function mergeBatch(scans: readonly ScanTaskResult[], steps: readonly DispatchedStep[], orderBy: Query['orderBy'], tasks: TaskProgress[]): MergedBatch {
  const rows: ResultRow[] = [];
  let lateRows = 0;
  let updatedGroups = 0;
  let evictedGroups = 0;
  let stateGroups = 0;
  let stateBytes = 0;
  for (const { result: r, dispatchedAtMs } of steps) {
    let offset = r.startedAtMs;
    for (const p of r.partitions) {
      for (const row of p.rows) rows.push(row);
      lateRows += p.lateRows;
      updatedGroups += p.updatedGroups;
      evictedGroups += p.evictedGroups;
      stateGroups += p.stateGroups;
      stateBytes += p.stateBytes;
      if (p.inputRows > 0 || p.rows.length > 0 || p.evictedGroups > 0) {
        tasks.push({ stage: 2, splitIndex: null, partitionId: p.partitionId, workerId: r.workerId, rows: p.inputRows, startedAtMs: offset, durationMs: p.durationMs, queueWaitMs: Math.max(0, r.startedAtMs - dispatchedAtMs) });
      }
      offset += p.durationMs;
    }
  }
  sortRows(rows, orderBy);
  let records = 0;
  let rejected = 0;
  let filtered = 0;
  let matched = 0;
  let maxEventTimeMs: number | null = null;
  for (const s of scans) {
    records += s.records;
    rejected += s.rejected;
    filtered += s.filtered;
    matched += s.matched;
    if (s.maxEventTimeMs !== null && (maxEventTimeMs === null || s.maxEventTimeMs > maxEventTimeMs)) maxEventTimeMs = s.maxEventTimeMs;
  }
  return {
    rows,
    counts: { records, rejected, filtered, matched, lateRows, rowsOut: rows.length, maxEventTimeMs, stateGroups, updatedGroups, evictedGroups, stateBytes },
  };
}
