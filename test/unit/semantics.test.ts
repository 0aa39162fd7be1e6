// Spark's streaming rules on small hand-worked streams: watermark, late rows, eviction and the three output modes.
import { describe, expect, it } from 'vitest';
import { WatermarkTracker } from '../../src/engine/watermark.js';
import type { OutputMode } from '../../src/plan/plan.js';
import { crashAlertsPlan } from '../../src/plan/queries.js';
import { runPlanReference } from '../../src/plan/reference.js';
import type { Row } from '../../src/plan/types.js';

const T0 = Date.parse('2024-11-25T10:40:00Z');
const at = (s: number): number => T0 + s * 1000;
/** A crash-alerts row: the window starting at T0 + s seconds, the user, the count. */
const alert = (s: number, user: string, count: number): Row => [{ startUs: at(s) * 1000, endUs: at(s + 10) * 1000 }, user, count];
const run = (batches: string[][], outputMode: OutputMode = 'append', drain = false) => runPlanReference({ ...crashAlertsPlan, outputMode }, batches, { drain });
const lateRows = (r: ReturnType<typeof run>): number => r.batches.reduce((n, b) => n + b.lateRows, 0);
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
    const r = run(STREAM);
    expect(r.batches.map((b) => b.rows)).toEqual([[], [], [alert(0, 'a', 3), alert(0, 'b', 3)], []]);
    expect(lateRows(r)).toBe(1);
    expect(r.batches[3]!.lateRows).toBe(1);
    expect(r.finalWatermarkMs).toBe(at(15));
  });

  it('drops late rows with the previous batch\'s watermark, not the current one', () => {
    // With the current watermark (10:40:15) in batch 2, b's third crash would be dropped and b never alerts.
    const r = run(STREAM);
    expect(r.batches[2]!.lateRows).toBe(0);
    expect(r.batches[2]!.rows.find((x) => x[1] === 'b')?.[2]).toBe(3);
  });

  it('in update mode emits changed groups each batch with their partial count through HAVING', () => {
    const r = run(STREAM, 'update');
    expect(r.batches.map((b) => b.rows)).toEqual([[alert(0, 'a', 3)], [], [alert(0, 'b', 3)], []]);
  });

  it('in complete mode drops nothing as late and keeps every group', () => {
    const r = run(STREAM, 'complete');
    expect(lateRows(r)).toBe(0);
    expect(r.batches[3]!.rows).toEqual([alert(0, 'a', 4), alert(0, 'b', 3)]);
  });

  it('runs a no-data batch when the watermark moved after the input ended', () => {
    const r = run([[crash('a', 1), crash('a', 2), crash('a', 3)], [crash('a', 60)]]);
    expect(r.batches).toHaveLength(3);
    expect(r.batches[2]!.noData).toBe(true);
    expect(r.batches[2]!.rows).toEqual([alert(0, 'a', 3)]);
  });

  it('with drain, flushes windows still open (through HAVING) as a last batch', () => {
    const r = run([[crash('a', 1), crash('a', 2), crash('a', 3), crash('b', 4)]], 'append', true);
    expect(r.batches.at(-1)!.rows).toEqual([alert(0, 'a', 3)]);
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

