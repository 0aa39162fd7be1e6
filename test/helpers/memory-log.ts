// Test helper: a CheckpointLog in memory, which records the order of its writes and can hold an offsets write back.
import type { CheckpointLog, CheckpointMetadata, CommitEntry, OffsetsEntry, SnapshotListing } from '../../src/checkpoint/log.js';

/** One event of the log's history: a write that started, or one that became durable. */
export type LogEvent = `${'offsets' | 'commit' | 'snapshot'} ${number} ${'started' | 'durable'}`;

/**
 * Keeps metadata, offsets, commits and snapshots in maps. Every write becomes durable after
 * `writeDelayMs` (a slow disk), so a reader that does not wait for it would be seen acting early.
 */
export class MemoryLog implements CheckpointLog {
  readonly dir = 'memory';
  metadata: CheckpointMetadata | null = null;
  readonly offsets = new Map<number, OffsetsEntry>();
  readonly commits = new Map<number, CommitEntry>();
  readonly snapshots = new Map<number, Uint8Array>();
  readonly history: LogEvent[] = [];

  /** `writeDelayMs`: how long every write takes, or a function of the write (a disk whose fsyncs vary). */
  constructor(private readonly writeDelayMs: number | ((what: 'offsets' | 'commit' | 'snapshot', batchId: number) => number) = 0) {}

  private async durable(what: 'offsets' | 'commit' | 'snapshot', batchId: number, store: () => void): Promise<void> {
    this.history.push(`${what} ${batchId} started`);
    const delayMs = typeof this.writeDelayMs === 'number' ? this.writeDelayMs : this.writeDelayMs(what, batchId);
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    store();
    this.history.push(`${what} ${batchId} durable`);
  }

  async readMetadata(): Promise<CheckpointMetadata | null> {
    return this.metadata;
  }

  async writeMetadata(metadata: CheckpointMetadata): Promise<void> {
    this.metadata = metadata;
  }

  writeOffsets(entry: OffsetsEntry): Promise<void> {
    return this.durable('offsets', entry.batchId, () => this.offsets.set(entry.batchId, entry));
  }

  async readOffsets(batchId: number): Promise<OffsetsEntry> {
    const entry = this.offsets.get(batchId);
    if (!entry) throw new Error(`no offsets entry ${batchId}`);
    return entry;
  }

  async loggedBatchIds(): Promise<number[]> {
    return [...this.offsets.keys()].sort((a, b) => a - b);
  }

  writeCommit(entry: CommitEntry): Promise<void> {
    return this.durable('commit', entry.batchId, () => this.commits.set(entry.batchId, entry));
  }

  async committedBatchIds(): Promise<number[]> {
    return [...this.commits.keys()].sort((a, b) => a - b);
  }

  writeSnapshot(batchId: number, bytes: Uint8Array): Promise<void> {
    return this.durable('snapshot', batchId, () => this.snapshots.set(batchId, bytes));
  }

  async snapshotFiles(): Promise<SnapshotListing[]> {
    return [...this.snapshots.keys()].sort((a, b) => b - a).map((batchId) => ({ batchId, path: `memory:snapshots/${batchId}` }));
  }

  async readSnapshot(listing: SnapshotListing): Promise<Uint8Array> {
    return this.snapshots.get(listing.batchId)!;
  }

  async prune(): Promise<void> {}
}
