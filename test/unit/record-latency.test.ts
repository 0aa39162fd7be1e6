// Record latency from record-batch header timestamps: runs by offset range, and weighted quantiles equal to a per-record sort.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { recordLatency, RecordTimestamps, type TimestampRun } from '../../src/metrics/record-latency.js';

/** The oracle: every record's latency listed one by one, sorted, read at rank floor(q * n). */
function perRecord(runs: readonly TimestampRun[], endMs: number): { p50: number; p99: number; max: number; records: number } | null {
  const all = runs.flatMap((r) => Array.from({ length: r.records }, () => Math.max(0, endMs - r.timestampMs))).sort((a, b) => a - b);
  if (all.length === 0) return null;
  const at = (q: number): number => Math.round(all[Math.min(all.length - 1, Math.floor(q * all.length))]! * 10) / 10;
  return { p50: at(0.5), p99: at(0.99), max: at(1), records: all.length };
}

describe('record latency', () => {
  it('gives the quantiles a per-record sort gives', () => {
    const run = fc.record({ timestampMs: fc.integer({ min: 1_700_000_000_000, max: 1_700_000_010_000 }), records: fc.integer({ min: 0, max: 50 }) });
    fc.assert(
      fc.property(fc.array(run, { maxLength: 30 }), fc.integer({ min: 1_700_000_000_000, max: 1_700_000_020_000 }), (runs, endMs) => {
        expect(recordLatency(runs, endMs)).toEqual(perRecord(runs, endMs));
      }),
      { numRuns: 300 },
    );
  });

  it('takes the runs of an offset range from batch headers, and forgets what the batch consumed', () => {
    const t = new RecordTimestamps();
    t.note(0, 100, 1000, 1000);
    t.note(100, 150, 2000, 2000);
    t.note(150, 150, 3000, 3000); // an empty batch: nothing
    expect(t.take(40, 120)).toEqual([
      { timestampMs: 1000, records: 60 },
      { timestampMs: 2000, records: 20 },
    ]);
    // The first batch is consumed; the second one's rest is still there.
    expect(t.take(120, 150)).toEqual([{ timestampMs: 2000, records: 30 }]);
    expect(t.take(150, 200)).toEqual([]);
  });

  it('spreads a batch whose first and max timestamps differ evenly over its offsets', () => {
    const t = new RecordTimestamps();
    t.note(0, 101, 0, 100); // offset o stamped o ms
    const runs = t.take(0, 101);
    expect(runs.reduce((n, r) => n + r.records, 0)).toBe(101);
    // Each slice sits at the mean timestamp of its offsets.
    let offset = 0;
    for (const r of runs) {
      expect(r.timestampMs).toBeCloseTo(offset + (r.records - 1) / 2, 9);
      offset += r.records;
    }
    expect(recordLatency(runs, 1000)!.max).toBeLessThanOrEqual(1000);
    t.note(200, 300, 5, 5);
    t.clear();
    expect(t.take(0, 1000)).toEqual([]);
  });
});
