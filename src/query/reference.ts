// The test oracle: a plain single-threaded implementation of the query rules (DESIGN.md section 3), no shared engine code paths.
import { Buffer } from 'node:buffer';
import { parseEvent } from './event.js';
import { sortRows } from './order.js';
import type { OutputMode, Query } from './query.js';
import { windowStartsFor } from './window.js';
import type { ResultRow } from './window-state.js';

/** One batch's output from the oracle. */
export interface ReferenceBatch {
  batchId: number;
  rows: ResultRow[];
  lateRows: number;
  /** True for the no-data batch that runs after the input ends, and for the drain batch. */
  noData: boolean;
}

/** The oracle's result over a whole input. */
export interface ReferenceResult {
  batches: ReferenceBatch[];
  records: number;
  rejected: number;
  filtered: number;
  matched: number;
  lateRows: number;
  finalWatermarkMs: number;
}

/** Options of a reference run. */
export interface ReferenceOptions {
  outputMode?: OutputMode;
  drain?: boolean;
  maxRecordBytes?: number;
}

/**
 * Runs `query` over `batches` (each a list of raw records) exactly as Spark's micro-batch rules
 * say, one record at a time: parse, filter, window, late filter with the previous batch's eviction
 * watermark, count, emit/evict with this batch's watermark, then advance the watermark. After the
 * input, one no-data batch runs if the watermark moved; then, with `drain`, a batch flushing the
 * remaining groups as forced rows.
 */
export function runReference(query: Query, batches: Iterable<readonly string[]>, options: ReferenceOptions = {}): ReferenceResult {
  const mode = options.outputMode ?? query.outputMode;
  const maxRecordBytes = options.maxRecordBytes ?? 1024 * 1024;
  const window = query.window;
  const delay = query.watermarkDelayMs;
  const hasWatermark = window !== undefined && delay !== undefined;
  const state = new Map<string, { start: number; key: string; count: number }>();
  const result: ReferenceResult = { batches: [], records: 0, rejected: 0, filtered: 0, matched: 0, lateRows: 0, finalWatermarkMs: 0 };
  let watermark = 0;
  let previousEviction = 0;
  const keep = (count: number): boolean => !query.having || query.having(count);

  const runBatch = (records: readonly string[], noData: boolean): void => {
    const lateWatermark = previousEviction;
    const evictionWatermark = watermark;
    const batch: ReferenceBatch = { batchId: result.batches.length, rows: [], lateRows: 0, noData };
    const updated = new Set<string>();
    let maxEventTime: number | null = null;
    for (const text of records) {
      result.records++;
      if (Buffer.byteLength(text) > maxRecordBytes) {
        result.rejected++;
        continue;
      }
      const parsed = parseEvent(text);
      if (!parsed.ok) {
        result.rejected++;
        continue;
      }
      const event = parsed.event;
      if (!query.filter(event)) {
        result.filtered++;
        continue;
      }
      result.matched++;
      if (maxEventTime === null || event.timestamp > maxEventTime) maxEventTime = event.timestamp;
      const key = query.key(event);
      const starts = window ? windowStartsFor(event.timestamp, window) : [0];
      for (const start of starts) {
        if (hasWatermark && mode !== 'complete' && start + window.sizeMs <= lateWatermark) {
          batch.lateRows++;
          continue;
        }
        const id = `${start}|${key}`;
        const group = state.get(id);
        if (group) group.count++;
        else state.set(id, { start, key, count: 1 });
        updated.add(id);
      }
    }
    const complete = (start: number): boolean => hasWatermark && start + window.sizeMs <= evictionWatermark;
    if (mode === 'complete') {
      for (const g of state.values()) if (keep(g.count)) batch.rows.push({ windowStartMs: g.start, key: g.key, count: g.count });
    } else if (mode === 'update') {
      for (const id of updated) {
        const g = state.get(id)!;
        if (keep(g.count)) batch.rows.push({ windowStartMs: g.start, key: g.key, count: g.count });
      }
      for (const [id, g] of state) if (complete(g.start)) state.delete(id);
    } else {
      for (const [id, g] of state) {
        if (!complete(g.start)) continue;
        if (keep(g.count)) batch.rows.push({ windowStartMs: g.start, key: g.key, count: g.count });
        state.delete(id);
      }
    }
    sortRows(batch.rows, query.orderBy);
    result.lateRows += batch.lateRows;
    result.batches.push(batch);
    previousEviction = evictionWatermark;
    if (hasWatermark && maxEventTime !== null) watermark = Math.max(watermark, maxEventTime - delay);
  };

  for (const records of batches) runBatch(records, false);
  if (hasWatermark && watermark > previousEviction) runBatch([], true);
  if (options.drain && mode !== 'complete') {
    const rows: ResultRow[] = [];
    for (const g of state.values()) if (keep(g.count)) rows.push({ windowStartMs: g.start, key: g.key, count: g.count, forced: true });
    state.clear();
    result.batches.push({ batchId: result.batches.length, rows: sortRows(rows, query.orderBy), lateRows: 0, noData: true });
  }
  result.finalWatermarkMs = watermark;
  return result;
}
