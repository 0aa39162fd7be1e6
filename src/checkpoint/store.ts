// The checkpoint directory on disk: metadata, offsets log, commit log, snapshot files; every write atomic and durable.
import { mkdir, readdir, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KindlingError } from '../errors.js';
import { removeTemporaries, writeFileAtomic } from '../fs-atomic.js';
import { lockCheckpointDir } from './lock.js';
import type { CheckpointLog, CheckpointMetadata, CommitEntry, OffsetsEntry, SnapshotListing } from './log.js';

/** A snapshot file as listed (not yet read). */
export interface SnapshotFile extends SnapshotListing {
  readonly bytes: number;
  readonly mtimeMs: number;
}

const SNAPSHOT_SUFFIX = '.snapshot';

/** Describes a filesystem error for a person: what happened and the errno. */
export function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  const what: Record<string, string> = {
    ENOSPC: 'disk full',
    EDQUOT: 'disk quota exceeded',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EROFS: 'read-only file system',
    ENOENT: 'the directory is gone',
    ENOTDIR: 'a part of the path is not a directory',
    EIO: 'I/O error',
  };
  return code ? `${what[code] ?? (err as Error).message} (${code})` : (err as Error).message;
}

/**
 * The directory layout, like Spark's checkpoint location:
 *
 *     DIR/metadata.json          the query and the input the checkpoint belongs to
 *     DIR/offsets/<batchId>.json a batch's source range, durable before any of its output exists
 *     DIR/commits/<batchId>.json durable after the sinks flushed the batch
 *     DIR/snapshots/<batchId>.snapshot  state after the batch (format.ts)
 *
 * Every file is written to a hidden temporary name, fsynced, renamed into place and the directory
 * fsynced, so a file is either absent or complete; a kill leaves at most a temporary file, removed
 * on the next open. A write that fails (disk full, permissions, the directory removed) is an
 * error that stops the engine: it never runs on without the checkpoints it was asked for.
 */
export class CheckpointStore implements CheckpointLog {
  private constructor(
    readonly dir: string,
    /** Injected by tests only: pause this long inside every snapshot write (after the data, before fsync and rename). */
    private readonly snapshotWriteDelayMs = 0,
  ) {}

  /** Creates (if needed) and checks the directory; an unusable one is a user error naming the cause. */
  static async open(dir: string, options: { readonly snapshotWriteDelayMs?: number } = {}): Promise<CheckpointStore> {
    const store = new CheckpointStore(dir, options.snapshotWriteDelayMs);
    try {
      for (const sub of ['offsets', 'commits', 'snapshots']) await mkdir(join(dir, sub), { recursive: true });
      await lockCheckpointDir(dir);
      await store.removeTemporaries();
      // Prove the directory takes a durable write now, not at the first batch.
      await store.writeAtomic(join(dir, '.probe'), 'ok\n');
      await unlink(join(dir, '.probe'));
    } catch (err) {
      if (err instanceof KindlingError) throw new KindlingError('CHECKPOINT_DIR', `--checkpoint-dir ${dir}: ${err.message}`, { domain: 'user', cause: err });
      throw new KindlingError('CHECKPOINT_DIR', `--checkpoint-dir ${dir}: cannot use it as a checkpoint directory: ${describeFsError(err)}`, { domain: 'user', cause: err });
    }
    return store;
  }

  /** Opens an existing checkpoint for reading only (inspect); a missing directory is a user error. */
  static async openExisting(dir: string): Promise<CheckpointStore> {
    try {
      const info = await stat(dir);
      if (!info.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
      await stat(join(dir, 'metadata.json'));
    } catch (err) {
      throw new KindlingError('CHECKPOINT_DIR', `${dir} is not a Kindling checkpoint directory (${describeFsError(err)})`, { domain: 'user', cause: err });
    }
    return new CheckpointStore(dir);
  }

  async readMetadata(): Promise<CheckpointMetadata | null> {
    const text = await readFile(join(this.dir, 'metadata.json'), 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null;
      throw err;
    });
    if (text === null) return null;
    try {
      return JSON.parse(text) as CheckpointMetadata;
    } catch (err) {
      throw new KindlingError('CHECKPOINT_CORRUPT', `${join(this.dir, 'metadata.json')} is not valid JSON (${(err as Error).message}); use a new --checkpoint-dir`, { domain: 'user', cause: err });
    }
  }

  async writeMetadata(metadata: CheckpointMetadata): Promise<void> {
    await this.write(join(this.dir, 'metadata.json'), JSON.stringify(metadata, null, 2) + '\n', 'the metadata');
  }

  /** Write-ahead: the batch's range, durable before any of its output exists (the batch loop waits for it). */
  async writeOffsets(entry: OffsetsEntry): Promise<void> {
    await this.write(join(this.dir, 'offsets', `${entry.batchId}.json`), JSON.stringify(entry) + '\n', `the offsets of batch ${entry.batchId}`);
  }

  async writeCommit(entry: CommitEntry): Promise<void> {
    await this.write(join(this.dir, 'commits', `${entry.batchId}.json`), JSON.stringify(entry) + '\n', `the commit of batch ${entry.batchId}`);
  }

