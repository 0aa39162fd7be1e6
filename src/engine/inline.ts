// The whole query on one thread with no pool: the benchmark baseline and the target for flamegraphs of the query code.
import { sortRows } from '../query/order.js';
import type { OutputMode, Query } from '../query/query.js';
import { Scanner } from '../query/scan.js';
import { WatermarkTracker } from '../query/watermark.js';
import { WindowState, type ResultRow } from '../query/window-state.js';
import type { EmittedBatch } from '../sink/sink.js';
import { scanKafkaBatches } from '../source/kafka-split.js';
import { readFileRange } from '../source/file-range.js';
import { labEventsNdjson } from '../source/lab-events.js';
import type { Source } from '../source/source.js';

/** Totals of an inline run. */
export interface InlineSummary {
  batches: number;
  records: number;
  matched: number;
  lateRows: number;
  rowsOut: number;
}

/**
 * Runs `query` over `source` on the calling thread with exactly the code the workers run (the
 * Scanner and WindowState), one partition, no task messages: the fastest single-threaded version
 * of the query Kindling has. Batches, watermarks, no-data batch and drain follow the engine.
 */
export async function runInline<O>(
  query: Query,
  source: Source<O>,
  options: { outputMode?: OutputMode; drain?: boolean; maxRecordBytes?: number; emit?: (batch: EmittedBatch) => void },
): Promise<InlineSummary> {
  const mode = options.outputMode ?? query.outputMode;
  const scanner = new Scanner(query, { partitions: 1, maxRecordBytes: options.maxRecordBytes ?? 1 << 20, maxSamples: 0 });
  const state = new WindowState();
  const watermark = query.window && query.watermarkDelayMs !== undefined ? new WatermarkTracker(query.watermarkDelayMs) : null;
  const summary: InlineSummary = { batches: 0, records: 0, matched: 0, lateRows: 0, rowsOut: 0 };
  const emit = (rows: ResultRow[], drained: boolean): void => {
    options.emit?.({ batchId: summary.batches++, rows: sortRows(rows, query.orderBy), drained });
    summary.rowsOut += rows.length;
  };
  for (;;) {
    const polled = await source.poll();
    if (polled.kind !== 'batch' && !watermark?.advancedSinceLastBatch) {
      if (polled.kind === 'end') break;
      await new Promise((r) => setTimeout(r, polled.retryInMs));
      continue;
    }
    const marks = watermark?.beginBatch() ?? null;
    const parts = [];
    let maxEventTimeMs: number | null = null;
    for (const split of polled.kind === 'batch' ? polled.batch.splits : []) {
      const p = split.payload.kind === 'file-range' ? ({ kind: 'bytes', bytes: readFileRange(split.payload) } as const) : split.payload;
      const out =
        p.kind === 'bytes'
          ? scanner.scanBytes(p.bytes, p.recordEnds)
          : p.kind === 'kafka-batches'
            ? await scanKafkaBatches(scanner, p)
            : scanner.scanText(labEventsNdjson(p.spec, p.firstIndex, p.count));
      summary.records += out.records;
      summary.matched += out.matched;
      if (out.maxEventTimeMs !== null && (maxEventTimeMs === null || out.maxEventTimeMs > maxEventTimeMs)) maxEventTimeMs = out.maxEventTimeMs;
      parts.push(...out.partials);
    }
    const step = state.step(parts, {
      outputMode: mode,
      windowSizeMs: query.window?.sizeMs ?? null,
      lateWatermarkMs: marks?.lateWatermarkMs ?? null,
      evictionWatermarkMs: marks?.evictionWatermarkMs ?? null,
      having: query.having,
    });
    summary.lateRows += step.lateRows;
    watermark?.endBatch(maxEventTimeMs);
    emit(step.rows, false);
  }
  if (options.drain && mode !== 'complete') emit(state.drain(query.having), true);
  return summary;
}
