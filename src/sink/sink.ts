// The Sink interface and the Spark JSON shape of an output row.
import type { Query } from '../query/query.js';
import { isoMs } from '../query/time.js';
import type { ResultRow } from '../query/window-state.js';

/** One batch's output as the sinks receive it, rows already in the query's order. */
export interface EmittedBatch {
  readonly batchId: number;
  readonly rows: readonly ResultRow[];
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
 * A row in Spark's JSON shape: `{"window":{"start":ISO,"end":ISO},"user_id":…,"crash_count":N}`
 * (no window for a plain group-by), plus `"forced":true` on rows flushed by --drain.
 */
export function sparkJsonRow(query: Query, row: ResultRow): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (query.window) {
    out['window'] = { start: isoMs(row.windowStartMs), end: isoMs(row.windowStartMs + query.window.sizeMs) };
  }
  out[query.keyColumn] = row.key;
  out[query.aggregate.column] = row.count;
  if (row.forced) out['forced'] = true;
  return out;
}
