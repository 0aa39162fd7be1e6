// Spark's console sink for queries started through Spark Connect: every batch, empty ones too, with the writer's numRows and truncate options.
import type { Writable } from 'node:stream';
import { consoleBatch } from '../plan/output.js';
import type { EmittedBatch, Sink } from '../sink/sink.js';

/** Prints each batch as Spark's ConsoleSink does (`Batch: N`, then show(numRows, truncate)). */
export class SparkConsoleSink implements Sink {
  readonly name = 'console';

  constructor(
    private readonly out: Writable,
    private readonly numRows: number,
    private readonly truncate: boolean,
  ) {}

  async emit(batch: EmittedBatch): Promise<void> {
    this.out.write(consoleBatch(batch.batchId, batch.rows, batch.columns, { numRows: this.numRows, truncate: this.truncate ? 20 : 0 }) + '\n');
  }

  async close(): Promise<void> {}
}
