// Spark's streaming rules on small hand-worked streams: watermark, late rows, eviction and the three output modes.
import { describe, expect, it } from 'vitest';
import { crashAlerts } from '../../src/query/queries.js';
import { runReference } from '../../src/query/reference.js';
import { watermarkMs } from '../../src/query/time.js';
import { WatermarkTracker } from '../../src/query/watermark.js';
import { WindowState, type StatefulStep } from '../../src/query/window-state.js';

const T0 = Date.parse('2024-11-25T10:40:00Z');
const at = (s: number): number => T0 + s * 1000;
const crash = (user: string, s: number): string =>
  JSON.stringify({ timestamp: at(s), status: 'OK', severity: 'Critical', source_ip: '192.168.1.9', user_id: user, content: 'App CRASH' });

/**
 * Batch 0: a x3 and b x2 in [10:40:00, 10:40:10); max 10:40:05 -> W = 10:39:35.
 * Batch 1: a at 10:40:45 -> W = 10:40:15 (batch 1 itself evicted with 10:39:35).
 * Batch 2: b at 10:40:08: late watermark is W(1) = 10:39:35, so it counts (b = 3); eviction with
 *          W(2) = 10:40:15 emits the first window: a 3, b 3.
 * Batch 3: a at 10:40:09: its window ended at 10:40:10 <= late watermark W(2) = 10:40:15: late.
 */
const STREAM = [[crash('a', 1), crash('a', 2), crash('a', 3), crash('b', 5), crash('b', 5)], [crash('a', 45)], [crash('b', 8)], [crash('a', 9)]];

describe('the oracle on a hand-worked stream', () => {
  it('emits a window once the watermark passes its end, in append mode', () => {
    const r = runReference(crashAlerts, STREAM);
    expect(r.batches.map((b) => b.rows)).toEqual([[], [], [{ windowStartMs: at(0), key: 'a', count: 3 }, { windowStartMs: at(0), key: 'b', count: 3 }], []]);
    expect(r.lateRows).toBe(1);
    expect(r.batches[3]!.lateRows).toBe(1);
    expect(r.finalWatermarkMs).toBe(at(15));
  });

  it('drops late rows with the previous batch\'s watermark, not the current one', () => {
    // With the current watermark (10:40:15) in batch 2, b's third crash would be dropped and b never alerts.
    const r = runReference(crashAlerts, STREAM);
    expect(r.batches[2]!.lateRows).toBe(0);
    expect(r.batches[2]!.rows.find((x) => x.key === 'b')?.count).toBe(3);
  });

  it('in update mode emits changed groups each batch with their partial count through HAVING', () => {
    const r = runReference(crashAlerts, STREAM, { outputMode: 'update' });
    expect(r.batches.map((b) => b.rows)).toEqual([[{ windowStartMs: at(0), key: 'a', count: 3 }], [], [{ windowStartMs: at(0), key: 'b', count: 3 }], []]);
  });

  it('in complete mode drops nothing as late and keeps every group', () => {
    const r = runReference(crashAlerts, STREAM, { outputMode: 'complete' });
    expect(r.lateRows).toBe(0);
    expect(r.batches[3]!.rows).toEqual([{ windowStartMs: at(0), key: 'a', count: 4 }, { windowStartMs: at(0), key: 'b', count: 3 }]);
  });

  it('runs a no-data batch when the watermark moved after the input ended', () => {
    const r = runReference(crashAlerts, [[crash('a', 1), crash('a', 2), crash('a', 3)], [crash('a', 60)]]);
    expect(r.batches).toHaveLength(3);
    expect(r.batches[2]!.noData).toBe(true);
    expect(r.batches[2]!.rows).toEqual([{ windowStartMs: at(0), key: 'a', count: 3 }]);
  });

  it('with drain, flushes windows still open as forced rows', () => {
    const r = runReference(crashAlerts, [[crash('a', 1), crash('a', 2), crash('a', 3), crash('b', 4)]], { drain: true });
    expect(r.batches.at(-1)!.rows).toEqual([{ windowStartMs: at(0), key: 'a', count: 3, forced: true }]);
  });
});

describe('WatermarkTracker', () => {
  it('starts at 0, follows max event time minus delay, never decreases, and keeps W(N-1) for late rows', () => {
    const w = new WatermarkTracker(30_000);
    expect(w.beginBatch()).toEqual({ lateWatermarkMs: 0, evictionWatermarkMs: 0 });
    w.endBatch(at(40));
    expect(w.watermarkMs).toBe(at(10));
    expect(w.advancedSinceLastBatch).toBe(true);
    expect(w.beginBatch()).toEqual({ lateWatermarkMs: 0, evictionWatermarkMs: at(10) });
    w.endBatch(at(20)); // older data: no change
    w.endBatch(null); // no matched rows: no change
    expect(w.watermarkMs).toBe(at(10));
    expect(w.advancedSinceLastBatch).toBe(false);
    expect(w.beginBatch()).toEqual({ lateWatermarkMs: at(10), evictionWatermarkMs: at(10) });
  });
});

describe('WindowState', () => {
  const rows = (...groups: Array<[number, string, number]>) => ({ partitionIds: groups.map(() => 0), windowStartsMs: groups.map((g) => g[0]), keys: groups.map((g) => g[1]), counts: groups.map((g) => g[2]) });
  const step = (o: Partial<StatefulStep>): StatefulStep => ({ outputMode: 'append', windowSizeMs: 10_000, lateWatermarkMs: watermarkMs(0), evictionWatermarkMs: watermarkMs(0), having: (n) => n > 2, ...o });
  /** The watermark at T0 + s seconds. */
  const wm = (s: number) => watermarkMs(at(s));

  it('takes watermarks only as WatermarkMs: a raw event time does not compile where a step expects one', () => {
    // @ts-expect-error: at(10) is a plain number (event time), not a WatermarkMs (tsc -p tsconfig.test.json checks this line)
    const raw: StatefulStep = step({ evictionWatermarkMs: at(10) });
    expect(raw.evictionWatermarkMs).toBe(wm(10));
  });

  it('counts partial rows of a late window (end <= late watermark) as late, by event count', () => {
    const s = new WindowState();
    const out = s.step([rows([at(0), 'a', 4], [at(10), 'a', 1])], step({ lateWatermarkMs: wm(10), evictionWatermarkMs: wm(10) }));
    expect(out.lateRows).toBe(4);
    expect(s.size).toBe(1);
  });

  it('treats a window ending exactly at the eviction watermark as complete', () => {
    const s = new WindowState();
    s.step([rows([at(0), 'a', 3])], step({}));
    const out = s.step([], step({ evictionWatermarkMs: wm(10) }));
    expect(out.rows).toEqual([{ windowStartMs: at(0), key: 'a', count: 3 }]);
    expect(out.evictedGroups).toBe(1);
    expect(s.size).toBe(0);
  });

  it('evicts without emitting in update mode', () => {
    const s = new WindowState();
    s.step([rows([at(0), 'a', 3])], step({ outputMode: 'update' }));
    const out = s.step([], step({ outputMode: 'update', evictionWatermarkMs: wm(10) }));
    expect(out.rows).toEqual([]);
    expect(out.evictedGroups).toBe(1);
  });

  it('round-trips its entries for snapshots', () => {
    const s = new WindowState();
    s.step([rows([at(0), 'a', 3], [at(10), 'b', 1])], step({}));
    const copy = new WindowState();
    copy.load(s.entries());
    expect(copy.entries()).toEqual(s.entries());
    expect(copy.size).toBe(2);
  });
});
