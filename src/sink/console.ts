// The console sink: each batch's new rows as a table, the way Spark's console sink prints them.
import type { Writable } from 'node:stream';
import type { Query } from '../query/query.js';
import type { ResultRow } from '../query/window-state.js';
import type { EmittedBatch, Sink } from './sink.js';

/** Spark's show() time format, in UTC: `2024-11-25 10:40:00`. */
function showTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

/** Renders rows as Spark's `show(truncate = false)` does: `+---+` rules and `|cell|` lines. */
export function renderTable(query: Query, rows: readonly ResultRow[], maxRows: number): string {
  const header = [...(query.window ? ['window'] : []), query.keyColumn, query.aggregate.column];
  const cells = rows.slice(0, maxRows).map((r) => [
    ...(query.window ? [`{${showTime(r.windowStartMs)}, ${showTime(r.windowStartMs + query.window.sizeMs)}}`] : []),
    r.key,
    String(r.count) + (r.forced ? ' (forced)' : ''),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const rule = '+' + widths.map((w) => '-'.repeat(w)).join('+') + '+';
  const line = (c: string[]): string => '|' + c.map((v, i) => v.padEnd(widths[i]!)).join('|') + '|';
  const out = [rule, line(header), rule, ...cells.map(line), rule];
  if (rows.length > maxRows) out.push(`only showing top ${maxRows} rows`);
  return out.join('\n');
}

/**
 * Prints batches that have rows (empty batches show only in the progress line). At-least-once:
 * a batch replayed after a crash is printed again.
 */
export class ConsoleSink implements Sink {
  readonly name = 'console';

  constructor(
    private readonly query: Query,
    private readonly out: Writable = process.stdout,
    private readonly maxRows = 20,
  ) {}

  async emit(batch: EmittedBatch): Promise<void> {
    if (batch.rows.length === 0) return;
    const bar = '-------------------------------------------';
    const title = batch.drained ? `Batch: ${batch.batchId} (drained: windows forced out before they completed)` : `Batch: ${batch.batchId}`;
    this.out.write(`${bar}\n${title}\n${bar}\n${renderTable(this.query, batch.rows, this.maxRows)}\n\n`);
  }

  async close(): Promise<void> {}
}
