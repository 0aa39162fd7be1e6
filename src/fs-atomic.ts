// Atomic file writes (temp file, fsync, rename, directory fsync), shared by the checkpoint store and the jsonl sink.
import { open, readdir, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** The hidden temporary name a write of `path` goes through; a killed writer can leave it behind. */
export function temporaryNameOf(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}`);
}

/**
 * Writes `path` so that it is either absent, its old content, or complete: a hidden temporary file
 * is written and fsynced, renamed over the target, and the directory is fsynced. `beforeSync` runs
 * between the write and the fsync (tests use it to widen the window a kill can land in).
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, beforeSync?: () => Promise<void>): Promise<void> {
  const temp = temporaryNameOf(path);
  const handle = await open(temp, 'w');
  try {
    await handle.writeFile(data);
    await beforeSync?.();
    await handle.sync();
  } catch (err) {
    await handle.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  await handle.close();
  try {
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  const dirHandle = await open(dirname(path), 'r');
  try {
    await dirHandle.sync();
  } finally {
    await dirHandle.close();
  }
}

/** Removes the temporary files killed writers left in `dir`. */
export async function removeTemporaries(dir: string): Promise<void> {
  for (const name of await readdir(dir)) {
    if (name.startsWith('.') && name.includes('.tmp-')) await unlink(join(dir, name)).catch(() => undefined);
  }
}
