// The console sink: each batch's new rows as a table, the way Spark's console sink prints them (show(numRows, truncate)).
import type { Writable } from 'node:stream';
import { consoleBatch } from '../plan/output.js';
import type { EmittedBatch, Sink } from './sink.js';

/**
 * Prints batches that have rows (empty batches show only in the progress line). At-least-once:
 * a batch replayed after a crash is printed again.
 */
export class ConsoleSink implements Sink {
  readonly name = 'console';

  constructor(
    private readonly out: Writable = process.stdout,
    private readonly numRows = 20,
  ) {}

  async emit(batch: EmittedBatch): Promise<void> {
    if (batch.rows.length === 0) return;
    const note = batch.drained ? '(drained: windows forced out before they completed)\n' : '';
    this.out.write(note + consoleBatch(batch.batchId, batch.rows, batch.columns, { numRows: this.numRows }) + '\n');
  }

  async close(): Promise<void> {}
}
