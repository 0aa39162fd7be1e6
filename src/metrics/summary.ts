// Human-readable lines: the per-batch progress line and the final summary.
import type { RunSummary } from '../engine/coordinator.js';
import type { ProgressRecord } from './progress.js';

const n = (x: number): string => Math.round(x).toLocaleString('en-US');
const clock = (ms: number): string => new Date(ms).toISOString().slice(11, 19);

/**
 * One line per batch: rows in, rate, duration, watermark, state, late and rows out; `waiting`, until
 * the first rows, says how many windows are open and how far the watermark is from closing the oldest.
 */
export function progressLine(p: ProgressRecord, waiting: string | null = null): string {
  const k = p.kindling;
  const state = p.stateOperators[0]?.numRowsTotal ?? 0;
  const kind = k.drained ? ' (drained)' : k.noDataBatch ? ' (no-data)' : '';
  const wm = k.watermarkMs === null ? '' : ` | watermark ${clock(k.watermarkMs)}`;
  const lag = consumerLag(p);
  return (
    `batch ${p.batchId}${kind}: ${n(p.numInputRows)} rows in ${p.durationMs.total.toFixed(1)} ms ` +
    `(${n(p.processedRowsPerSecond)} rows/s)${wm} | state ${n(state)} | late ${n(k.lateRows)} | rejected ${n(k.rejected)} | out ${n(p.sink.numOutputRows)}${lag === null ? '' : ` | lag ${n(lag)}`}${waiting === null ? '' : ` | ${waiting}`}`
  );
}

/** Kafka's consumer lag after a batch: offsets behind the topic's end over all topic partitions; null for other sources. */
export function consumerLag(p: ProgressRecord): number | null {
  const behind = p.sources[0]?.metrics?.['offsetsBehindLatest'];
  return behind === undefined ? null : Number(behind);
}

/** A watermark for people: it starts at 0 (the epoch) and stays there until a matching event moves it. */
export function watermarkText(watermarkMs: number): string {
  return watermarkMs === 0 ? 'none yet (no matching event has moved it)' : new Date(watermarkMs).toISOString();
}

/** The final summary of a run. */
export function summaryLines(s: RunSummary): string[] {
  const seconds = s.elapsedMs / 1000;
  return [
    `Kindling finished (${s.stoppedBy === 'signal' ? 'stopped' : 'end of input'}) after ${s.batches} batch(es) in ${seconds.toFixed(2)} s`,
    `  events in ${n(s.records)} | rejected ${n(s.rejected)} | filtered ${n(s.filtered)} | matched ${n(s.matched)} | late ${n(s.lateRows)} | rows out ${n(s.rowsOut)}`,
    `  ${n(seconds > 0 ? s.records / seconds : 0)} events/s${s.watermarkMs === null ? '' : ` | final watermark ${watermarkText(s.watermarkMs)}`}`,
  ];
}
