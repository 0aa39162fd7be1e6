// The web page's entry: loads the run's (or the chosen query's) data, follows live updates over SSE and draws the chosen tab.
import type { ProgressRecord } from '../../progress.js';
import type { UiQuerySummary } from '../server.js';
import { apiPath, chosenRunId, renderQueryPicker, showQuery } from './api.js';
import { int } from './format.js';
import { renderConfig } from './page-config.js';
import { PlanPage } from './page-plan.js';
import { renderResults } from './page-results.js';
import { WhatIfPanel } from './page-whatif.js';
import { WhyPanel } from './page-why.js';
import { renderKpis, renderStreaming } from './page-streaming.js';
import { TasksPage } from './page-tasks.js';
import { renderWorkers } from './page-workers.js';
import { addRecord, MAX_RECORDS, type AppState } from './state.js';

const TABS = ['streaming', 'tasks', 'workers', 'plan', 'results', 'config'] as const;
type Tab = (typeof TABS)[number];

const state: AppState = { records: [], config: null, results: null, link: 'connecting' };
const $ = (sel: string): HTMLElement => document.querySelector(sel)!;
let tasksPage: TasksPage | null = null;
let planPage: PlanPage | null = null;
let whyPanel: WhyPanel | null = null;
let resultsBody: HTMLElement | null = null;

/** The Results tab: the why-not and what-if boxes (drawn once, so typing and answers survive updates) above the rows (redrawn). */
function renderResultsTab(el: HTMLElement): void {
  if (!whyPanel || !resultsBody) {
    el.innerHTML = '';
    whyPanel = new WhyPanel(el.appendChild(document.createElement('section')));
    new WhatIfPanel(el.appendChild(document.createElement('section')));
    resultsBody = el.appendChild(document.createElement('div'));
    resultsBody.addEventListener('click', (e) => {
      const button = (e.target as HTMLElement).closest<HTMLButtonElement>('button.why');
      if (button?.dataset['row']) whyPanel!.askRow(JSON.parse(button.dataset['row']) as Record<string, unknown>);
    });
  }
  resultsBody.innerHTML = renderResults(state);
}
let renderQueued = false;
let lastRenderMs = 0;
/** Re-render at most this often: a fast run ends several batches a second. */
const MIN_RENDER_MS = 250;

function tab(): Tab {
  const t = location.hash.slice(1) as Tab;
  return TABS.includes(t) ? t : 'streaming';
}

function renderStatus(): void {
  const el = $('#status');
  const text = { connecting: 'connecting…', live: 'live', ended: 'run finished', disconnected: 'disconnected' }[state.link];
  el.className = `status ${state.link}`;
  el.dataset['link'] = state.link;
  const name = state.config ? `${state.config.query.name} · ` : '';
  el.textContent = `${name}${text} · ${int(state.records.length)} batches shown`;
}

function render(): void {
  renderQueued = false;
  lastRenderMs = performance.now();
  const t = tab();
  for (const name of TABS) {
    $(`#tab-${name}`).hidden = name !== t;
    document.querySelector(`nav a[href="#${name}"]`)?.classList.toggle('active', name === t);
  }
  renderStatus();
  $('#kpis').innerHTML = renderKpis(state);
  const el = $(`#tab-${t}`);
  if (t === 'streaming') el.innerHTML = renderStreaming(state);
  else if (t === 'workers') el.innerHTML = renderWorkers(state);
  else if (t === 'results') renderResultsTab(el);
  else if (t === 'config') el.innerHTML = renderConfig(state);
  else if (t === 'plan') {
    if (!planPage) {
      planPage = new PlanPage(el);
      planPage.onChange = () => render();
    }
    planPage.update(state);
  } else {
    if (!tasksPage) {
      tasksPage = new TasksPage(el);
      tasksPage.onChange = () => render();
    }
    tasksPage.update(state);
  }
  document.body.dataset['rendered'] = String(state.records[state.records.length - 1]?.batchId ?? -1);
}

function scheduleRender(): void {
  if (renderQueued) return;
  renderQueued = true;
  const wait = Math.max(0, lastRenderMs + MIN_RENDER_MS - performance.now());
  setTimeout(() => requestAnimationFrame(render), wait);
}

async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(apiPath(path), { cache: 'no-store' });
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

let resultsInFlight = false;
async function refreshResults(): Promise<void> {
  if (resultsInFlight) return;
  resultsInFlight = true;
  try {
    state.results = await getJson<AppState['results']>('/api/results');
    scheduleRender();
  } catch {
    // The run may be over; the last results stay on the page.
  } finally {
    resultsInFlight = false;
  }
}

function connect(): void {
  // Subscribe before the first fetch, so no batch falls between them; duplicates are dropped.
  const events = new EventSource(apiPath('/api/events'));
  events.addEventListener('hello', () => {
    state.link = 'live';
    scheduleRender();
  });
  events.addEventListener('progress', (e) => {
    const p = JSON.parse((e as MessageEvent<string>).data) as ProgressRecord;
    if (addRecord(state, p)) {
      if (p.sink.numOutputRows > 0) void refreshResults();
      scheduleRender();
    }
  });
  events.addEventListener('end', () => {
    state.link = 'ended';
    events.close();
    scheduleRender();
  });
  events.addEventListener('error', () => {
    if (state.link === 'ended') return;
    state.link = events.readyState === EventSource.CLOSED ? 'disconnected' : 'connecting';
    scheduleRender();
  });
}

/** No query yet (kindling run before the script's writeStream.start()): wait for one, then load it. */
function waitForFirstQuery(): void {
  $('#status').textContent = 'waiting for the script to start a query (writeStream...start())';
  const events = new EventSource('/api/events');
  events.addEventListener('query', () => location.reload());
}

/**
 * The queries a PySpark script started: the picker lists them, and a page that follows the newest (no ?query= in its
 * address) moves to a query started after it loaded.
 */
async function followQueries(shown: string): Promise<void> {
  const queries = await getJson<UiQuerySummary[]>('/api/queries');
  renderQueryPicker($('#queries'), queries, shown);
  if (chosenRunId === null && queries.length > 0 && queries[queries.length - 1]!.runId !== shown) location.reload();
}

async function start(): Promise<void> {
  window.addEventListener('hashchange', () => {
    if (tab() === 'results') void refreshResults();
    render();
  });
  const queries = await getJson<UiQuerySummary[]>('/api/queries');
  const shown = chosenRunId ?? queries[queries.length - 1]?.runId;
  if (shown === undefined) return waitForFirstQuery();
  showQuery(shown);
  renderQueryPicker($('#queries'), queries, shown);
  setInterval(() => void followQueries(shown).catch(() => undefined), 2_000);
  connect();
  render();
  const [records, config] = await Promise.all([getJson<ProgressRecord[]>(`/api/progress?limit=${MAX_RECORDS}`), getJson<AppState['config']>('/api/config')]);
  for (const r of records) addRecord(state, r);
  state.config = config;
  await refreshResults();
  render();
}

start().catch((err: unknown) => {
  $('#status').textContent = `cannot load the run's data: ${(err as Error).message}`;
});
