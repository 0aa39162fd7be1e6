// Partial aggregation: counts per (window, key), and the per-partition rows that stage 1 ships to stage 2.
import { partitionIdOf } from '../partition.js';

/**
 * The rows of one partitionId that a stage-1 task hands to stage 2: parallel arrays, so structured
 * clone copies three flat arrays instead of thousands of small objects.
 * `windowStartsMs[i]` is the window start (0 for a query without a window).
 */
export interface PartialRows {
  readonly partitionId: number;
  readonly windowStartsMs: number[];
  readonly keys: string[];
  readonly counts: number[];
}

/** Counts per (window start, key); the partial aggregate of one task. */
export class CountTable {
  private readonly byWindow = new Map<number, Map<string, number>>();

  /** Adds `count` to the group (windowStartMs, key). */
  add(windowStartMs: number, key: string, count: number): void {
    let keys = this.byWindow.get(windowStartMs);
    if (!keys) {
      keys = new Map();
      this.byWindow.set(windowStartMs, keys);
    }
    keys.set(key, (keys.get(key) ?? 0) + count);
  }

  /** True when no group has been added. */
  get isEmpty(): boolean {
    return this.byWindow.size === 0;
  }

  /** Splits the table into rows per partitionId (hash of the key), only non-empty partitions. */
  toPartials(partitions: number): PartialRows[] {
    const out = new Map<number, PartialRows>();
    const partitionOfKey = new Map<string, number>();
    for (const [windowStartMs, keys] of this.byWindow) {
      for (const [key, count] of keys) {
        let partitionId = partitionOfKey.get(key);
        if (partitionId === undefined) {
          partitionId = partitionIdOf(key, partitions);
          partitionOfKey.set(key, partitionId);
        }
        let rows = out.get(partitionId);
        if (!rows) {
          rows = { partitionId, windowStartsMs: [], keys: [], counts: [] };
          out.set(partitionId, rows);
        }
        rows.windowStartsMs.push(windowStartMs);
        rows.keys.push(key);
        rows.counts.push(count);
      }
    }
    return [...out.values()];
  }
}
