// The progress record of one batch, modelled on Spark's StreamingQueryProgress, plus what Spark hides.
import type { RecordLatency } from './record-latency.js';

/** One task of a batch: a stage-1 split scan or a stage-2 partition step. */
export interface TaskProgress {
  readonly stage: 1 | 2;
  /** Stage 1: index of the split in the batch; stage 2: null. */
  readonly splitIndex: number | null;
  /** Stage 2: the partition (null for a --drain task, which flushes all of its worker's partitions); stage 1: null. */
  readonly partitionId: number | null;
  readonly workerId: number;
  /** Stage 1: records scanned; stage 2: partial rows merged. */
  readonly rows: number;
  readonly startedAtMs: number;
  readonly durationMs: number;
  /** Time between dispatch on the main thread and the start on the worker. */
  readonly queueWaitMs: number;
}

/** Per-worker figures for one batch. */
export interface WorkerProgress {
  readonly workerId: number;
  readonly tasks: number;
  readonly busyMs: number;
  /** busyMs / the batch's wall time. */
  readonly utilisation: number;
}

/** Durations of a batch's phases, in ms; they add up to `total` (within rounding). */
export interface PhaseDurations {
  /** Polling the source and cutting splits. */
  source: number;
  /** Stage 1: scan tasks, from the first dispatch to the last result. */
  scan: number;
  /** Grouping the partial rows by owner worker (the shuffle, on the main thread). */
  shuffle: number;
  /** Stage 2: stateful tasks. */
  stateful: number;
  /** Combining, ordering, advancing the watermark. */
  merge: number;
  sink: number;
  checkpoint: number;
  total: number;
}

/** CPU and memory at the time of a batch (systeminformation sampled in the background, plus the process's own figures). */
export interface SystemProgress {
  /** When the CPU/memory sample was taken (ISO 8601); null before the first sample arrived. */
  readonly sampledAt: string | null;
  /** Whole-machine CPU load 0..100 and per core, averaged over the last sampling interval; null before the first sample. */
  readonly cpu: { readonly loadPercent: number; readonly coresLoadPercent: readonly number[] } | null;
  /** Machine memory: used = total - available (what `free` calls used); null before the first sample. */
  readonly memory: { readonly totalBytes: number; readonly usedBytes: number; readonly availableBytes: number } | null;
  /** This process (process.memoryUsage()): the main thread's V8 heap; RSS covers every thread. */
  readonly process: { readonly heapUsedBytes: number; readonly heapTotalBytes: number; readonly rssBytes: number; readonly externalBytes: number };
}

/** A batch's progress record; field names follow Spark's StreamingQueryProgress where it has them. */
export interface ProgressRecord {
  readonly id: string;
  readonly runId: string;
  readonly name: string;
  readonly batchId: number;
  /** When the batch started, ISO 8601. */
  readonly timestamp: string;
  readonly numInputRows: number;
  readonly inputRowsPerSecond: number;
  /** Rows over the batch's processing time: durationMs.total less kindling.inputWaitMs (as Spark's, whose triggers never wait for input). */
  readonly processedRowsPerSecond: number;
  readonly durationMs: PhaseDurations;
  readonly eventTime: { readonly max?: string; readonly watermark?: string };
  readonly stateOperators: ReadonlyArray<{
    readonly numRowsTotal: number;
    readonly numRowsUpdated: number;
    readonly numRowsDroppedByWatermark: number;
    readonly numRowsRemoved: number;
    readonly memoryUsedBytes: number;
    readonly numShufflePartitions: number;
  }>;
  readonly sources: ReadonlyArray<{
    readonly description: string;
    readonly startOffset: unknown;
    readonly endOffset: unknown;
    readonly numInputRows: number;
    /** Kafka: the topic's end offsets when the batch was cut (Spark's latestOffset). */
    readonly latestOffset?: unknown;
    /** Kafka: Spark's source metrics, e.g. avgOffsetsBehindLatest (the consumer lag), as strings like Spark's. */
    readonly metrics?: Readonly<Record<string, string>>;
  }>;
  readonly sink: { readonly description: string; readonly numOutputRows: number };
  /** What Spark does not show. */
  readonly kindling: {
    readonly noDataBatch: boolean;
    /** The --drain batch (also a no-data batch): every open group forced out. */
    readonly drained: boolean;
    /** Part of durationMs.source spent waiting for input to arrive (Kafka's fetch wait); processedRowsPerSecond leaves it out. */
    readonly inputWaitMs: number;
    /** Corrupt records: not valid JSON, not an object, or over --max-record-bytes (from_json makes them rows of nulls). */
    readonly rejected: number;
    readonly filtered: number;
    readonly matched: number;
    /** Input rows dropped behind the watermark (Spark's numRowsDroppedByWatermark counts late groups instead). */
    readonly lateRows: number;
    /** By field name: from_json's nulls from a missing key or a value that did not convert (fields without any left out). */
    readonly fieldNulls: Readonly<Record<string, { readonly missing: number; readonly mistyped: number }>>;
    /** Rows in and out of each operator of the plan's graph (the run description's query.graph), in its order. */
    readonly operators: ReadonlyArray<{ readonly rowsIn: number; readonly rowsOut: number }>;
    readonly watermarkMs: number | null;
    readonly maxEventTimeMs: number | null;
    readonly tasks: readonly TaskProgress[];
    readonly workers: readonly WorkerProgress[];
    /** Share of the wall time since the previous batch's record (waiting for input and the trigger included) the main thread's event loop was busy (0..1). */
    readonly mainThreadUtilisation: number;
    /**
     * Kafka source: ms from each record's Kafka timestamp to the end of this batch (output written),
     * p50/p99/max over the batch's records, from record-batch headers (src/metrics/record-latency.ts).
     * Absent for other sources and for batches without records.
     */
    readonly recordLatencyMs?: RecordLatency;
  };
  /** CPU load per core and memory used vs total; present when an observer samples them (see src/metrics/system-sampler.ts). */
  readonly system?: SystemProgress;
}
