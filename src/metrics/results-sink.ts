// A sink that keeps the latest output rows in memory for the web UI's Results page.
import type { InputColumn } from '../plan/bound.js';
import type { Row } from '../plan/types.js';
import type { EmittedBatch, Sink } from '../sink/sink.js';

/** One batch's rows as kept: at most `maxRowsPerBatch` of them, and how many there were. */
export interface KeptBatch {
  readonly batchId: number;
  readonly drained: boolean;
  readonly rows: readonly Row[];
  readonly columns: readonly InputColumn[];
  readonly totalRows: number;
}

/**
 * Keeps the last `maxBatches` batches that had rows (newest last), each cut to
 * `maxRowsPerBatch` rows, so memory stays bounded whatever the output mode.
 */
export class ResultsSink implements Sink {
  readonly name = 'web-ui';
  private readonly kept: KeptBatch[] = [];

  constructor(
    private readonly maxBatches = 20,
    private readonly maxRowsPerBatch = 200,
  ) {}

  async emit(batch: EmittedBatch): Promise<void> {
    if (batch.rows.length === 0) return;
    this.kept.push({ batchId: batch.batchId, drained: batch.drained, columns: batch.columns, rows: batch.rows.slice(0, this.maxRowsPerBatch), totalRows: batch.rows.length });
    if (this.kept.length > this.maxBatches) this.kept.shift();
  }

  /** The kept batches, newest first. */
  latest(): readonly KeptBatch[] {
    return [...this.kept].reverse();
  }

  async close(): Promise<void> {}
}
