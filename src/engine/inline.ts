// The whole query on one thread with no pool: the benchmark baseline and the target for flamegraphs of the query code.
import { compileQuery, type ScanResult } from '../plan/compile-plan.js';
import type { QueryPlan } from '../plan/plan.js';
import type { Row } from '../plan/types.js';
import type { EmittedBatch } from '../sink/sink.js';
import { scanKafkaBatches } from '../source/kafka-split.js';
import { readFileRange } from '../source/file-range.js';
import { labEventsNdjson } from '../source/lab-events.js';
import type { Source } from '../source/source.js';
import { scanRecordBytes } from './scan-split.js';
import { WatermarkTracker } from './watermark.js';

/** Totals of an inline run. */
export interface InlineSummary {
  batches: number;
  records: number;
  matched: number;
  lateRows: number;
  rowsOut: number;
}

/**
 * Runs `plan` over `source` on the calling thread with exactly the compiled code the workers run,
 * one partition, no task messages: the fastest single-threaded version of the query Kindling
 * has. Batches, watermarks, no-data batches and drain follow the engine.
 */
export async function runInline<O>(plan: QueryPlan, source: Source<O>, options: { drain?: boolean; maxRecordBytes?: number; emit?: (batch: EmittedBatch) => void }): Promise<InlineSummary> {
  const query = compileQuery(plan, { maxRecordChars: options.maxRecordBytes ?? 1 << 20 });
  const analyzed = query.plan;
  const aggregation = analyzed.aggregate ? query.newAggregationState() : null;
  const dedup = analyzed.dedup ? query.newDedupState() : null;
  const watermark = analyzed.watermark ? new WatermarkTracker(analyzed.watermark.delayMs) : null;
  const summary: InlineSummary = { batches: 0, records: 0, matched: 0, lateRows: 0, rowsOut: 0 };
  const emit = (rows: Row[], drained: boolean): void => {
    options.emit?.({ batchId: summary.batches++, rows, columns: analyzed.columns, drained });
    summary.rowsOut += rows.length;
  };
  for (;;) {
    const polled = await source.poll();
    if (polled.kind !== 'batch' && !((aggregation || dedup) && watermark?.advancedSinceLastBatch)) {
      if (polled.kind === 'end') break;
      await new Promise((r) => setTimeout(r, polled.retryInMs));
      continue;
    }
    const marks = watermark?.beginBatch() ?? { lateWatermarkMs: 0, evictionWatermarkMs: 0 };
    const scans: ScanResult[] = [];
    for (const split of polled.kind === 'batch' ? polled.batch.splits : []) {
      const p = split.payload.kind === 'file-range' ? ({ kind: 'bytes', bytes: readFileRange(split.payload) } as const) : split.payload;
      const out =
        p.kind === 'bytes'
          ? scanRecordBytes(query, p.bytes, p.recordEnds)
          : p.kind === 'kafka-batches'
            ? await scanKafkaBatches((bytes, ends) => scanRecordBytes(query, bytes, ends), p)
            : query.scanText(labEventsNdjson(p.spec, p.firstIndex, p.count));
      summary.records += out.counters.records + out.skippedRecords;
      summary.matched += out.counters.records - out.filteredRows;
      scans.push(out);
    }
    let rows: Row[] = scans.flatMap((s) => s.rows);
    let partials = scans.flatMap((s) => (s.partial ? [s.partial] : []));
    if (dedup) {
      const step = dedup.step(scans.flatMap((s) => (s.dedup ? [s.dedup] : [])), marks);
      summary.lateRows += step.lateRows;
      const after = query.afterDedup(step.rows);
      rows = after.rows;
      partials = after.partial ? [after.partial] : [];
    }
    if (aggregation) {
      const step = aggregation.step(partials, marks);
      summary.lateRows += step.lateRows;
      rows = step.rows;
    }
    let maxEventTimeMs: number | null = null;
    for (const s of scans) if (s.maxEventTimeMs !== null && (maxEventTimeMs === null || s.maxEventTimeMs > maxEventTimeMs)) maxEventTimeMs = s.maxEventTimeMs;
    watermark?.endBatch(maxEventTimeMs);
    emit(query.finish(rows), false);
  }
  if (options.drain && aggregation && plan.outputMode !== 'complete') emit(query.finish(aggregation.drain()), true);
  return summary;
}
