// Window math as parameter tables: tumbling and sliding windows, negative and boundary timestamps.
import { describe, expect, it } from 'vitest';
import { floorMod, tumblingWindowStart, windowStartsFor } from '../../src/query/window.js';

describe('tumbling windows', () => {
  it.each([
    { t: 0, size: 10_000, start: 0 },
    { t: 9_999, size: 10_000, start: 0 },
    { t: 10_000, size: 10_000, start: 10_000 },
    { t: 1_732_531_205_123, size: 10_000, start: 1_732_531_200_000 },
    { t: -1, size: 10_000, start: -10_000 },
    { t: -10_000, size: 10_000, start: -10_000 },
    { t: -10_001, size: 10_000, start: -20_000 },
  ])('puts t=$t in the window starting at $start (size $size)', ({ t, size, start }) => {
    expect(tumblingWindowStart(t, size)).toBe(start);
    expect(windowStartsFor(t, { sizeMs: size, slideMs: size })).toEqual([start]);
  });

  it.each([
    { a: 7, b: 5, r: 2 },
    { a: -7, b: 5, r: 3 },
    { a: -5, b: 5, r: 0 },
  ])('floorMod($a, $b) is $r like Java', ({ a, b, r }) => {
    expect(floorMod(a, b)).toBe(r);
  });
});

describe('sliding windows', () => {
  it.each([
    { t: 25, size: 10, slide: 5, starts: [20, 25] },
    { t: 24, size: 10, slide: 5, starts: [15, 20] },
    { t: 10, size: 10, slide: 3, starts: [3, 6, 9] },
    { t: 0, size: 10, slide: 5, starts: [-5, 0] },
    { t: -1, size: 10, slide: 5, starts: [-10, -5] },
    { t: 12_345, size: 10_000, slide: 10_000, starts: [10_000] },
  ])('puts t=$t in the windows starting at $starts (size $size, slide $slide)', ({ t, size, slide, starts }) => {
    const got = windowStartsFor(t, { sizeMs: size, slideMs: slide });
    expect(got).toEqual(starts);
    for (const s of got) expect(s <= t && t < s + size).toBe(true);
  });
});
