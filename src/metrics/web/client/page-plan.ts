// The Plan tab: the query's operators as the engine runs them (Spark's SQL-tab graph), with each one's rows in and out for the chosen batch (browser module).
import { esc, int } from './format.js';
import type { AppState } from './state.js';
import { BatchPicker } from './batch-picker.js';

/** What each place means, as the graph's group headers say it. */
const PLACES: Readonly<Record<string, string>> = {
  'stage 1': 'Stage 1 · one task per split, on any worker',
  shuffle: 'Exchange · partial rows to the worker owning their partitionId',
  'stage 2': 'Stage 2 · one task per partitionId, on its owner',
  'main thread': 'Main thread',
};

/** The Plan tab; it keeps its batch picker between updates, as the Tasks tab does. */
export class PlanPage {
  private readonly picker: BatchPicker;
  private readonly body: HTMLElement;

  constructor(el: HTMLElement) {
    el.innerHTML = `<div class="controls"><label>Batch <select data-testid="plan-batch-picker"></select></label><span class="hint">Rows into and out of each operator of the chosen batch.</span></div><div class="plan-body"></div>`;
    this.picker = new BatchPicker(el.querySelector('select')!, (r) => `batch ${r.batchId} · ${int(r.numInputRows)} rows${r.kindling.noDataBatch ? ' · no-data' : ''}`, () => this.onChange?.());
    this.body = el.querySelector('.plan-body')!;
  }

  /** Called when the user picks a batch. */
  onChange: (() => void) | null = null;

  /** Redraws for the current records. */
  update(s: AppState): void {
    const p = this.picker.pick(s.records);
    const graph = s.config?.query.graph;
    if (!graph) {
      this.body.innerHTML = '<p class="empty-page">Loading…</p>';
      return;
    }
    const rows = p?.kindling.operators ?? [];
    let place = '';
    const parts: string[] = [];
    graph.forEach((op, i) => {
      if (op.place !== place) {
        if (place !== '') parts.push('</div>');
        place = op.place;
        parts.push(`<div class="plan-place" data-place="${esc(place)}"><h4>${esc(PLACES[place] ?? place)}</h4>`);
      }
      const r = rows[i];
      const late = op.name === 'Stateful aggregate' || op.name === 'Deduplicate' ? p?.stateOperators[0]?.numRowsDroppedByWatermark ?? 0 : 0;
      const figures = r ? `${int(r.rowsIn)} in → ${int(r.rowsOut)} out${late > 0 ? ` · ${int(late)} late dropped` : ''}` : '–';
      parts.push(
        `<div class="plan-op" data-testid="plan-op" data-op="${i}" data-name="${esc(op.name)}" data-rows-in="${r?.rowsIn ?? ''}" data-rows-out="${r?.rowsOut ?? ''}">` +
          `<div class="plan-op-head"><strong>${esc(op.name)}</strong><span class="card-value">${figures}</span></div><div class="muted">${esc(op.detail)}</div></div>`,
      );
      if (i < graph.length - 1) parts.push('<div class="plan-arrow" aria-hidden="true">↓</div>');
    });
    if (place !== '') parts.push('</div>');
    const title = p ? `batch ${p.batchId}${p.kindling.noDataBatch ? ' (no data)' : ''}` : 'no batch yet';
    this.body.innerHTML = `<section class="card wide" data-testid="plan-graph" data-batch="${p?.batchId ?? ''}"><header><h3>${esc(s.config!.query.name)}: the plan as Kindling runs it</h3><span class="card-value">${esc(title)}</span></header>${parts.join('')}</section>`;
  }
}
