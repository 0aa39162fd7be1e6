// Every message that crosses between the main thread and the workers: plain data only, tagged by `kind`.
import type { ErrorCode } from '../errors.js';
import type { PartialRows } from '../query/aggregate.js';
import type { OutputMode, QueryRef } from '../query/query.js';
import type { WatermarkMs } from '../query/time.js';
import type { ScanOutput } from '../query/scan.js';
import type { QueryFunction } from '../query/user-code.js';
import type { ResultRow, StateEntry } from '../query/window-state.js';
import type { FileRangePayload } from '../source/file-range.js';
import type { GeneratorSpec } from '../source/lab-events.js';

/** The records of a stage-1 task: raw bytes (transferred, not copied), a file's byte range (read by the worker), compressed Kafka batches, or a range of generated events. */
export type SplitPayload =
  | { readonly kind: 'bytes'; readonly bytes: Uint8Array; readonly recordEnds?: Uint32Array }
  | FileRangePayload
  | KafkaBatchesPayload
  | { readonly kind: 'generated'; readonly spec: GeneratorSpec; readonly firstIndex: number; readonly count: number };

/**
 * Faults a test injects into the workers (never set in a normal run): `exitInStatefulTask` ends
 * that worker's thread in the middle of that batch's stateful task, after its first partition
 * changed, once (the marker file, created exclusively, says it happened), as a crashing worker would.
 */
export interface WorkerFaults {
  readonly exitInStatefulTask?: { readonly batchId: number; readonly workerId: number; readonly markerFile: string };
}

/** What a worker thread starts with (piscina's workerData): its id, and faults only when a test asks. */
export interface WorkerInit {
  readonly workerId: number;
  readonly faults?: WorkerFaults;
}

/**
 * Compressed Kafka record batches of one topic partition, decoded by the worker (src/source/kafka-split.ts):
 * it keeps the records with offsets in [startOffset, endOffset). `label` (topic-partitionId) and
 * `compressedBy` name the batch when it cannot be decoded.
 */
export interface KafkaBatchesPayload {
  readonly kind: 'kafka-batches';
  readonly bytes: Uint8Array;
  readonly startOffset: number;
  readonly endOffset: number;
  readonly label: string;
  readonly compressedBy: string;
}

/** Settings every task of a run shares. */
export interface TaskContext {
  readonly queryRef: QueryRef;
  /** Hash partitions of the key space (Kindling's spark.sql.shuffle.partitions). */
  readonly partitions: number;
  /** Worker threads; partitionId p is owned by worker p % workers. */
  readonly workers: number;
}

/** Stage 1: scan one split on any free worker. */
export interface ScanTask extends TaskContext {
  readonly kind: 'scan';
  readonly batchId: number;
  readonly splitIndex: number;
  readonly maxRecordBytes: number;
  readonly maxSamples: number;
  readonly split: SplitPayload;
}

/** Stage 2: the stateful step of every partition a worker owns, in one message. */
export interface StatefulTask extends TaskContext {
  readonly kind: 'stateful';
  readonly batchId: number;
  readonly workerId: number;
  readonly outputMode: OutputMode;
  readonly lateWatermarkMs: WatermarkMs | null;
  readonly evictionWatermarkMs: WatermarkMs | null;
  /** This worker's share of every stage-1 task's partial rows (only partitions it owns), as produced. */
  readonly inputs: readonly PartialRows[];
}

/** Flush every group of the worker's partitions as forced rows (--drain). */
export interface DrainTask extends TaskContext {
  readonly kind: 'drain';
  readonly workerId: number;
}

/** Read the state of the worker's partitions, for a snapshot. */
export interface SnapshotTask extends TaskContext {
  readonly kind: 'snapshot';
  readonly workerId: number;
}

/** Replace the worker's state with these entries (already routed to partitions this worker owns). */
export interface RestoreTask extends TaskContext {
  readonly kind: 'restore';
  readonly workerId: number;
  readonly partitionEntries: ReadonlyArray<{ readonly partitionId: number; readonly entries: readonly StateEntry[] }>;
}

export type Task = ScanTask | StatefulTask | DrainTask | SnapshotTask | RestoreTask;

/** Where and when a task ran; times are epoch ms with sub-ms precision, comparable across threads. */
export interface TaskTiming {
  readonly workerId: number;
  readonly threadId: number;
  readonly startedAtMs: number;
  readonly durationMs: number;
}

export interface ScanTaskResult extends ScanOutput, TaskTiming {
  readonly kind: 'scan';
  readonly splitIndex: number;
}

/** One partition's share of a stateful task: what Kindling reports as one stage-2 task. */
export interface PartitionStepResult {
  readonly partitionId: number;
  readonly inputRows: number;
  readonly rows: ResultRow[];
  readonly lateRows: number;
  readonly updatedGroups: number;
  readonly evictedGroups: number;
  readonly stateGroups: number;
  readonly stateBytes: number;
  readonly durationMs: number;
}

export interface StatefulTaskResult extends TaskTiming {
  readonly kind: 'stateful';
  readonly partitions: PartitionStepResult[];
}

export interface DrainTaskResult extends TaskTiming {
  readonly kind: 'drain';
  readonly rows: ResultRow[];
}

export interface SnapshotTaskResult extends TaskTiming {
  readonly kind: 'snapshot';
  readonly partitionEntries: Array<{ partitionId: number; entries: StateEntry[] }>;
}

export interface RestoreTaskResult extends TaskTiming {
  readonly kind: 'restore';
  readonly groups: number;
}

/** A failure inside a worker, sent back as data (error classes do not survive postMessage). */
export interface TaskFailure extends TaskTiming {
  readonly kind: 'failure';
  readonly code: ErrorCode;
  readonly message: string;
  readonly partitionId?: number;
  /** The thrown error's stack: for QUERY_FAILED, where in the query module it failed. */
  readonly stack?: string;
  /** QUERY_FAILED (the user's query code threw, the worker is fine): which function... */
  readonly queryFunction?: QueryFunction;
  /** ...and, in a scan task, the record's index in the split. */
  readonly recordIndex?: number;
}

export type TaskResult = ScanTaskResult | StatefulTaskResult | DrainTaskResult | SnapshotTaskResult | RestoreTaskResult | TaskFailure;
