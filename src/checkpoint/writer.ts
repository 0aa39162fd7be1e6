// The checkpoint writes in flight: offsets written ahead, commits, one background snapshot; a failed write stops the run.
import { isDeepStrictEqual } from 'node:util';
import { encodeSnapshot, SNAPSHOT_FORMAT_VERSION, stateRows, type QueryIdentity, type Snapshot } from './format.js';
import type { CheckpointLog, OffsetsEntry } from './log.js';

/** A snapshot's content as the batch loop knows it; the writer adds the format fields. */
export type SnapshotContent = Omit<Snapshot, 'formatVersion' | 'createdAtMs' | 'query'>;

/**
 * Writes to a CheckpointLog without standing in the batches' way: every write runs in the
 * background and is tracked, so the batch loop awaits only what its rule needs (a batch's own
 * offsets entry before its output, see Coordinator). The first write that fails is kept and
 * rethrown by `throwIfFailed`, so the run stops rather than running on without its checkpoints.
 * It knows nothing of the pool, the source or the batch ids' meaning.
 */
export class CheckpointWriter {
  /** The offsets entry written ahead for a batch polled ahead (see writeAhead). */
  private ahead: { readonly entry: OffsetsEntry; readonly write: Promise<void> } | null = null;
  /** Commit writes in flight (advisory: awaited only by flush). */
  private readonly commitWrites = new Set<Promise<void>>();
  /** The batch-offsets writes in flight, awaited by flush. */
  private readonly offsetsWrites = new Set<Promise<void>>();
  /**
   * The last offsets write: each one starts only once the one before it is durable, so the log never
   * holds a batch without the batch before it (a crash between two overlapping writes would leave a
   * gap that recovery must refuse — the crash drill found one when a write ahead outran a slow fsync).
   */
  private offsetsTail: Promise<unknown> = Promise.resolve();
  /** The snapshot being encoded and written in the background (one at a time). */
  private snapshotWrite: Promise<void> | null = null;
  private snapshotWriting = false;
  /** Snapshots not taken because the previous one was still being written when they were due. */
  deferredSnapshots = 0;
  private failure: unknown = null;

  constructor(
    readonly log: CheckpointLog,
    private readonly identity: QueryIdentity,
    /** `keep`: snapshots kept; `retain`: batches the offsets and commit logs keep for replays (default: only what a restore needs). */
    private readonly options: { readonly keep: number; readonly retain?: number },
  ) {}

  /**
   * Logs a batch polled ahead while the batch before it runs, so its fsyncs overlap that batch
   * instead of holding back its own output. `offsets` picks it up if the batch runs as logged.
   */
  writeAhead(entry: OffsetsEntry): void {
    if (this.failure !== null || this.ahead !== null) return;
    this.ahead = { entry, write: this.appendOffsets(entry) };
  }

  /** Forgets a write ahead (a restore moves the source; the entry is rewritten if its batch runs). */
  dropAhead(): void {
    this.ahead = null;
  }

  /**
   * Write-ahead of a batch's range; resolves once it is durable (failures surface in throwIfFailed).
   * The entry written ahead is reused when it is this batch's range.
   */
  offsets(entry: OffsetsEntry): Promise<void> {
    const ahead = this.ahead;
    this.ahead = null;
    let write: Promise<void>;
    if (ahead && ahead.entry.batchId === entry.batchId && isDeepStrictEqual(ahead.entry.startOffsets, entry.startOffsets) && isDeepStrictEqual(ahead.entry.endOffsets, entry.endOffsets)) {
      write = ahead.write;
    } else {
      // A write ahead that turned out wrong (it should not) finishes first, as every earlier write does.
      write = this.appendOffsets(entry);
    }
    this.offsetsWrites.add(write);
    void write.then(() => this.offsetsWrites.delete(write));
    return write;
  }

  /**
   * A replayed batch writes nothing, but a write ahead still in flight is kept track of. Returns
   * what its output must wait for.
   */
  replayed(): Promise<void> {
    const write = this.ahead?.write ?? Promise.resolve();
    this.ahead = null;
    return write;
  }

  /** The batch's output is final. A commit lost in a crash only means the batch replays and its sinks write the same again. */
  commit(batchId: number): void {
    const write: Promise<void> = this.track(this.log.writeCommit({ batchId, committedAt: new Date().toISOString() })).then(() => {
      this.commitWrites.delete(write);
    });
    this.commitWrites.add(write);
  }

  /** True while a snapshot is still being encoded or written. */
  get snapshotBusy(): boolean {
    return this.snapshotWriting;
  }

  /** Waits for the snapshot in flight, if any; rethrows a failed write. */
  async snapshotSettled(): Promise<void> {
    await this.snapshotWrite;
    this.throwIfFailed();
  }

  /**
   * Encodes and writes a snapshot, then prunes old files, in the background: it starts after the
   * next batch dispatched its tasks, so the encoding runs while the workers scan. `written`
   * resolves with the file's size once it is durable.
   */
  snapshot(content: SnapshotContent): { rows: number; written: Promise<number> } {
    const snapshot: Snapshot = { formatVersion: SNAPSHOT_FORMAT_VERSION, createdAtMs: Date.now(), query: this.identity, ...content };
    this.snapshotWriting = true;
    const written = (async () => {
      try {
        await new Promise((resolve) => setImmediate(resolve));
        const bytes = encodeSnapshot(snapshot);
        await this.log.writeSnapshot(snapshot.batchId, bytes);
        await this.log.prune(this.options.keep, this.options.retain ?? 0);
        return bytes.length;
      } finally {
        this.snapshotWriting = false;
      }
    })();
    this.snapshotWrite = this.track(written);
    return { rows: stateRows(snapshot), written };
  }

  /** Waits for every write in flight, the snapshot included; rethrows a failed one. */
  async flush(): Promise<void> {
    await this.ahead?.write;
    await Promise.all([...this.offsetsWrites, ...this.commitWrites]);
    await this.snapshotWrite;
    this.throwIfFailed();
  }

  throwIfFailed(): void {
    if (this.failure !== null) throw this.failure;
  }

  /** Writes an offsets entry after every earlier one is durable (failed or not: a failure stops the run anyway). */
  private appendOffsets(entry: OffsetsEntry): Promise<void> {
    const write = this.offsetsTail.then(() => this.log.writeOffsets(entry));
    this.offsetsTail = write.catch(() => undefined);
    return this.track(write);
  }

  /** The write's outcome without an unhandled rejection: a failure is kept for throwIfFailed. */
  private track(write: Promise<unknown>): Promise<void> {
    return write.then(
      () => undefined,
      (err: unknown) => {
        this.failure ??= err;
      },
    );
  }
}
