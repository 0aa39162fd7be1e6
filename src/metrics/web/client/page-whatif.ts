// The Results tab's "what if?": the run's input replayed under other watermarks (GET /api/what-if), drawn as rows vs late vs delay (browser module).
import { legend, lineChart, PALETTE } from './charts.js';
import { esc, int } from './format.js';
import { askInto, replayCard } from './page-why.js';

/** One setting's figures, as /api/what-if serves them (src/replay/what-if.ts). */
interface WhatIfResult {
  readonly setting: { readonly watermarkMs: number; readonly windowMs: number | null };
  readonly rowsEmitted: number;
  readonly lateEvents: number;
  readonly lateGroups: number;
  readonly peakStateRows: number;
  readonly delayEventTimeMs: { readonly p50: number; readonly p99: number } | null;
  readonly delayBatches: { readonly p50: number; readonly p99: number } | null;
}

type WhatIfAnswer = { ok: true; batches: number; results: WhatIfResult[] } | { ok: false; error: string };

const duration = (ms: number): string => (ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`);
const label = (r: WhatIfResult): string => `${duration(r.setting.watermarkMs)}${r.setting.windowMs === null ? '' : ` / ${duration(r.setting.windowMs)}`}`;

/** The answer: two charts over the settings and the table of every figure. */
export function renderWhatIf(a: WhatIfAnswer): string {
  if (!a.ok) return `<p class="why-error" data-testid="whatif-error">${esc(a.error)}</p>`;
  const xLabels = a.results.map(label);
  const counts = [
    { name: 'rows emitted', color: PALETTE[0]!, values: a.results.map((r) => r.rowsEmitted) },
    { name: 'late events', color: PALETTE[3]!, values: a.results.map((r) => r.lateEvents) },
  ];
  const delays = [
    { name: 'delay p50', color: PALETTE[2]!, values: a.results.map((r) => (r.delayEventTimeMs ? r.delayEventTimeMs.p50 / 1000 : null)) },
    { name: 'delay p99', color: PALETTE[2]!, dashed: true, values: a.results.map((r) => (r.delayEventTimeMs ? r.delayEventTimeMs.p99 / 1000 : null)) },
  ];
  const rows = a.results
    .map(
      (r) =>
        `<tr><td>${esc(label(r))}</td><td>${int(r.rowsEmitted)}</td><td>${int(r.lateEvents)}</td><td>${int(r.lateGroups)}</td><td>${int(r.peakStateRows)}</td>` +
        `<td>${r.delayEventTimeMs ? `${(r.delayEventTimeMs.p50 / 1000).toFixed(1)} s / ${(r.delayEventTimeMs.p99 / 1000).toFixed(1)} s` : '—'}</td>` +
        `<td>${r.delayBatches ? `${r.delayBatches.p50} / ${r.delayBatches.p99}` : '—'}</td></tr>`,
    )
    .join('');
  return (
    `<p class="muted">The run's ${int(a.batches)} batches replayed once per setting (x axis: watermark${a.results.some((r) => r.setting.windowMs !== null) ? ' / window' : ''}).</p>` +
    `<div class="whatif-charts"><div>${lineChart({ id: 'whatif-counts', xLabels, integer: true, yFormat: (v) => int(v), series: counts, height: 150 })}${legend(counts)}</div>` +
    `<div>${lineChart({ id: 'whatif-delay', xLabels, yFormat: (v) => `${v.toFixed(0)} s`, series: delays, height: 150 })}${legend(delays)}</div></div>` +
    `<table class="table whatif-table" data-testid="whatif-table"><thead><tr><th>watermark</th><th>rows</th><th>late events</th><th>late groups</th><th>peak state</th><th>delay p50 / p99 (event time)</th><th>delay p50 / p99 (batches)</th></tr></thead><tbody>${rows}</tbody></table>`
  );
}

/** The "What if?" card of the Results tab, drawn once (typing and answers survive updates). */
export class WhatIfPanel {
  constructor(readonly element: HTMLElement) {
    const { form, answer } = replayCard(element, {
      name: 'whatif',
      title: 'What if?',
      fields: '<label>watermarks <input name="watermark" value="0s,10s,30s,60s"></label><label>windows <input name="window" placeholder="10s,30s (optional)"></label>',
      button: 'replay',
      hint: "Replays this run's input under each watermark (and window): rows emitted, late events dropped, state and how long after a window's end its row came.",
    });
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const data = new FormData(form);
      const params = new URLSearchParams({ watermark: String(data.get('watermark') ?? ''), window: String(data.get('window') ?? '') });
      void askInto<WhatIfAnswer>(answer, `/api/what-if?${params.toString()}`, renderWhatIf);
    });
  }
}
