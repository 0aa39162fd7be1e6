// Which query the page shows and the API paths for it: the runId in its address (?query=RUNID), else the newest (browser module).
import type { UiQuerySummary } from '../server.js';

/** The runId in the page's address, or null: the page follows the newest query the script started. */
export const chosenRunId: string | null = new URLSearchParams(location.search).get('query');

/** The query the page's requests ask about, once known (the chosen one, or the newest when the page loaded). */
let shownRunId: string | null = chosenRunId;

/** Pins the page's requests to one query, so a query started meanwhile does not mix into its data. */
export function showQuery(runId: string): void {
  shownRunId = runId;
}

/** `path` (which may carry a query string) for the query the page shows. */
export function apiPath(path: string): string {
  if (shownRunId === null) return path;
  return `${path}${path.includes('?') ? '&' : '?'}query=${encodeURIComponent(shownRunId)}`;
}

/** The picker over the queries, when a script started more than one: choosing one opens its page. */
export function renderQueryPicker(el: HTMLElement, queries: readonly UiQuerySummary[], shown: string | null): void {
  el.hidden = queries.length < 2;
  if (queries.length < 2) return;
  const label = (q: UiQuerySummary, i: number): string => `${i + 1}. ${q.name} · ${q.active ? 'active' : 'stopped'} · ${q.id.slice(0, 8)}`;
  const options = queries.map((q, i) => [q.runId, label(q, i)] as const);
  const select = el.querySelector('select') ?? el.appendChild(document.createElement('select'));
  if (select.dataset['options'] !== JSON.stringify(options)) {
    select.dataset['options'] = JSON.stringify(options);
    select.replaceChildren(...options.map(([runId, text]) => Object.assign(document.createElement('option'), { value: runId, textContent: text })));
  }
  if (shown !== null) select.value = shown;
  select.onchange = () => {
    location.search = `?query=${encodeURIComponent(select.value)}`;
  };
}
