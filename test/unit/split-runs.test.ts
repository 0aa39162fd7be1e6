// splitRuns: a batch's splits cut into at most one run of consecutive splits per stage-1 task, about equal weight.
import { describe, expect, it } from 'vitest';
import { splitRuns } from '../../src/engine/stages.js';

/** Every split in exactly one run, runs in order, none empty. */
function expectCover(runs: Array<[number, number]>, n: number): void {
  let next = 0;
  for (const [from, to] of runs) {
    expect(from).toBe(next);
    expect(to).toBeGreaterThan(from);
    next = to;
  }
  expect(next).toBe(n);
}

describe('splitRuns', () => {
  it('gives no run for no splits', () => {
    expect(splitRuns([], 2)).toEqual([]);
  });

  it('gives one run per split when there are fewer splits than tasks', () => {
    expect(splitRuns([5, 7], 4)).toEqual([[0, 1], [1, 2]]);
  });

  it('cuts equal splits into equal runs', () => {
    expect(splitRuns(new Array<number>(16).fill(1 << 20), 2)).toEqual([[0, 8], [8, 16]]);
    expect(splitRuns(new Array<number>(16).fill(1 << 20), 1)).toEqual([[0, 16]]);
  });

  it('balances by weight: a short last split of a file weighs little', () => {
    // 4 MiB of a file in 1 MiB splits, then its 0.1 MiB tail, then another file's 4 MiB.
    const w = [1, 1, 1, 1, 0.1, 1, 1, 1, 1].map((x) => x * 1048576);
    const runs = splitRuns(w, 2);
    expectCover(runs, w.length);
    const sums = runs.map(([a, b]) => w.slice(a, b).reduce((x, y) => x + y, 0));
    expect(Math.abs(sums[0]! - sums[1]!)).toBeLessThanOrEqual(1048576);
  });

  it('covers every split once for any weights and task count', () => {
    let seed = 7;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let trial = 0; trial < 500; trial++) {
      const n = Math.floor(rand() * 40);
      const w = Array.from({ length: n }, () => (rand() < 0.2 ? 0 : Math.floor(rand() * 1000)));
      const tasks = 1 + Math.floor(rand() * 8);
      const runs = splitRuns(w, tasks);
      expectCover(runs, n);
      expect(runs.length).toBeLessThanOrEqual(Math.max(0, Math.min(n, tasks)));
    }
  });
});
