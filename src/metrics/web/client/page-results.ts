// The Results tab: the latest output rows, batch by batch, in Spark's JSON shape (browser module).
import { esc, int } from './format.js';
import type { AppState, ResultsBatch } from './state.js';

function cell(v: unknown): string {
  if (v !== null && typeof v === 'object' && 'start' in v && 'end' in v) {
    const w = v as { start: string; end: string };
    return `${esc(w.start.replace('T', ' ').replace('.000Z', ''))} → ${esc(w.end.slice(11).replace('.000Z', ''))}`;
  }
  return esc(typeof v === 'object' ? JSON.stringify(v) : v);
}

function table(b: ResultsBatch): string {
  const cols = [...new Set(b.rows.flatMap((r) => Object.keys(r)))];
  const head = cols.map((c) => `<th>${esc(c)}</th>`).join('') + '<th></th>';
  // "why?" asks the replay about this row (page-why.ts); the row travels as JSON in data-row.
  const why = (r: Record<string, unknown>): string => `<td><button class="why" type="button" data-row="${esc(JSON.stringify(r))}" title="replay the run and explain this row">why?</button></td>`;
  const rows = b.rows.map((r) => `<tr>${cols.map((c) => `<td>${cell(r[c])}</td>`).join('')}${why(r)}</tr>`).join('');
  const more = b.totalRows > b.rows.length ? `<p class="muted">showing ${int(b.rows.length)} of ${int(b.totalRows)} rows</p>` : '';
  return `<section class="card wide result-batch" data-testid="result-batch" data-batch="${b.batchId}"><header><h3>Batch ${b.batchId}${b.drained ? ' <span class="tag">drained: windows forced out</span>' : ''}</h3><span class="card-value">${int(b.totalRows)} rows</span></header><table class="table">${`<thead><tr>${head}</tr></thead>`}<tbody>${rows}</tbody></table>${more}</section>`;
}

/** The Results tab. */
export function renderResults(s: AppState): string {
  if (!s.results) return '<p class="empty-page">Loading…</p>';
  if (!s.results.enabled) return '<p class="empty-page">Results are not kept for this run.</p>';
  if (s.results.batches.length === 0) {
    const mode = s.config?.query.outputMode;
    const why = mode === 'append' ? ' In append mode a window is output once the watermark passes its end, so the first rows come one window plus the watermark delay after the start.' : '';
    return `<p class="empty-page">No output rows yet.${why}</p>`;
  }
  return `<p class="hint">The newest batches with output first (up to 20 batches, 200 rows each). Rows are what the sinks receive.</p>${s.results.batches.map(table).join('')}`;
}
