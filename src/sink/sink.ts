// The Sink interface and one output row as Spark's JSON sink writes it.
import type { InputColumn } from '../plan/bound.js';
import { rowToJson } from '../plan/output.js';
import type { Row } from '../plan/types.js';

/** One batch's output as the sinks receive it, rows already in the query's order. */
export interface EmittedBatch {
  readonly batchId: number;
  readonly rows: readonly Row[];
  /** The result's columns (names and types), for formatting the rows. */
  readonly columns: readonly InputColumn[];
  /** True for the --drain batch, whose rows are forced out before their windows completed. */
  readonly drained: boolean;
}

/** Where output rows go. `emit` resolves once the batch is durable (or shown). */
export interface Sink {
  readonly name: string;
  emit(batch: EmittedBatch): Promise<void>;
  close(): Promise<void>;
}

/**
 * A row as one JSON line, Spark's `to_json` of the result row (keys = column names in order,
 * null columns left out), plus `"forced":true` on rows flushed by --drain.
 */
export function jsonLine(batch: EmittedBatch, row: Row): string {
  const json = rowToJson(row, batch.columns);
  if (!batch.drained) return json;
  return json === '{}' ? '{"forced":true}' : json.slice(0, -1) + ',"forced":true}';
}
