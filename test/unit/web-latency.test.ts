// The web page shows a Kafka run's record latency (headline and chart) and nothing of it for other sources.
import { describe, expect, it } from 'vitest';
import { renderKpis, renderStreaming } from '../../src/metrics/web/client/page-streaming.js';
import type { AppState } from '../../src/metrics/web/client/state.js';
import { record } from './metrics-fixture.js';

const state = (records: AppState['records']): AppState => ({ records, config: null, results: null, link: 'live' });

describe('record latency on the web page', () => {
  it('puts the latest p99 in the headline strip and p50/p99 over batches in a chart', () => {
    const s = state([record({ batchId: 1, recordLatencyMs: { p50: 8, p99: 30, max: 31, records: 1000 } }), record({ batchId: 2, recordLatencyMs: { p50: 12, p99: 45, max: 50, records: 1000 } })]);
    const kpis = renderKpis(s);
    expect(kpis).toContain('data-testid="kpi-record-latency" data-value="45"');
    expect(kpis).toContain('Kafka timestamp → batch end');
    expect(renderStreaming(s)).toContain('Record latency');
  });

  it('shows neither for a source without Kafka timestamps', () => {
    const s = state([record({ batchId: 1 })]);
    expect(renderKpis(s)).not.toContain('kpi-record-latency');
    expect(renderStreaming(s)).not.toContain('Record latency');
  });
});
