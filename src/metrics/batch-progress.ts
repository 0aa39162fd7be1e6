// Assembles a batch's ProgressRecord from what the batch loop measured and counted: phase times, counters, tasks.
import { performance } from 'node:perf_hooks';
import type { OperatorRows } from '../engine/plan-graph.js';
import type { RecordLatency } from './record-latency.js';
import type { PhaseDurations, ProgressRecord, SystemProgress, TaskProgress, WorkerProgress } from './progress.js';

/** Epoch ms with sub-ms precision, comparable with the workers' task times. */
export const nowMs = (): number => performance.timeOrigin + performance.now();

type Phase = Exclude<keyof PhaseDurations, 'total' | 'source'>;

/**
 * Times a batch's phases back to back: `end(phase)` charges the time since the previous call to
 * `phase`, so the phases add up to the batch's wall time. The source phase (the poll) happened
 * before the batch started and is added to the total; `inputWaitMs` is the part of it the source
 * spent waiting for input to arrive (Kafka: the fetch it waited for), not processing.
 */
export class PhaseTimer {
  readonly startedAtMs = nowMs();
  private lastMs = this.startedAtMs;
  private readonly phases: Record<Phase, number> = { scan: 0, shuffle: 0, stateful: 0, merge: 0, sink: 0, checkpoint: 0 };

  constructor(
    private readonly sourceMs: number,
    readonly inputWaitMs = 0,
  ) {}

  end(phase: Phase): void {
    const t = nowMs();
    this.phases[phase] += t - this.lastMs;
    this.lastMs = t;
  }

  /** When the last phase ended (epoch ms). */
  get endedAtMs(): number {
    return this.lastMs;
  }

  /** The batch's wall time so far, the poll included. */
  get wallMs(): number {
    return this.lastMs - this.startedAtMs + this.sourceMs;
  }

  /** The batch's processing time: its wall time less the wait for input (Spark's trigger starts once input is there). */
  get processingMs(): number {
    return this.wallMs - Math.min(this.inputWaitMs, this.sourceMs);
  }

  durations(): PhaseDurations {
    return { source: this.sourceMs, ...this.phases, total: this.wallMs };
  }
}

/** A batch's counters, summed over its tasks. */
export interface BatchCounts {
  readonly records: number;
  readonly rejected: number;
  readonly filtered: number;
  readonly matched: number;
  /** By schema field: nulls from a missing key, and from a value that did not convert (from_json). */
  readonly missingFields: readonly number[];
  readonly mistypedFields: readonly number[];
  /** Input rows dropped behind the watermark (Kindling's count). */
  readonly lateRows: number;
  /** Distinct late groups after partial aggregation: Spark's numRowsDroppedByWatermark. */
  readonly lateGroups: number;
  readonly rowsOut: number;
  readonly maxEventTimeMs: number | null;
  readonly stateGroups: number;
  readonly updatedGroups: number;
  readonly evictedGroups: number;
  readonly stateBytes: number;
}

/** Everything a progress record says about one batch. */
export interface BatchFacts {
  readonly id: string;
  readonly runId: string;
  readonly name: string;
  readonly batchId: number;
  readonly timer: PhaseTimer;
  /** When the batch before it started (null: the first batch), for the input rate. */
  readonly previousStartMs: number | null;
  readonly counts: BatchCounts;
  /** The watermark in effect during the batch (the one it evicted with); null: the query has none. */
  readonly watermarkMs: number | null;
  /** The schema's field names, for the per-field null counters. */
  readonly fieldNames: readonly string[];
  /** Rows in and out of each operator of the plan's graph. */
  readonly operators?: readonly OperatorRows[];
  readonly partitions: number;
  readonly source: {
    readonly description: string;
    readonly startOffset: unknown;
    readonly endOffset: unknown;
    readonly latestOffset?: unknown;
    readonly metrics?: Readonly<Record<string, string>>;
  };
  readonly noData: boolean;
  /** The --drain batch: open groups forced out, no input. */
  readonly drained?: boolean;
  readonly sinkDescription: string;
  readonly tasks: readonly TaskProgress[];
  readonly workerIds: readonly number[];
  readonly mainThreadUtilisation: number;
  /** Kafka: the record latency at the batch's end, or null. */
  readonly recordLatency?: RecordLatency | null;
  readonly system?: SystemProgress;
}

