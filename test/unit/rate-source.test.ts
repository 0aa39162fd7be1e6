// The rate source's cut with an injected clock: whole seconds per batch, Spark's values and timestamps, resume from offsets.
import { describe, expect, it } from 'vitest';
import { RateSource, type RateOffsets } from '../../src/source/rate.js';
import type { PollResult } from '../../src/source/source.js';

/** A batch's rows, parsed back from its JSON-line splits. */
function rowsOf(polled: PollResult<RateOffsets>): Array<{ timestamp: string; value: number }> {
  if (polled.kind !== 'batch') throw new Error(`expected a batch, got ${polled.kind}`);
  return polled.batch.splits.flatMap((s) => {
    if (s.payload.kind !== 'bytes') throw new Error('expected bytes');
    return new TextDecoder().decode(s.payload.bytes).trim().split('\n').map((line) => JSON.parse(line) as { timestamp: string; value: number });
  });
}

describe('RateSource', () => {
  const START = Date.parse('2026-12-04T10:00:00.000Z');

  it('runs an empty batch 0 at once (as Spark 4.0.5 did in the PySpark suite), has nothing more until a whole second has passed, then that second: values from 0, timestamps start + value * 1000 / rowsPerSecond', async () => {
    let now = START;
    const rate = new RateSource({ rowsPerSecond: 3, splitRows: 2, nowMs: () => now });
    const first = await rate.poll();
    expect(first.kind === 'batch' && { records: first.batch.records, splits: first.batch.splits.length, endOffsets: first.batch.endOffsets }).toEqual({ records: 0, splits: 0, endOffsets: { seconds: 0, startMs: START } });
    expect((await rate.poll()).kind).toBe('idle');
    now = START + 999;
    expect((await rate.poll()).kind).toBe('idle');
    now = START + 2500;
    // 1000 / 3 ms per value, rounded as Spark's reader rounds: 0, 333, 667, 1000, 1333, 1667.
    expect(rowsOf(await rate.poll())).toEqual([0, 333, 667, 1000, 1333, 1667].map((ms, value) => ({ timestamp: new Date(START + ms).toISOString(), value })));
    expect((await rate.poll()).kind).toBe('idle');
  });

  it('with availableNow, runs the empty batch 0 and ends, as Spark does', async () => {
    const rate = new RateSource({ rowsPerSecond: 3, splitRows: 2, nowMs: () => START, availableNow: true });
    const first = await rate.poll();
    expect(first.kind === 'batch' && first.batch.records).toBe(0);
    expect((await rate.poll()).kind).toBe('end');
  });

  it('reports its end offsets as latest (it read all it had) and resumes from them with the same start time', async () => {
    let now = START + 1000;
    const rate = new RateSource({ rowsPerSecond: 2, splitRows: 10, nowMs: () => now });
    await rate.poll(); // starts the clock at START + 1000: batch 0, empty
    now = START + 2000;
    const first = await rate.poll();
    if (first.kind !== 'batch') throw new Error('expected a batch');
    expect(first.batch.endOffsets).toEqual({ seconds: 1, startMs: START + 1000 });
    expect(first.batch.progress?.latestOffset).toEqual(first.batch.endOffsets);
    const resumed = new RateSource({ rowsPerSecond: 2, splitRows: 10, nowMs: () => now });
    await resumed.seek(resumed.parseOffsets({ seconds: 0, startMs: START + 1000 }));
    expect(rowsOf(await resumed.pollUntil(first.batch.endOffsets))).toEqual(rowsOf(first));
    expect(() => resumed.parseOffsets({ index: 3 })).toThrow('rate: cannot resume at {"index":3}');
  });
});
