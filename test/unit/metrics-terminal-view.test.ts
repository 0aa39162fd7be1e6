// The live terminal view's lines: what they say, that they fit the terminal, and colour only when asked.
import { describe, expect, it } from 'vitest';
import { bar, bytes, fit, renderTerminalView, sparkline, ViewHistory, visibleLength } from '../../src/metrics/terminal-view.js';
import { record, task } from './metrics-fixture.js';

const system = {
  sampledAt: '2024-11-25T10:40:00.000Z',
  cpu: { loadPercent: 62, coresLoadPercent: [80, 44] },
  memory: { totalBytes: 24 * 1024 ** 3, availableBytes: 20 * 1024 ** 3, usedBytes: 4 * 1024 ** 3 },
  process: { heapUsedBytes: 40 * 1024 ** 2, heapTotalBytes: 64 * 1024 ** 2, rssBytes: 150 * 1024 ** 2, externalBytes: 0 },
};

function view(width = 120, color = false) {
  const h = new ViewHistory();
  const p = record({ durationMs: { scan: 90, stateful: 5, sink: 1 }, tasks: [task(1, 0, 0, 80), task(1, 1, 1, 60)], lateRows: 4, system });
  h.add(record({ batchId: 6 }));
  h.add(p);
  return renderTerminalView(p, h, { width, color, uiUrl: 'http://127.0.0.1:4040/' });
}

describe('renderTerminalView', () => {
  it('shows rates, duration by phase, watermark gap, state, late rows, worker bars, CPU, memory and the bottleneck', () => {
    const text = view().join('\n');
    expect(text).toContain('batch 7');
    expect(text).toContain('web UI http://127.0.0.1:4040/');
    expect(text).toMatch(/in 10,000 rows\/s · processed 10,417 rows\/s/);
    expect(text).toMatch(/1,000 rows in 96.0 ms = source 0.00 · scan 90.0 · stateful 5.0 · sink 1.0 ms|1,000 rows in 96.0 ms = scan 90.0 · stateful 5.0 · sink 1.0 ms/);
    expect(text).toContain('10:39:30.000, 30.0 s behind max event time 10:40:00.000');
    expect(text).toContain('712 rows (240 updated, 3 removed, 64 KB)');
    expect(text).toMatch(/late 4 \(total 4\)/);
    expect(text).toMatch(/worker 0 +█+░+ +83% busy \(of the batch\) · 1 task/);
    expect(text).toMatch(/cpu +0 █+░* +80% +1 █+░* +44%/);
    expect(text).toContain('heap 40 MB of 64 MB · rss 150 MB · machine 4.0 GB of 24.0 GB used');
    expect(text).toMatch(/→ stage 1 \(scan\) takes 94%/);
  });

  it('shows the record latency of a Kafka batch, and no latency line for other sources', () => {
    const h = new ViewHistory();
    const kafka = record({ recordLatencyMs: { p50: 12.5, p99: 48, max: 51.2, records: 1000 } });
    h.add(kafka);
    expect(renderTerminalView(kafka, h, { width: 160, color: false, uiUrl: null }).join('\n')).toMatch(/latency +p50 12\.5 ms · p99 48\.0 ms from Kafka timestamp to batch end \(1,000 records\)/);
    expect(view(160).join('\n')).not.toContain('latency');
  });

  it('fits every line into the terminal width', () => {
    for (const width of [40, 80, 200]) for (const line of view(width, true)) expect(visibleLength(line)).toBeLessThanOrEqual(width - 1);
  });

  it('writes escape codes only when colour is on', () => {
    expect(view(120, false).join('')).not.toContain('\x1b');
    expect(view(120, true).join('')).toContain('\x1b[1m');
  });
});

describe('view helpers', () => {
  it.each([
    [[1, 2, 4, 8], '▁▂▄█'],
    [[0, 0], '▁▁'],
    [[5], '█'],
  ])('sparkline(%j) is %s', (values, spark) => {
    expect(sparkline(values)).toBe(spark);
  });

  it.each([
    [0, 4, '░░░░'],
    [0.5, 4, '██░░'],
    [1.7, 4, '████'],
  ])('bar(%s, %s) is %s', (share, width, text) => {
    expect(bar(share, width)).toBe(text);
  });

  it.each([
    [512, '512 B'],
    [65_536, '64 KB'],
    [150 * 1024 ** 2, '150 MB'],
    [3.5 * 1024 ** 3, '3.5 GB'],
  ])('bytes(%s) is %s', (b, text) => {
    expect(bytes(b)).toBe(text);
  });

  it('cuts a coloured line at the visible width and resets the colour', () => {
    const cut = fit('\x1b[32m' + 'x'.repeat(50) + '\x1b[0m', 10);
    expect(visibleLength(cut)).toBe(10);
    expect(cut.startsWith('\x1b[32m')).toBe(true);
    expect(cut.endsWith('…\x1b[0m')).toBe(true);
  });
});