/** Busy time and utilisation of each worker over the batch's wall time. */
function workerProgress(workerIds: readonly number[], tasks: readonly TaskProgress[], wallMs: number): WorkerProgress[] {
  return workerIds.map((workerId) => {
    const mine = tasks.filter((t) => t.workerId === workerId);
    const busyMs = mine.reduce((n, t) => n + t.durationMs, 0);
    return { workerId, tasks: mine.length, busyMs, utilisation: wallMs > 0 ? Math.min(1, busyMs / wallMs) : 0 };
  });
}

const isoMs = (ms: number): string => new Date(ms).toISOString();

/** Per-field null counters of from_json, only the fields that had any. */
function fieldNulls(names: readonly string[], c: BatchCounts): Record<string, { missing: number; mistyped: number }> {
  const out: Record<string, { missing: number; mistyped: number }> = {};
  names.forEach((name, i) => {
    const missing = c.missingFields[i] ?? 0;
    const mistyped = c.mistypedFields[i] ?? 0;
    if (missing > 0 || mistyped > 0) out[name] = { missing, mistyped };
  });
  return out;
}

/**
 * The batch's record in Spark's StreamingQueryProgress shape, plus Kindling's own figures.
 * processedRowsPerSecond is Spark's (ProgressReporter): rows over the trigger's processing time,
 * which in Spark never holds a wait for input (a trigger without new data runs no batch), so the
 * time Kindling's source waited for input is left out of it; at least 1 ms, as in Spark.
 */
export function progressRecord(f: BatchFacts): ProgressRecord {
  const c = f.counts;
  const wall = f.timer.wallMs;
  const processing = f.timer.processingMs;
  const sinceLast = f.previousStartMs === null ? wall : f.timer.startedAtMs - f.previousStartMs;
  return {
    id: f.id,
    runId: f.runId,
    name: f.name,
    batchId: f.batchId,
    timestamp: new Date(f.timer.startedAtMs).toISOString(),
    numInputRows: c.records,
    inputRowsPerSecond: sinceLast > 0 ? (c.records * 1000) / sinceLast : 0,
    // Spark divides by at least 1 ms (Math.max(1L, processingTimeMills)).
    processedRowsPerSecond: (c.records * 1000) / Math.max(1, processing),
    durationMs: f.timer.durations(),
    eventTime: {
      ...(c.maxEventTimeMs !== null ? { max: isoMs(c.maxEventTimeMs) } : {}),
      ...(f.watermarkMs !== null ? { watermark: isoMs(f.watermarkMs) } : {}),
    },
    stateOperators: [
      { numRowsTotal: c.stateGroups, numRowsUpdated: c.updatedGroups, numRowsDroppedByWatermark: c.lateGroups, numRowsRemoved: c.evictedGroups, memoryUsedBytes: c.stateBytes, numShufflePartitions: f.partitions },
    ],
    sources: [{ ...f.source, numInputRows: c.records }],
    sink: { description: f.sinkDescription, numOutputRows: c.rowsOut },
    kindling: {
      noDataBatch: f.noData,
      drained: f.drained === true,
      inputWaitMs: wall - processing,
      rejected: c.rejected,
      filtered: c.filtered,
      matched: c.matched,
      lateRows: c.lateRows,
      fieldNulls: fieldNulls(f.fieldNames, c),
      operators: f.operators ?? [],
      watermarkMs: f.watermarkMs,
      maxEventTimeMs: c.maxEventTimeMs,
      tasks: f.tasks,
      workers: workerProgress(f.workerIds, f.tasks, wall),
      mainThreadUtilisation: f.mainThreadUtilisation,
      ...(f.recordLatency ? { recordLatencyMs: f.recordLatency } : {}),
    },
    ...(f.system ? { system: f.system } : {}),
  };
}
