// The Results tab's "why?" and "why not?": asks GET /api/explain (a replay of the run) and shows the answer (browser module).
import { apiPath } from './api.js';
import { esc, int } from './format.js';

/** A window of the answer, as /api/explain serves it. */
interface WhyWindow {
  readonly window: { readonly startMs: number; readonly endMs: number } | null;
  readonly counted: number;
  readonly late: number;
  readonly counts: ReadonlyArray<{ readonly batchId: number; readonly aggregates: Record<string, unknown> }>;
  readonly watermarkPassed: { readonly batchId: number; readonly watermarkMs: number } | null;
  readonly outcome: { readonly kind: string };
  readonly text: string;
}

/** A record of the answer. */
interface WhyRecord {
  readonly position: string;
  readonly eventTimeMs: number | null;
  readonly batchId: number;
  readonly fateTexts: readonly string[];
}

/** GET /api/explain's answer. */
type WhyAnswer =
  | { ok: true; key: string; answer: string; windows: WhyWindow[]; records: WhyRecord[]; recordsTotal: number; batches: number; check: { checked: string[]; divergence: string | null } }
  | { ok: false; error: string };

const clock = (ms: number): string => new Date(ms).toISOString().slice(11, 23);

function windowRows(ws: readonly WhyWindow[]): string {
  const rows = ws
    .map((w) => {
      const span = w.window ? `[${clock(w.window.startMs)}, ${clock(w.window.endMs)})` : '(no window)';
      const counts = w.counts.map((c) => `b${c.batchId}: ${Object.values(c.aggregates).map((v) => esc(v)).join(', ')}`).join(' · ');
      const passed = w.watermarkPassed ? `batch ${w.watermarkPassed.batchId} (${clock(w.watermarkPassed.watermarkMs)})` : '—';
      return `<tr data-outcome="${esc(w.outcome.kind)}"><td>${span}</td><td>${int(w.counted)}</td><td>${int(w.late)}</td><td>${counts || '—'}</td><td>${passed}</td><td>${esc(w.text)}</td></tr>`;
    })
    .join('');
  return `<table class="table why-windows"><thead><tr><th>window</th><th>counted</th><th>late</th><th>count after batch</th><th>watermark passed its end</th><th>outcome</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function recordRows(rs: readonly WhyRecord[]): string {
  const rows = rs
    .map((r) => `<tr><td>${esc(r.position)}</td><td>${r.eventTimeMs === null ? '—' : esc(new Date(r.eventTimeMs).toISOString())}</td><td>${r.batchId}</td><td>${r.fateTexts.map((t) => esc(t)).join('<br>')}</td></tr>`)
    .join('');
  return `<table class="table why-records"><thead><tr><th>record</th><th>event time</th><th>batch</th><th>fate</th></tr></thead><tbody>${rows}</tbody></table>`;
}

/** The answer as HTML. */
export function renderWhy(a: WhyAnswer): string {
  if (!a.ok) return `<p class="why-error" data-testid="why-error">${esc(a.error)}</p>`;
  const check = a.check.divergence
    ? `<p class="why-diverged">The replay diverged from the run: ${esc(a.check.divergence)}</p>`
    : `<p class="muted">Replayed ${int(a.batches)} batches of the run's input through the query's reference implementation${a.check.checked.length > 0 ? `; checked ${esc(a.check.checked.join('; '))}` : ''}.</p>`;
  const listed = a.records.length < a.recordsTotal ? `<p class="muted">${int(a.records.length)} of the key's ${int(a.recordsTotal)} records: those that reached the aggregation or failed a filter after passing its first condition.</p>` : '';
  const windows = a.windows.length > 0 ? `<h4>Windows</h4>${windowRows(a.windows)}` : '';
  const records = a.records.length > 0 ? `<h4>Records</h4>${listed}${recordRows(a.records)}` : '';
  return `<p class="why-answer" data-testid="why-answer">${esc(a.answer)}</p>${check}${windows}${records}`;
}

/** Draws a replay card once: title, a form with `fields` and a submit button, a hint, and where answers go. */
export function replayCard(element: HTMLElement, card: { readonly name: string; readonly title: string; readonly fields: string; readonly button: string; readonly hint: string }): { form: HTMLFormElement; answer: HTMLElement } {
  element.className = `card wide ${card.name}-panel`;
  element.innerHTML =
    `<header><h3>${card.title}</h3></header><form class="why-form">${card.fields}<button type="submit">${card.button}</button></form>` +
    `<p class="hint">${card.hint}</p><div class="${card.name}-result" data-testid="${card.name}-result"></div>`;
  return { form: element.querySelector('form')!, answer: element.querySelector(`.${card.name}-result`)! };
}

/** GETs `url` and draws its JSON answer into `answer` (an error as the answer too). */
export async function askInto<A>(answer: HTMLElement, url: string, render: (a: A | { ok: false; error: string }) => string, onAnswer?: (a: A) => void): Promise<void> {
  answer.innerHTML = '<p class="muted">replaying…</p>';
  try {
    const a = (await (await fetch(apiPath(url), { cache: 'no-store' })).json()) as A;
    onAnswer?.(a);
    answer.innerHTML = render(a);
  } catch (err) {
    answer.innerHTML = render({ ok: false, error: `cannot ask the engine: ${(err as Error).message}` });
  }
}

/**
 * The "why not?" box at the top of the Results tab. It lives outside the part the tab redraws on
 * every batch, so what the user typed and the answer stay. Row buttons (`button.why`, with the row as
 * JSON in data-row) ask through it too.
 */
export class WhyPanel {
  private readonly answer: HTMLElement;
  private readonly key: HTMLInputElement;
  private readonly window: HTMLInputElement;

  constructor(readonly element: HTMLElement) {
    const { form, answer } = replayCard(element, {
      name: 'why',
      title: 'Why not?',
      fields: '<label>key <input name="key" placeholder="user_1042" required></label><label>window start <input name="window" placeholder="2024-11-25T10:40:10Z (optional)"></label>',
      button: 'why not?',
      hint: 'Replays this run\'s input (its checkpoint or files) and follows one key: every record\'s fate and every window\'s outcome. "why?" on a row asks about that row.',
    });
    this.answer = answer;
    this.key = element.querySelector('input[name="key"]')!;
    this.window = element.querySelector('input[name="window"]')!;
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.ask(new URLSearchParams({ key: this.key.value.trim(), window: this.window.value.trim() }));
    });
  }

  /** Asks about a result row (a "why?" button). */
  askRow(row: Record<string, unknown>): void {
    const w = row['window'] as { start?: string } | undefined;
    this.window.value = w?.start ?? '';
    this.key.value = '';
    void this.ask(new URLSearchParams({ row: JSON.stringify(row) }));
  }

  private async ask(params: URLSearchParams): Promise<void> {
    this.element.scrollIntoView({ block: 'start' });
    await askInto<WhyAnswer>(this.answer, `/api/explain?${params.toString()}`, renderWhy, (a) => {
      if (a.ok) this.key.value = a.key;
    });
  }
}
