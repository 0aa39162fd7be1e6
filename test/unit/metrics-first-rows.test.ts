// When the first append-mode rows can come: windows open, closed without rows, and event time left, worked by hand.
import { describe, expect, it } from 'vitest';
import { firstRowsNote, firstRowsStatus, openWindows, type WindowedQuery } from '../../src/metrics/first-rows.js';

const T0 = Date.parse('2024-11-25T10:40:00Z');
const crashAlerts: WindowedQuery = { outputMode: 'append', window: { sizeMs: 10_000, slideMs: 10_000 }, watermarkDelayMs: 30_000 };

describe('first rows in append mode', () => {
  it('says in the banner when a window is written, only for windowed append queries with a watermark', () => {
    expect(firstRowsNote(crashAlerts)).toBe('first rows: a window is written once the watermark (max event time - 30 s) passes its end; live, 30-40 s after the first matching event');
    expect(firstRowsNote({ ...crashAlerts, outputMode: 'update' })).toBeNull();
    expect(firstRowsNote({ outputMode: 'complete', window: null, watermarkDelayMs: null })).toBeNull();
  });

  it('counts the open windows and the event time until the watermark closes the oldest', () => {
    // First event 10:40:03 -> oldest window [10:40:00, 10:40:10); max 10:40:25 -> newest [10:40:20, 10:40:30): 3 open.
    // Watermark = 10:40:25 - 30 s = 10:39:55, so the oldest closes after 15 s more event time.
    const w = openWindows(crashAlerts, { firstEventTimeMs: T0 + 3_000, maxEventTimeMs: T0 + 25_000, watermarkMs: T0 - 5_000, rowsOut: 0 });
    expect(w).toEqual({ open: 3, closedEmpty: 0, oldestStartMs: T0, oldestEndMs: T0 + 10_000, closesInMs: 15_000 });
    expect(firstRowsStatus(crashAlerts, { firstEventTimeMs: T0 + 3_000, maxEventTimeMs: T0 + 25_000, watermarkMs: T0 - 5_000, rowsOut: 0 })).toBe(
      'no rows yet: 3 window(s) open; the oldest, 10:40:00-10:40:10, is written in 15 s of event time',
    );
  });

  it('says how many windows closed without a row when HAVING kept every group out', () => {
    // The batch evicted with 10:40:22 (max 10:40:52 keeps it there): windows ending 10:40:10 and 10:40:20 are gone
    // with no row out; [10:40:20, 10:40:30) is the oldest open, 8 s away.
    const w = openWindows(crashAlerts, { firstEventTimeMs: T0 + 3_000, maxEventTimeMs: T0 + 52_000, watermarkMs: T0 + 22_000, rowsOut: 0 });
    expect(w).toEqual({ open: 4, closedEmpty: 2, oldestStartMs: T0 + 20_000, oldestEndMs: T0 + 30_000, closesInMs: 8_000 });
  });

  it('calls a window the watermark passed only after the latest batch due, not closed: the next batch writes it', () => {
    // The batch evicted with 10:39:59 (nothing gone); its max 10:40:42 moved the watermark to 10:40:12, past the end
    // of [10:40:00, 10:40:10): the next batch evicts it, and writes rows if a group passes HAVING.
    const seen = { firstEventTimeMs: T0 + 3_000, maxEventTimeMs: T0 + 42_000, watermarkMs: T0 - 1_000, rowsOut: 0 };
    expect(openWindows(crashAlerts, seen)).toEqual({ open: 5, closedEmpty: 0, oldestStartMs: T0, oldestEndMs: T0 + 10_000, closesInMs: -2_000 });
    expect(firstRowsStatus(crashAlerts, seen)).toBe('no rows yet: 5 window(s) open; the oldest, 10:40:00-10:40:10, is written by the next batch');
  });

  it('counts sliding windows by their slide', () => {
    // 10 s windows every 5 s: event 10:40:03 is in [10:39:55, 10:40:05) and [10:40:00, 10:40:10); max 10:40:12 starts [10:40:10, ...).
    const sliding: WindowedQuery = { outputMode: 'append', window: { sizeMs: 10_000, slideMs: 5_000 }, watermarkDelayMs: 0 };
    const w = openWindows(sliding, { firstEventTimeMs: T0 + 3_000, maxEventTimeMs: T0 + 4_000, watermarkMs: 0, rowsOut: 0 });
    expect(w).toEqual({ open: 2, closedEmpty: 0, oldestStartMs: T0 - 5_000, oldestEndMs: T0 + 5_000, closesInMs: 1_000 });
  });

  it('says nothing once rows came out, and waits for the first matching event', () => {
    expect(firstRowsStatus(crashAlerts, { firstEventTimeMs: T0, maxEventTimeMs: T0 + 60_000, watermarkMs: T0 + 30_000, rowsOut: 4 })).toBeNull();
    expect(firstRowsStatus(crashAlerts, { firstEventTimeMs: null, maxEventTimeMs: null, watermarkMs: 0, rowsOut: 0 })).toContain('no matching event so far');
  });
});
