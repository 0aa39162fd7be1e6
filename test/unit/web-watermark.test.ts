// The web page before and after the first event moves the watermark: batch 0's watermark is the epoch (as Spark reports it), never a gap of decades.
import { describe, expect, it } from 'vitest';
import { renderKpis, renderStreaming } from '../../src/metrics/web/client/page-streaming.js';
import type { AppState } from '../../src/metrics/web/client/state.js';
import { record } from './metrics-fixture.js';

const state = (records: AppState['records']): AppState => ({ records, config: null, results: null, link: 'live' });
const MAX_EVENT_MS = Date.parse('2026-12-04T14:00:00Z');

/** The y-axis labels of one chart ("30 s", "1.8G s", …) as rendered. */
function chartLabels(html: string, id: string): string[] {
  const svg = html.slice(html.indexOf(`data-chart="${id}"`));
  return [...svg.slice(0, svg.indexOf('</svg>')).matchAll(/>([\d.]+[kMGT]? s)</g)].map((m) => m[1]!);
}

describe('the watermark on the web page', () => {
  it('says there is none yet while it is the initial one, in the headline strip', () => {
    const kpis = renderKpis(state([record({ batchId: 0, watermarkMs: 0, maxEventTimeMs: MAX_EVENT_MS })]));
    expect(kpis).toContain('none yet');
    expect(kpis).toContain('no matching event has moved it');
    expect(kpis).not.toContain('behind max');
  });

  it('plots no gap for a batch whose watermark is still the initial one, and the real gap after', () => {
    const s = state([
      record({ batchId: 0, watermarkMs: 0, maxEventTimeMs: MAX_EVENT_MS }),
      record({ batchId: 1, watermarkMs: MAX_EVENT_MS - 30_000, maxEventTimeMs: MAX_EVENT_MS }),
    ]);
    const labels = chartLabels(renderStreaming(s), 'watermark-gap');
    expect(labels.length).toBeGreaterThan(0);
    // The axis spans the 30 s gap of batch 1, not the 56 years between the epoch and batch 0's events.
    expect(labels.every((l) => /^[\d.]+ s$/.test(l) && Number.parseFloat(l) <= 60)).toBe(true);
    expect(renderKpis(s)).toMatch(/UTC · 30(\.0)? ?s behind max/);
  });
});
