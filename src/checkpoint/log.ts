// The checkpoint log as the batch loop and recovery see it: write-ahead offsets, commits, snapshots (the store implements it on disk).
import type { QueryIdentity } from './format.js';

/** metadata.json: written once when the directory is first used; names what the checkpoint belongs to. */
export interface CheckpointMetadata {
  readonly formatVersion: number;
  readonly createdAt: string;
  readonly query: QueryIdentity;
  readonly source: { readonly name: string; readonly identity: unknown };
  /**
   * The query's id (Spark keeps it in its checkpoint's `metadata` file): every run on this checkpoint is the same
   * query, each with a new runId. Absent in checkpoints written before it was kept; the next run adds it.
   */
  readonly queryId?: string;
}

/** offsets/<batchId>.json: a batch's source range, written before the batch's output exists (write-ahead). */
export interface OffsetsEntry<O = unknown> {
  readonly batchId: number;
  /** Null for a no-data batch (it runs only to evict with an advanced watermark) and for the drain batch. */
  readonly startOffsets: O | null;
  readonly endOffsets: O | null;
  readonly noData: boolean;
  /** The --drain batch: it read nothing and flushed every open group; the state after it is empty. */
  readonly drain?: true;
  /** The eviction watermark the batch ran with (Spark's batchWatermarkMs); a replay must see the same. */
  readonly watermarkMs: number | null;
  /** Written while the batch before it ran (its watermark was not known yet, so it is not checked). */
  readonly polledAhead?: true;
  /** The batch's SourceBatch.sourceMetadata (Kafka: the topic id its offsets are in). */
  readonly sourceMetadata?: unknown;
  readonly writtenAt: string;
}

/** commits/<batchId>.json: written after every sink flushed the batch. */
export interface CommitEntry {
  readonly batchId: number;
  readonly committedAt: string;
}

/** A snapshot as listed (not yet read). */
export interface SnapshotListing {
  readonly batchId: number;
  /** Where it is, for messages (a file path for the store). */
  readonly path: string;
}

/**
 * The narrow interface checkpointing needs. Every write is atomic and durable when its promise
 * resolves; a failed write rejects with a message for the user. `CheckpointStore` is the one on
 * disk; tests use an in-memory one to check recovery planning and the batch loop's ordering.
 */
export interface CheckpointLog {
  /** Where the checkpoint is, for messages. */
  readonly dir: string;
  readMetadata(): Promise<CheckpointMetadata | null>;
  writeMetadata(metadata: CheckpointMetadata): Promise<void>;
  writeOffsets(entry: OffsetsEntry): Promise<void>;
  readOffsets(batchId: number): Promise<OffsetsEntry>;
  /** Batch ids with an offsets entry, ascending. */
  loggedBatchIds(): Promise<number[]>;
  writeCommit(entry: CommitEntry): Promise<void>;
  /** Batch ids with a commit entry, ascending. */
  committedBatchIds(): Promise<number[]>;
  writeSnapshot(batchId: number, bytes: Uint8Array): Promise<void>;
  /** Snapshots, newest batch first. */
  snapshotFiles(): Promise<readonly SnapshotListing[]>;
  readSnapshot(listing: SnapshotListing): Promise<Uint8Array>;
  /**
   * Keeps the newest `keep` snapshots, and of the offsets and commit logs the entries a restore from
   * the oldest of them needs and the newest `retainBatches` batches (replays: docs/replay.md).
   */
  prune(keep: number, retainBatches?: number): Promise<unknown>;
}
