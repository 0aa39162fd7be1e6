// The jsonl sink: one file per batch, written atomically, so a replayed batch overwrites itself (exactly-once output).
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { KindlingError } from '../errors.js';
import { removeTemporaries, writeFileAtomic } from '../fs-atomic.js';
import { jsonLine, type EmittedBatch, type Sink } from './sink.js';

/** Writes `DIR/batch-<id>.jsonl` for every batch with rows, one row per line as Spark's to_json writes it. */
export class JsonlSink implements Sink {
  readonly name: string;

  private constructor(private readonly dir: string) {
    this.name = `jsonl:${dir}`;
  }

  /** Creates the directory if needed; an unwritable one is a user error. */
  static async open(dir: string): Promise<JsonlSink> {
    try {
      await mkdir(dir, { recursive: true });
      // A run killed mid-write leaves a hidden temporary file; the replayed batch writes it again.
      await removeTemporaries(dir);
    } catch (err) {
      throw new KindlingError('BAD_SINK', `--sink jsonl:${dir}: cannot create the directory (${(err as Error).message})`, { domain: 'user', cause: err });
    }
    return new JsonlSink(dir);
  }

  /** The file a batch's rows go to. */
  static fileOf(dir: string, batchId: number): string {
    return join(dir, `batch-${batchId}.jsonl`);
  }

  async emit(batch: EmittedBatch): Promise<void> {
    if (batch.rows.length === 0) return;
    const text = batch.rows.map((r) => jsonLine(batch, r)).join('\n') + '\n';
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
