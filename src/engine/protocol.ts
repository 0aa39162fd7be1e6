// Every message that crosses between the main thread and the workers: plain data only, tagged by `kind`.
import type { ErrorCode } from '../errors.js';
import type { CorruptSample } from '../plan/compile-plan.js';
import type { ParseCounters } from '../plan/from-json.js';
import type { QueryPlan } from '../plan/plan.js';
import type { AggregationEntry, DedupInput, PartialGroups } from '../plan/state.js';
import type { Row } from '../plan/types.js';
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
  /** The query; plain data, compiled once per worker and `planKey`. */
  readonly plan: QueryPlan;
  /** Names the plan (its fingerprint): a worker compiles a plan once per key. */
  readonly planKey: string;
  /** Hash partitions of the key space (Kindling's spark.sql.shuffle.partitions). */
  readonly partitions: number;
  /** Worker threads; partitionId p is owned by worker p % workers. */
  readonly workers: number;
}

/** The stateful operators of a plan: dropDuplicates' seen keys, and the aggregation's groups. */
export type StatefulOperator = 'dedup' | 'aggregate';

/**
 * Stage-2 input for the partitions one worker owns, each entry tagged with its partitionId:
 * partial aggregates, or dropDuplicates rows with their order in the batch (`seqs`).
 */
export type PlainOwnedInput =
  | { readonly operator: 'aggregate'; readonly partitionIds: number[]; readonly groups: PartialGroups }
  | { readonly operator: 'dedup'; readonly partitionIds: number[]; readonly seqs: number[]; readonly input: DedupInput };

/**
 * A PlainOwnedInput as JSON text, for its trip worker -> main thread -> owner: a string is cloned
 * as one copy, where each of the ~5 objects per group cost ~1 µs to clone and as much again to
 * rebuild, twice (measured: a worker's 169 groups, 22 KB, 0.3 ms to serialise and 0.65-0.9 ms to
 * deserialise). Only used when JSON gives the values back exactly (`packOwned` in stages.ts).
 */
export interface PackedOwnedInput {
  readonly operator: 'packed';
  /** Entries inside (partitionIds.length of the plain input). */
  readonly rows: number;
  readonly json: string;
}

export type OwnedInput = PlainOwnedInput | PackedOwnedInput;

/** One split of a stage-1 task, with its index in the batch. */
export interface IndexedSplit {
  readonly splitIndex: number;
  readonly split: SplitPayload;
}

/**
 * Stage 1: scan a run of consecutive splits of a batch on any free worker, in split order, in one
 * message (one task per worker per batch: a task costs a round trip and a clone of the plan).
 */
export interface ScanTask extends TaskContext {
  readonly kind: 'scan';
  readonly batchId: number;
  readonly maxRecordBytes: number;
  readonly maxSamples: number;
  readonly splits: readonly IndexedSplit[];
}

/** Stage 2: one stateful operator's step on every partition a worker owns, in one message. */
export interface StatefulTask extends TaskContext {
  readonly kind: 'stateful';
  readonly batchId: number;
  readonly workerId: number;
  readonly operator: StatefulOperator;
  /** W(N-1): rows and groups at or behind it are late. 0 without a watermark. */
  readonly lateWatermarkMs: number;
  /** W(N): windows ending at or before it are complete. 0 without a watermark. */
  readonly evictionWatermarkMs: number;
  /** This worker's share of the batch's input to the operator, in task order. */
  readonly inputs: readonly OwnedInput[];
}

/** Flush every group of the worker's aggregation state as rows (--drain). */
export interface DrainTask extends TaskContext {
  readonly kind: 'drain';
  readonly workerId: number;
}

/** Read the state of the worker's partitions, for a snapshot. */
export interface SnapshotTask extends TaskContext {
  readonly kind: 'snapshot';
  readonly workerId: number;
}

/** One partition's state of one operator, as snapshots keep it: plain data, keyed by group id or dedup key. */
export type OperatorEntries =
  | { readonly partitionId: number; readonly operator: 'aggregate'; readonly entries: readonly AggregationEntry[] }
  | { readonly partitionId: number; readonly operator: 'dedup'; readonly entries: ReadonlyArray<readonly [key: string, eventTimeUs: number | null]> };

/** Replace the worker's state with these entries (already routed to partitions this worker owns). */
export interface RestoreTask extends TaskContext {
  readonly kind: 'restore';
  readonly workerId: number;
  readonly partitionEntries: readonly OperatorEntries[];
}

export type Task = ScanTask | StatefulTask | DrainTask | SnapshotTask | RestoreTask;

/** Where and when a task ran; times are epoch ms with sub-ms precision, comparable across threads. */
export interface TaskTiming {
  readonly workerId: number;
  readonly threadId: number;
  readonly startedAtMs: number;
  readonly durationMs: number;
}

/**
 * A stage-1 task's answer: one result per split, in order. A split that fails stops the task:
 * `failure` is that split's (results.length is its position in the task), the later ones were not scanned.
 */
export interface ScanGroupResult extends TaskTiming {
  readonly kind: 'scan';
  readonly results: ScanTaskResult[];
  readonly failure?: TaskFailure;
}

/** What stage 1 made of one split. Every record is counted once in `counters.records` (parsed) or `skippedRecords` (the pre-check ruled it out). */
export interface ScanTaskResult extends TaskTiming {
  readonly kind: 'split';
  readonly splitIndex: number;
  readonly counters: ParseCounters;
  readonly skippedRecords: number;
  readonly filteredRows: number;
  /** Max event time (ms) of rows that reached the watermark step; null: none. */
  readonly maxEventTimeMs: number | null;
  readonly corruptSamples: CorruptSample[];
  /** Stateful plans: element w is worker w's share (null: none). */
  readonly owned: Array<OwnedInput | null>;
  /** Stateless plans: the output rows, in input order. */
  readonly rows: Row[];
}

/** One partition's share of a stateful task: what Kindling reports as one stage-2 task. */
export interface PartitionStepResult {
  readonly partitionId: number;
  readonly inputRows: number;
  /** Aggregation: emitted groups (before HAVING). dropDuplicates: the rows kept, with their `seqs`. */
  readonly rows: Row[];
  readonly seqs: number[];
  /** Input rows dropped behind the watermark (Kindling's count). */
  readonly lateRows: number;
  /** Distinct groups dropped behind the watermark (Spark's numRowsDroppedByWatermark). */
  readonly lateGroups: number;
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
  readonly rows: Row[];
}

export interface SnapshotTaskResult extends TaskTiming {
  readonly kind: 'snapshot';
  readonly partitionEntries: OperatorEntries[];
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
  readonly stack?: string;
  /** QUERY_FAILED (ANSI mode failed the query on a record; the worker is fine): the record's index in its split, when known. */
  readonly recordIndex?: number;
}

export type TaskResult = ScanGroupResult | StatefulTaskResult | DrainTaskResult | SnapshotTaskResult | RestoreTaskResult | TaskFailure;
