// A traced replay as text for a person: the key's records and their fates, its windows batch by batch, and one closing sentence.
import type { FilterFailure } from './steps.js';
import type { RecordFate, RecordTrace, ReplayTrace, WindowMs, WindowTrace } from './trace.js';
import type { PlainValue } from './values.js';

/** `10:40:10.000` (the date is said once, in the header). */
const clock = (ms: number): string => new Date(ms).toISOString().slice(11, 23);
const span = (w: WindowMs | null): string => (w === null ? '(no window)' : `[${clock(w.startMs)}, ${clock(w.endMs)})`);
const seconds = (ms: number): string => `${Number((ms / 1000).toFixed(3))} s`;
const valueText = (v: PlainValue): string => (v === null ? 'null' : typeof v === 'string' ? JSON.stringify(v) : typeof v === 'object' ? `[${v.start}, ${v.end})` : String(v));
const assignments = (values: Readonly<Record<string, PlainValue>>): string =>
  Object.entries(values)
    .map(([k, v]) => `${k} = ${valueText(v)}`)
    .join(', ');

/** "(severity IN (High, Critical)) was false (severity = "Medium")", or "... was null: severity is null". */
export function failureText(f: FilterFailure): string {
  if (f.result === null) return `${f.predicate} was null (not true): ${f.nullFields.length > 0 ? `null field ${f.nullFields.join(', ')}` : assignments(f.values)}`;
  return `${f.predicate} was false (${assignments(f.values)})`;
}

/** One fate, in a few words. */
export function fateText(fate: RecordFate): string {
  switch (fate.kind) {
    case 'filtered':
      return `${fate.nullFields.length > 0 ? 'null field' : 'filtered'}: ${failureText(fate)}`;
    case 'duplicate':
      return fate.late ? 'dropped by dropDuplicates: behind the watermark' : 'dropped by dropDuplicates: its key was seen before';
    case 'no-event-time':
      return 'no event time (null): it falls in no window and does not move the watermark';
    case 'late':
      return fate.window === null
        ? `late in batch ${fate.batchId}`
        : `late in ${span(fate.window)}: arrived in batch ${fate.batchId}, window end ${clock(fate.window.endMs)} <= watermark W(${fate.batchId - 1}) = ${clock(fate.lateWatermarkMs)} (by ${seconds(fate.byMs)})`;
    case 'counted':
      return `counted in ${span(fate.window)} in batch ${fate.batchId}: ${assignments(fate.aggregates)}`;
  }
}

function recordLine(r: RecordTrace, width: number): string {
  const when = r.eventTimeMs === null ? 'no event time'.padEnd(23) : new Date(r.eventTimeMs).toISOString();
  const fates = r.fates.length === 0 ? ['passed every step (no aggregation reached)'] : r.fates.map(fateText);
  return `  ${r.position.padEnd(width)}  ${when}  batch ${r.batchId}: ${fates.join('; ')}`;
}

/** The late records of a window, as "1 late (arrived in batch 12, 3.2 s after the watermark passed the window's end)". */
function lateText(t: WindowTrace, records: readonly RecordTrace[]): string | null {
  if (t.late === 0) return null;
  const lates = records.flatMap((r) => r.fates).filter((f): f is Extract<RecordFate, { kind: 'late' }> => f.kind === 'late' && f.window?.startMs === t.window?.startMs);
  const detail = lates.slice(0, 3).map((f) => `arrived in batch ${f.batchId}, ${seconds(f.byMs)} after the watermark passed the window's end`);
  return `${t.late} late (${detail.join('; ')}${lates.length > 3 ? '; …' : ''})`;
}

function filteredText(t: WindowTrace): string | null {
  const entries = Object.entries(t.filtered);
  if (entries.length === 0) return null;
  return entries.map(([predicate, n]) => `${n} filtered by ${predicate}`).join(', ');
}

/** The closing sentence for one window of the key. */
export function windowAnswer(trace: ReplayTrace, t: WindowTrace): string {
  const key = trace.key;
  const where = t.window === null ? '' : ` in ${span(t.window)}`;
  const counted = `${t.counted} counted`;
  const parts = [counted, lateText(t, trace.records), filteredText(t)].filter((p): p is string => p !== null);
  const o = t.outcome;
  switch (o.kind) {
    case 'emitted':
      return `${key} has a row${where}: emitted in batch ${o.batchId}${o.forced ? ' (forced out by --drain)' : ''} with ${assignments(rowAggregates(o.row, trace))} (${parts.join(', ')})`;
    case 'having-false':
      return `no row for ${key}${where}: ${parts.join(', ')}; in batch ${o.batchId} HAVING ${failureText(o.having)}`;
    case 'open':
      return `no row for ${key}${where} yet: ${parts.join(', ')}; the window is still open ${trace.untilBatchId === null ? 'when the input ended' : `after batch ${trace.untilBatchId}`} (watermark ${clock(o.watermarkMs)} < window end ${t.window ? clock(t.window.endMs) : '?'}; --drain would force it out)`;
    case 'never-counted':
      return `no row for ${key}${where}: none of its records was counted (${parts.slice(1).join(', ') || 'no records'})`;
    case 'evicted':
      return `${key}${where}: ${t.outputs.length} update(s) (batches ${t.outputs.map((x) => x.batchId).join(', ')}), removed from state in batch ${o.batchId} (${parts.join(', ')})`;
    case 'kept': {
      const last = t.outputs.at(-1);
      return last?.row ? `${key}${where}: latest row in batch ${last.batchId} with ${assignments(rowAggregates(last.row, trace))} (${parts.join(', ')})` : `no row for ${key}${where}: ${parts.join(', ')}${last?.having ? `; HAVING ${failureText(last.having)}` : ''}`;
    }
  }
}

