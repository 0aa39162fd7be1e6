// The jsonl sink: one file per batch, written atomically, so a replayed batch overwrites itself (exactly-once output).
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { KindlingError } from '../errors.js';
import type { Query } from '../query/query.js';
import { sparkJsonRow, type EmittedBatch, type Sink } from './sink.js';

/** Writes `path` atomically: temp file, fsync, rename, then fsync of the directory. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const dir = join(path, '..');
  const temp = `${path}.tmp-${process.pid}`;
  const handle = await open(temp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  const dirHandle = await open(dir, 'r');
  try {
    await dirHandle.sync();
  } finally {
    await dirHandle.close();
  }
}

/** Writes `DIR/batch-<id>.jsonl` for every batch with rows, one Spark-shaped JSON row per line. */
export class JsonlSink implements Sink {
  readonly name: string;

  private constructor(
    private readonly dir: string,
    private readonly query: Query,
  ) {
    this.name = `jsonl:${dir}`;
  }

  /** Creates the directory if needed; an unwritable one is a user error. */
  static async open(dir: string, query: Query): Promise<JsonlSink> {
    try {
      await mkdir(dir, { recursive: true });
    } catch (err) {
      throw new KindlingError('BAD_SINK', `--sink jsonl:${dir}: cannot create the directory (${(err as Error).message})`, { domain: 'user', cause: err });
    }
    return new JsonlSink(dir, query);
  }

  /** The file a batch's rows go to. */
  static fileOf(dir: string, batchId: number): string {
    return join(dir, `batch-${batchId}.jsonl`);
  }

  async emit(batch: EmittedBatch): Promise<void> {
    if (batch.rows.length === 0) return;
    const text = batch.rows.map((r) => JSON.stringify(sparkJsonRow(this.query, r))).join('\n') + '\n';
    try {
      await writeFileAtomic(JsonlSink.fileOf(this.dir, batch.batchId), text);
    } catch (err) {
      throw new KindlingError('SINK_WRITE', `batch ${batch.batchId}: jsonl sink cannot write to ${this.dir}: ${(err as Error).message}`, {
        domain: 'external',
        cause: err,
      });
    }
  }

  async close(): Promise<void> {}
}
