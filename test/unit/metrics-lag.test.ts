// The Kafka consumer lag a batch's progress record carries reaches the plain line and the live view; other sources show none.
import { describe, expect, it } from 'vitest';
import type { ProgressRecord } from '../../src/metrics/progress.js';
import { consumerLag, progressLine } from '../../src/metrics/summary.js';
import { renderTerminalView, ViewHistory } from '../../src/metrics/terminal-view.js';
import { record } from './metrics-fixture.js';

function withKafkaSource(p: ProgressRecord, behind: number): ProgressRecord {
  const source = {
    description: 'kafka logs',
    startOffset: { logs: { '0': 0, '1': 0 } },
    endOffset: { logs: { '0': 500, '1': 480 } },
    numInputRows: 980,
    latestOffset: { logs: { '0': 500 + behind, '1': 480 } },
    metrics: { minOffsetsBehindLatest: '0', maxOffsetsBehindLatest: String(behind), avgOffsetsBehindLatest: String(behind / 2), offsetsBehindLatest: String(behind) },
  };
  return { ...p, sources: [source] };
}

describe('consumer lag', () => {
  it('is the offsets behind the topic end summed over topic partitions', () => {
    expect(consumerLag(withKafkaSource(record(), 1234))).toBe(1234);
  });

  it('shows in the plain progress line and the live view for a Kafka source', () => {
    const p = withKafkaSource(record({ batchId: 3 }), 1234);
    expect(progressLine(p)).toMatch(/\| lag 1,234$/);
    const h = new ViewHistory();
    h.add(p);
    expect(renderTerminalView(p, h, { width: 120, color: false, uiUrl: null }).join('\n')).toContain("1,234 offsets behind the topic's end");
  });

  it('is absent for sources without offsets behind a latest one', () => {
    const p = record({ batchId: 3 });
    expect(consumerLag(p)).toBeNull();
    expect(progressLine(p)).not.toContain('lag');
  });
});