  async writeSnapshot(batchId: number, bytes: Uint8Array): Promise<void> {
    const path = join(this.dir, 'snapshots', `${batchId}${SNAPSHOT_SUFFIX}`);
    await this.write(path, bytes, `the snapshot of batch ${batchId}`, this.snapshotWriteDelayMs);
  }

  async readSnapshot(listing: SnapshotListing): Promise<Uint8Array> {
    return readFile(listing.path);
  }

  /** Batch ids with an offsets entry, ascending. */
  async loggedBatchIds(): Promise<number[]> {
    return this.ids('offsets', '.json');
  }

  /** Batch ids with a commit entry, ascending. */
  async committedBatchIds(): Promise<number[]> {
    return this.ids('commits', '.json');
  }

  async readOffsets(batchId: number): Promise<OffsetsEntry> {
    const path = join(this.dir, 'offsets', `${batchId}.json`);
    try {
      const entry = JSON.parse(await readFile(path, 'utf8')) as OffsetsEntry;
      if (entry.batchId !== batchId) throw new Error(`it names batch ${String(entry.batchId)}`);
      return entry;
    } catch (err) {
      throw new KindlingError('CHECKPOINT_CORRUPT', `offsets log entry ${path} is unreadable (${(err as Error).message}); batch ${batchId} cannot be replayed with its boundaries; use a new --checkpoint-dir`, {
        domain: 'user',
        cause: err,
      });
    }
  }

  /** Snapshot files, newest batch first. */
  async snapshotFiles(): Promise<SnapshotFile[]> {
    const ids = await this.ids('snapshots', SNAPSHOT_SUFFIX);
    const files: SnapshotFile[] = [];
    for (const batchId of ids.reverse()) {
      const path = join(this.dir, 'snapshots', `${batchId}${SNAPSHOT_SUFFIX}`);
      const info = await stat(path).catch(() => null);
      if (info) files.push({ batchId, path, bytes: info.size, mtimeMs: info.mtimeMs });
    }
    return files;
  }

  /**
   * Keeps the newest `keep` snapshots, and the log entries a restore from the oldest kept one needs
   * (batches after it) or that are among the newest `retainBatches` logged batches (a replay's
   * input); removes the rest. Deleting is not crash-critical: a leftover is harmless.
   */
  async prune(keep: number, retainBatches = 0): Promise<{ snapshots: number; logEntries: number }> {
    try {
      return await this.pruneOrThrow(keep, retainBatches);
    } catch (err) {
      throw err instanceof KindlingError ? err : this.writeError('prune old files', err);
    }
  }

  private async pruneOrThrow(keep: number, retainBatches: number): Promise<{ snapshots: number; logEntries: number }> {
    const snapshots = await this.snapshotFiles();
    if (snapshots.length <= keep) return { snapshots: 0, logEntries: 0 };
    const kept = snapshots.slice(0, keep);
    const newestLogged = (await this.loggedBatchIds()).at(-1) ?? 0;
    // Log entries at or below this go: neither a restore nor the retained batches need them.
    const oldestKept = Math.min(kept[kept.length - 1]!.batchId, newestLogged - retainBatches);
    let removedSnapshots = 0;
    let logEntries = 0;
    for (const s of snapshots.slice(keep)) {
      await this.remove(s.path);
      removedSnapshots++;
    }
    for (const sub of ['offsets', 'commits']) {
      for (const id of await this.ids(sub, '.json')) {
        if (id > oldestKept) break;
        await this.remove(join(this.dir, sub, `${id}.json`));
        logEntries++;
      }
    }
    return { snapshots: removedSnapshots, logEntries };
  }

  private async remove(path: string): Promise<void> {
    try {
      await unlink(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw this.writeError(`remove ${path}`, err);
    }
  }

  private async ids(sub: string, suffix: string): Promise<number[]> {
    const names = await readdir(join(this.dir, sub));
    const ids: number[] = [];
    for (const name of names) {
      if (!name.endsWith(suffix) || name.startsWith('.')) continue;
      const id = Number(name.slice(0, -suffix.length));
      if (Number.isSafeInteger(id) && id >= 0 && String(id) === name.slice(0, -suffix.length)) ids.push(id);
    }
    return ids.sort((a, b) => a - b);
  }

  private async write(path: string, data: string | Uint8Array, what: string, delayMs = 0): Promise<void> {
    try {
      await this.writeAtomic(path, data, delayMs);
    } catch (err) {
      throw this.writeError(`write ${what}`, err);
    }
  }

  private writeError(what: string, err: unknown): KindlingError {
    return new KindlingError(
      'CHECKPOINT_WRITE',
      `checkpoint ${this.dir}: cannot ${what}: ${describeFsError(err)}; stopping rather than running without the checkpoints asked for (free space, fix the directory or point --checkpoint-dir elsewhere)`,
      { domain: 'external', cause: err },
    );
  }

  /** temp file, write, fsync, close, rename over the target, fsync the directory. */
  private async writeAtomic(path: string, data: string | Uint8Array, delayMs = 0): Promise<void> {
    await writeFileAtomic(path, data, delayMs > 0 ? () => sleep(delayMs) : undefined);
  }

  /** Removes temporary files a killed writer left behind. */
  private async removeTemporaries(): Promise<void> {
    for (const sub of ['.', 'offsets', 'commits', 'snapshots']) await removeTemporaries(join(this.dir, sub));
  }
}