/** The aggregate columns of an output row (what is not the window or a key column). */
function rowAggregates(row: Readonly<Record<string, unknown>>, trace: ReplayTrace): Record<string, PlainValue> {
  return Object.fromEntries(Object.entries(row).filter(([k]) => k !== 'window' && !trace.keyColumns.includes(k)) as Array<[string, PlainValue]>);
}

/** The closing sentence: one window's answer, or a count of outcomes over the key's windows. */
export function closingSentence(trace: ReplayTrace): string {
  if (trace.records.length === 0 && trace.windows.length === 0) {
    return `no record of ${trace.keyColumns.join(', ')} = ${trace.key} in the replayed input (${trace.batches.length} batches)`;
  }
  if (trace.windows.length === 0) {
    const by = new Map<string, number>();
    for (const r of trace.records) for (const f of r.fates) if (f.kind === 'filtered') by.set(f.predicate, (by.get(f.predicate) ?? 0) + 1);
    const filtered = [...by].map(([predicate, n]) => `${n} filtered by ${predicate}`).join(', ');
    return `no row for ${trace.key}: none of its ${trace.records.length} record(s) reached a window${filtered ? ` (${filtered})` : ''}`;
  }
  if (trace.windows.length === 1) return windowAnswer(trace, trace.windows[0]!);
  const by = (kind: string): WindowTrace[] => trace.windows.filter((w) => w.outcome.kind === kind);
  const parts = [
    by('emitted').length > 0 ? `${by('emitted').length} emitted` : null,
    by('having-false').length > 0 ? `${by('having-false').length} dropped by HAVING` : null,
    by('open').length > 0 ? `${by('open').length} still open at the end` : null,
    by('never-counted').length > 0 ? `${by('never-counted').length} never counted (all late or filtered)` : null,
    by('evicted').length > 0 ? `${by('evicted').length} updated then evicted` : null,
  ].filter(Boolean);
  const late = trace.windows.filter((w) => w.late > 0).length;
  return `${trace.key}: ${trace.windows.length} windows, ${parts.join(', ')}${late > 0 ? `; ${late} of them had late records` : ''} (give --window START for one)`;
}

/** A record worth a line of its own: it reached the aggregation, or a filter dropped it after it passed that filter's first conjunct (a near miss). */
export const nearMiss = (r: RecordTrace): boolean => r.fates.some((f) => f.kind !== 'filtered' || f.conjunct > 0 || f.result === null);

/**
 * The whole explanation as text. Records a filter's first conjunct dropped (for crash-alerts: the
 * key's events that are not crashes at all) are counted per predicate unless `allRecords`; --json
 * always lists every record.
 */
export function explainText(trace: ReplayTrace, header: string, allRecords = false): string {
  const lines = [header, ''];
  const shown = allRecords ? trace.records : trace.records.filter(nearMiss);
  lines.push(`records of ${trace.keyColumns.join(', ')} = ${trace.key} (${trace.records.length}):`);
  const width = Math.max(0, ...shown.map((r) => r.position.length));
  for (const r of shown) lines.push(recordLine(r, width));
  const summarized = new Map<string, number>();
  for (const r of trace.records) if (!shown.includes(r)) for (const f of r.fates) if (f.kind === 'filtered') summarized.set(f.predicate, (summarized.get(f.predicate) ?? 0) + 1);
  for (const [predicate, n] of summarized) lines.push(`  and ${n.toLocaleString('en-US')} record(s) where ${predicate} was false (not listed; --all-records lists them)`);
  lines.push('', `windows (${trace.windows.length}):`);
  for (const t of trace.windows) {
    const counts = t.counts.map((c) => `batch ${c.batchId}: ${Object.values(c.aggregates).map(valueText).join(', ')}`).join('; ');
    lines.push(`  ${span(t.window)}  counted ${t.counted}, late ${t.late}${counts ? `; after ${counts}` : ''}`);
    if (t.watermarkPassed) lines.push(`      watermark passed its end in batch ${t.watermarkPassed.batchId} (W = ${clock(t.watermarkPassed.watermarkMs)})`);
    lines.push(`      ${windowAnswer(trace, t)}`);
  }
  lines.push('', `answer: ${closingSentence(trace)}.`);
  return lines.join('\n') + '\n';
}
