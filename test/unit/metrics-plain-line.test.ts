// The plain (non-TTY) progress line until the first rows, and the processing rate that leaves the source's wait for input out.
import { describe, expect, it } from 'vitest';
import { PhaseTimer, progressRecord, type BatchCounts } from '../../src/metrics/batch-progress.js';
import type { WindowedQuery } from '../../src/metrics/first-rows.js';
import { progressLine } from '../../src/metrics/summary.js';
import { renderTerminalView, ViewHistory, waitingForFirstRows } from '../../src/metrics/terminal-view.js';
import { record } from './metrics-fixture.js';

const T0 = Date.parse('2024-11-25T10:40:00Z');
const crashAlerts: WindowedQuery = { outputMode: 'append', window: { sizeMs: 10_000, slideMs: 10_000 }, watermarkDelayMs: 30_000 };

/** The plain lines of a run of records, as observe.ts prints them. */
function plainLines(records: ReturnType<typeof record>[]): string[] {
  const view = new ViewHistory();
  return records.map((p) => {
    view.add(p);
    return progressLine(p, waitingForFirstRows(crashAlerts, view));
  });
}

describe('plain progress lines before the first rows', () => {
  it('say how many windows are open and how far the watermark is from the oldest, batch by batch, then stop', () => {
    // Each record's watermark is the one its batch evicted with (Spark's eventTime.watermark): the one after
    // the batch before, max event time so far - 30 s.
    const lines = plainLines([
      record({ batchId: 0, maxEventTimeMs: T0 + 3_000, watermarkMs: 0 }),
      record({ batchId: 1, maxEventTimeMs: T0 + 25_000, watermarkMs: T0 - 27_000 }),
      record({ batchId: 2, maxEventTimeMs: T0 + 42_000, watermarkMs: T0 - 5_000 }),
      record({ batchId: 3, maxEventTimeMs: T0 + 52_000, watermarkMs: T0 + 12_000 }),
      record({ batchId: 4, maxEventTimeMs: T0 + 60_000, watermarkMs: T0 + 22_000, numOutputRows: 2 }),
      record({ batchId: 5, maxEventTimeMs: T0 + 61_000, watermarkMs: T0 + 30_000 }),
    ]);
    // Batch 0: [10:40:00, 10:40:10) open, the watermark 10:39:33 is 37 s of event time from its end.
    expect(lines[0]).toMatch(/\| out 0 \| no rows yet: 1 window\(s\) open; the oldest, 10:40:00-10:40:10, is written in 37 s of event time$/);
    // Batch 1: windows starting 10:40:00, :10, :20 open; 10:39:55 is 15 s from 10:40:10.
    expect(lines[1]).toMatch(/no rows yet: 3 window\(s\) open; the oldest, 10:40:00-10:40:10, is written in 15 s of event time$/);
    // Batch 2 evicted with 10:39:55, then moved the watermark to 10:40:12: the oldest window is due, not closed.
    expect(lines[2]).toMatch(/no rows yet: 5 window\(s\) open; the oldest, 10:40:00-10:40:10, is written by the next batch$/);
    // Batch 3 evicted [10:40:00, 10:40:10) with 10:40:12 and wrote nothing: closed with no group passing HAVING.
    expect(lines[3]).toMatch(/no rows yet: 5 window\(s\) open \(1 closed with no group passing the query's HAVING\); the oldest, 10:40:10-10:40:20, is written by the next batch$/);
    // Rows came out: the lines end at the counters again.
    expect(lines[4]).toMatch(/\| out 2$/);
    expect(lines[5]).toMatch(/\| out 0$/);
  });

  it('say nothing about first rows for a query whose rows do not wait for the watermark', () => {
    const view = new ViewHistory();
    view.add(record({ batchId: 0 }));
    expect(waitingForFirstRows({ outputMode: 'complete', window: null, watermarkDelayMs: null }, view)).toBeNull();
    expect(waitingForFirstRows({ ...crashAlerts, outputMode: 'update' }, view)).toBeNull();
  });

  it('match the live view, which gives the same status on two lines so 80 columns show it whole', () => {
    const view = new ViewHistory();
    const p = record({ batchId: 0, maxEventTimeMs: T0 + 3_000, watermarkMs: 0 });
    view.add(p);
    const lines = renderTerminalView(p, view, { width: 80, color: false, uiUrl: null, query: crashAlerts });
    const at = lines.findIndex((l) => l.startsWith('waiting'));
    expect(lines.slice(at, at + 2)).toEqual(['waiting   no rows yet: 1 window(s) open', '          the oldest, 10:40:00-10:40:10, is written in 37 s of event time']);
  });

  it('mark the --drain batch as drained', () => {
    const p = record({ batchId: 9, noDataBatch: true, numInputRows: 0, numOutputRows: 16 });
    expect(progressLine({ ...p, kindling: { ...p.kindling, drained: true } })).toMatch(/^batch 9 \(drained\): 0 rows in .*\| out 16$/);
  });
});

describe('processedRowsPerSecond', () => {
  const counts: BatchCounts = { records: 4_000, rejected: 0, filtered: 3_990, matched: 10, missingFields: [], mistypedFields: [], lateRows: 0, lateGroups: 0, rowsOut: 0, maxEventTimeMs: null, stateGroups: 0, updatedGroups: 0, evictedGroups: 0, stateBytes: 0 };
  const facts = (timer: PhaseTimer) => ({
    id: 'q', runId: 'r', name: 'crash-alerts', batchId: 0, timer, previousStartMs: null, counts, watermarkMs: null, fieldNames: [], partitions: 2,
    source: { description: 'kafka', startOffset: null, endOffset: null }, noData: false, sinkDescription: 'none', tasks: [], workerIds: [0, 1], mainThreadUtilisation: 0,
  });

  it('is rows over the batch less the time its source waited for input (Spark\'s trigger never holds such a wait)', () => {
    const timer = new PhaseTimer(80, 60);
    timer.end('scan');
    const p = progressRecord(facts(timer));
    expect(p.kindling.inputWaitMs).toBe(60);
    expect(p.durationMs.source).toBe(80);
    expect(p.durationMs.total).toBeGreaterThanOrEqual(80);
    expect(p.processedRowsPerSecond).toBeCloseTo((4_000 * 1000) / (p.durationMs.total - 60), 6);
    // The input rate of a first batch is over its whole wall time, the wait included.
    expect(p.inputRowsPerSecond).toBeCloseTo((4_000 * 1000) / p.durationMs.total, 6);
  });

  it('counts a wait longer than the poll as the poll only, and divides by at least 1 ms as Spark does', () => {
    const p = progressRecord(facts(new PhaseTimer(5, 9)));
    expect(p.kindling.inputWaitMs).toBe(5);
    expect(p.durationMs.total).toBe(5);
    expect(p.processedRowsPerSecond).toBe(4_000 * 1000);
  });
});
