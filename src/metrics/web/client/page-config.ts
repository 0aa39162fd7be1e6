// The Config tab: the query and every effective setting of the run (browser module).
import { bytes, esc, int } from './format.js';
import type { AppState } from './state.js';

const dur = (msValue: number): string => (msValue % 1000 === 0 ? `${msValue / 1000} s` : `${msValue} ms`);

/** The Config tab. */
export function renderConfig(s: AppState): string {
  const c = s.config;
  if (!c) return '<p class="empty-page">Loading…</p>';
  const q = c.query;
  const row = (k: string, v: string): string => `<tr><th>${esc(k)}</th><td>${v}</td></tr>`;
  const query = [
    row('name', `<strong>${esc(q.name)}</strong>`),
    q.description ? row('description', esc(q.description)) : '',
    row('output mode', esc(q.outputMode)),
    row('window', q.window ? (q.window.slideMs === q.window.sizeMs ? `tumbling ${dur(q.window.sizeMs)}` : `sliding ${dur(q.window.sizeMs)} every ${dur(q.window.slideMs)}`) + ' on event time, [start, end)' : 'none (plain group-by)'),
    row('watermark', q.watermarkDelayMs === null ? 'none' : `max event time − ${dur(q.watermarkDelayMs)}`),
    row('plan', `<pre>${esc(q.plan)}</pre>`),
    row('execution', `<pre>${esc(q.execution)}</pre>`),
  ].join('');
  const settings = Object.entries(c.settings)
    .map(([k, v]) => row(k, esc(v === null ? '–' : String(v))))
    .join('');
  const m = c.machine;
  return `<div class="grid">
    <section class="card"><header><h3>Query</h3></header><table class="table kv" data-testid="config-query">${query}</table></section>
    <section class="card"><header><h3>Run</h3></header><table class="table kv">
      ${row('source', esc(c.source))}${row('started', esc(new Date(c.startedAt).toLocaleString('en-GB')))}${row('run id', `<code>${esc(c.runId)}</code>`)}
      ${row('machine', `${esc(m.cpuModel)} · ${int(m.logicalCores)} logical cores · ${bytes(m.memoryBytes)} · Node ${esc(m.node)}`)}</table>
      <h4>Effective settings</h4><table class="table kv" data-testid="config-settings">${settings}</table></section>
  </div>`;
}
