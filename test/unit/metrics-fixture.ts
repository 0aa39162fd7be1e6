// A hand-made ProgressRecord for the metrics unit tests: every field set, any of them overridable.
import type { PhaseDurations, ProgressRecord, TaskProgress } from '../../src/metrics/progress.js';

/** Options of a synthetic record: phases, tasks and a few counters. */
export interface RecordSpec {
  batchId?: number;
  durationMs?: Partial<PhaseDurations>;
  tasks?: TaskProgress[];
  workers?: number;
  noDataBatch?: boolean;
  drained?: boolean;
  inputWaitMs?: number;
  numInputRows?: number;
  lateRows?: number;
  watermarkMs?: number | null;
  maxEventTimeMs?: number | null;
  mainThreadUtilisation?: number;
  numOutputRows?: number;
  system?: ProgressRecord['system'];
  recordLatencyMs?: ProgressRecord['kindling']['recordLatencyMs'];
}

/** A task of `durationMs` on `workerId`, starting at `startedAtMs`. */
export function task(stage: 1 | 2, index: number, workerId: number, durationMs: number, rows = 100, startedAtMs = 1_000_000, queueWaitMs = 0.1): TaskProgress {
  return { stage, splitIndex: stage === 1 ? index : null, partitionId: stage === 2 ? index : null, workerId, rows, startedAtMs, durationMs, queueWaitMs };
}

/** Builds a record whose total is the sum of its phases unless given. */
export function record(spec: RecordSpec = {}): ProgressRecord {
  const d = { source: 0, scan: 0, shuffle: 0, stateful: 0, merge: 0, sink: 0, checkpoint: 0, ...spec.durationMs };
  const total = spec.durationMs?.total ?? d.source + d.scan + d.shuffle + d.stateful + d.merge + d.sink + d.checkpoint;
  const tasks = spec.tasks ?? [];
  const workers = Array.from({ length: spec.workers ?? 2 }, (_, workerId) => {
    const mine = tasks.filter((t) => t.workerId === workerId);
    const busyMs = mine.reduce((n, t) => n + t.durationMs, 0);
    return { workerId, tasks: mine.length, busyMs, utilisation: total > 0 ? Math.min(1, busyMs / total) : 0 };
  });
  const rows = spec.numInputRows ?? 1000;
  return {
    id: 'query-id',
    runId: 'run-id',
    name: 'crash-alerts',
    batchId: spec.batchId ?? 7,
    timestamp: '2024-11-25T10:40:00.000Z',
    numInputRows: rows,
    inputRowsPerSecond: 10_000,
    processedRowsPerSecond: total > 0 ? (rows * 1000) / total : 0,
    durationMs: { ...d, total },
    eventTime: {},
    stateOperators: [{ numRowsTotal: 712, numRowsUpdated: 240, numRowsDroppedByWatermark: spec.lateRows ?? 0, numRowsRemoved: 3, memoryUsedBytes: 65_536, numShufflePartitions: 2 }],
    sources: [{ description: 'generator', startOffset: 0, endOffset: rows, numInputRows: rows }],
    sink: { description: 'console', numOutputRows: spec.numOutputRows ?? 0 },
    kindling: {
      noDataBatch: spec.noDataBatch ?? false,
      drained: spec.drained ?? false,
      inputWaitMs: spec.inputWaitMs ?? 0,
      rejected: 0,
      filtered: rows - 10,
      matched: 10,
      lateRows: spec.lateRows ?? 0,
      fieldNulls: {},
      operators: [],
      watermarkMs: spec.watermarkMs === undefined ? Date.parse('2024-11-25T10:39:30Z') : spec.watermarkMs,
      maxEventTimeMs: spec.maxEventTimeMs === undefined ? Date.parse('2024-11-25T10:40:00Z') : spec.maxEventTimeMs,
      tasks,
      workers,
      mainThreadUtilisation: spec.mainThreadUtilisation ?? 0.2,
      ...(spec.recordLatencyMs ? { recordLatencyMs: spec.recordLatencyMs } : {}),
    },
    ...(spec.system ? { system: spec.system } : {}),
  };
}
