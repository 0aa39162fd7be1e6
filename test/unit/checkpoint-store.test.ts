// The checkpoint directory: atomic files, listing, pruning, leftovers of killed writers, and errors that name the cause.
import { mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { OffsetsEntry } from '../../src/checkpoint/log.js';
import { CheckpointStore, describeFsError } from '../../src/checkpoint/store.js';
import { KindlingError } from '../../src/errors.js';

const dirs: string[] = [];
function temp(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kindling-store-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const entry = (batchId: number): OffsetsEntry => ({ batchId, startOffsets: { index: batchId * 10 }, endOffsets: { index: batchId * 10 + 10 }, noData: false, watermarkMs: 0, writtenAt: '' });

describe('CheckpointStore', () => {
  it('creates the layout and leaves no temporary files behind', async () => {
    const dir = join(temp(), 'ck');
    const store = await CheckpointStore.open(dir);
    await store.writeOffsets(entry(0));
    await store.writeCommit({ batchId: 0, committedAt: '' });
    await store.writeSnapshot(0, new Uint8Array([1, 2, 3]));
    expect(readdirSync(dir).sort()).toEqual(['commits', 'lock', 'offsets', 'snapshots']);
    expect(readdirSync(join(dir, 'offsets'))).toEqual(['0.json']);
    expect(readdirSync(join(dir, 'snapshots'))).toEqual(['0.snapshot']);
    expect(await store.readOffsets(0)).toEqual(entry(0));
  });

  it('removes temporary files a killed writer left', async () => {
    const dir = temp();
    await CheckpointStore.open(dir);
    writeFileSync(join(dir, 'snapshots', '.5.snapshot.tmp-4242'), 'half');
    writeFileSync(join(dir, 'offsets', '.6.json.tmp-4242'), '{');
    await CheckpointStore.open(dir);
    expect(readdirSync(join(dir, 'snapshots'))).toEqual([]);
    expect(readdirSync(join(dir, 'offsets'))).toEqual([]);
  });

  it('lists batch ids in order and ignores foreign files', async () => {
    const dir = temp();
    const store = await CheckpointStore.open(dir);
    for (const id of [10, 2, 1]) await store.writeOffsets(entry(id));
    writeFileSync(join(dir, 'offsets', 'notes.txt'), '');
    writeFileSync(join(dir, 'offsets', '007.json'), '');
    expect(await store.loggedBatchIds()).toEqual([1, 2, 10]);
  });

  /** A store with batches 0-11 logged and committed, and a snapshot every third batch (2, 5, 8, 11). */
  async function twelveBatches(): Promise<CheckpointStore> {
    const store = await CheckpointStore.open(temp());
    for (let id = 0; id < 12; id++) {
      await store.writeOffsets(entry(id));
      await store.writeCommit({ batchId: id, committedAt: '' });
      if (id % 3 === 2) await store.writeSnapshot(id, new Uint8Array([id]));
    }
    return store;
  }

  it('prunes to the newest snapshots and the log entries a restore from the oldest kept one needs', async () => {
    const store = await twelveBatches();
    const removed = await store.prune(2);
    expect((await store.snapshotFiles()).map((s) => s.batchId)).toEqual([11, 8]);
    expect(await store.loggedBatchIds()).toEqual([9, 10, 11]);
    expect(await store.committedBatchIds()).toEqual([9, 10, 11]);
    expect(removed).toEqual({ snapshots: 2, logEntries: 18 });
  });

  it('keeps the newest --checkpoint-retain batches of the logs, and always what a restore needs', async () => {
    const store = await twelveBatches();
    // Retaining 5 batches: 7-11 (a restore from snapshot 8 needs only 9-11).
    await store.prune(2, 5);
    expect(await store.loggedBatchIds()).toEqual([7, 8, 9, 10, 11]);
    expect(await store.committedBatchIds()).toEqual([7, 8, 9, 10, 11]);
    // Retaining more batches than were logged removes no log entry; snapshots are pruned all the same.
    await store.writeSnapshot(14, new Uint8Array([14]));
    await store.prune(2, 100);
    expect(await store.loggedBatchIds()).toEqual([7, 8, 9, 10, 11]);
    expect((await store.snapshotFiles()).map((s) => s.batchId)).toEqual([14, 11]);
  });

  it('refuses a directory that cannot be created, naming why, as a user error', async () => {
    const file = join(temp(), 'plain-file');
    writeFileSync(file, '');
    const err = await CheckpointStore.open(join(file, 'ck')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KindlingError);
    expect((err as KindlingError).domain).toBe('user');
    expect((err as KindlingError).message).toMatch(/cannot use it as a checkpoint directory: a part of the path is not a directory \(ENOTDIR\)/);
  });

  it('turns a failed write into an error that stops the engine and says what to do', async () => {
    const dir = temp();
    const store = await CheckpointStore.open(join(dir, 'ck'));
    renameSync(join(dir, 'ck'), join(dir, 'moved'));
    const err = await store.writeOffsets(entry(3)).catch((e: unknown) => e);
    expect((err as KindlingError).code).toBe('CHECKPOINT_WRITE');
    expect((err as KindlingError).domain).toBe('external');
    expect((err as KindlingError).message).toMatch(/cannot write the offsets of batch 3: the directory is gone \(ENOENT\); stopping rather than running without the checkpoints asked for/);
  });

  it.each([
    { code: 'ENOSPC', text: 'disk full (ENOSPC)' },
    { code: 'EDQUOT', text: 'disk quota exceeded (EDQUOT)' },
    { code: 'EACCES', text: 'permission denied (EACCES)' },
    { code: 'EROFS', text: 'read-only file system (EROFS)' },
  ])('describes $code for a person', ({ code, text }) => {
    expect(describeFsError(Object.assign(new Error('raw'), { code }))).toBe(text);
  });

  it('reports an unreadable offsets entry as a reason to start a new checkpoint', async () => {
    const dir = temp();
    const store = await CheckpointStore.open(dir);
    writeFileSync(join(dir, 'offsets', '4.json'), '{"batchId": 4, "startOff');
    await expect(store.readOffsets(4)).rejects.toThrow(/offsets log entry .*4\.json is unreadable .*use a new --checkpoint-dir/);
  });
});
