// Window assignment on event time: Spark's tumbling and sliding windows, aligned to the Unix epoch.

/** A window's definition: size and slide in milliseconds (slide === size for tumbling windows). */
export interface WindowSpec {
  readonly sizeMs: number;
  readonly slideMs: number;
}

/** Java's Math.floorMod for numbers: the result has the sign of the divisor. */
export function floorMod(a: number, b: number): number {
  return ((a % b) + b) % b;
}

/**
 * Start of the tumbling window of `sizeMs` containing `timestampMs`: `t - floorMod(t, size)`.
 * The window is `[start, start + size)`: the end is exclusive.
 */
export function tumblingWindowStart(timestampMs: number, sizeMs: number): number {
  return timestampMs - floorMod(timestampMs, sizeMs);
}

/**
 * Starts of every window `[start, start + size)` that contains `timestampMs`, ascending.
 * For a tumbling window (slide === size) that is one start; for a sliding window
 * ceil(size / slide) starts at most, as Spark's TimeWindowing expands them.
 */
export function windowStartsFor(timestampMs: number, spec: WindowSpec): number[] {
  const last = tumblingWindowStart(timestampMs, spec.slideMs);
  if (spec.slideMs === spec.sizeMs) return [last];
  const starts: number[] = [];
  for (let start = last - Math.floor((spec.sizeMs - 1) / spec.slideMs) * spec.slideMs; start <= last; start += spec.slideMs) {
    if (start + spec.sizeMs > timestampMs) starts.push(start);
  }
  return starts;
}
