// What-if on worker threads gives what the same settings give one after the other on the main thread, whatever the thread count.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crashAlertsPlan } from '../../src/plan/queries.js';
import { whatIfOnThreads } from '../../src/replay/threads.js';
import { whatIf } from '../../src/replay/what-if.js';
import { batchesArb } from '../helpers/events.js';

describe('what-if on worker threads', () => {
  it('equals the sequential replay for several watermarks and windows, with 1, 2 and 4 threads, and reports each setting done', async () => {
    // Seeded lab events with late and malformed records: the settings differ in what they drop and emit.
    const samples = fc.sample(batchesArb(), { seed: 15, numRuns: 3 });
    const batches = samples.flat();
    const watermarks = [0, 5_000, 20_000];
    const windows = [10_000, 30_000];
    const sequential = whatIf(crashAlertsPlan, batches, watermarks, windows, { drain: true });
    expect(sequential).toHaveLength(6);
    // The settings really differ, so equal answers are not a coincidence of identical figures.
    expect(new Set(sequential.map((r) => JSON.stringify({ ...r, setting: null }))).size).toBeGreaterThan(1);
    expect(sequential.some((r) => r.rowsEmitted > 0) && sequential.some((r) => r.lateEvents > 0)).toBe(true);
    for (const threads of [1, 2, 4]) {
      const progress: Array<[number, number]> = [];
      const parallel = await whatIfOnThreads({ query: crashAlertsPlan, batches, drain: true }, watermarks, windows, {
        threads,
        onProgress: (done, total) => progress.push([done, total]),
      });
      expect(parallel).toEqual(sequential);
      expect(progress).toEqual([1, 2, 3, 4, 5, 6].map((done) => [done, 6]));
    }
  });
});
