// Stage 2 of a batch: one partition's window state — late filter, merge, evict and emit per output mode.
import type { PartialRows } from './aggregate.js';
import type { OutputMode } from './query.js';
import type { WatermarkMs } from './time.js';

/** One aggregated group as it leaves the engine. `windowStartMs` is 0 for a query without a window. */
export interface ResultRow {
  readonly windowStartMs: number;
  readonly key: string;
  readonly count: number;
  /** Emitted by --drain before its window completed. */
  readonly forced?: true;
}

/** The watermarks and rules one stateful step runs with; stamped by the coordinator on every task. */
export interface StatefulStep {
  readonly outputMode: OutputMode;
  /** Window size; null for a query without a window (then nothing is late or evicted). */
  readonly windowSizeMs: number | null;
  /** Rows whose window end <= this are late: W(N-1), the previous batch's eviction watermark. Null: no watermark. */
  readonly lateWatermarkMs: WatermarkMs | null;
  /** Windows whose end <= this are complete: W(N). Null: no watermark. */
  readonly evictionWatermarkMs: WatermarkMs | null;
  readonly having: ((count: number) => boolean) | undefined;
}

/** What one stateful step did to one partition. */
export interface StepOutput {
  rows: ResultRow[];
  /** Input events dropped as late (sum of the partial counts behind the watermark). */
  lateRows: number;
  /** Groups inserted or changed by this step. */
  updatedGroups: number;
  /** Groups removed because their window completed. */
  evictedGroups: number;
}

/** A group of the state as it is snapshotted: plain data keyed by (key, window), not by worker. */
export type StateEntry = readonly [windowStartMs: number, key: string, count: number];

/**
 * The window state of one partitionId: count per (window start, key). Lives on the worker that owns
 * the partition, or inline in the single-threaded baseline.
 */
export class WindowState {
  private readonly byWindow = new Map<number, Map<string, number>>();
  private groups = 0;

  /** Number of (window, key) groups held. */
  get size(): number {
    return this.groups;
  }

  /**
   * Runs one batch's stateful step on this partition: drop late partial rows, merge the rest,
   * then emit and evict as the output mode says (DESIGN.md section 3; Spark's StateStoreSaveExec).
   */
  step(inputs: readonly PartialRows[], step: StatefulStep): StepOutput {
    const out: StepOutput = { rows: [], lateRows: 0, updatedGroups: 0, evictedGroups: 0 };
    const size = step.windowSizeMs;
    const dropsLate = size !== null && step.lateWatermarkMs !== null && step.outputMode !== 'complete';
    const updated = step.outputMode === 'update' ? new Map<number, Set<string>>() : null;
    for (const { windowStartsMs, keys, counts } of inputs) {
      for (let i = 0; i < keys.length; i++) {
        const start = windowStartsMs[i]!;
        const count = counts[i]!;
        if (dropsLate && start + size! <= step.lateWatermarkMs!) {
          out.lateRows += count;
          continue;
        }
        const key = keys[i]!;
        this.add(start, key, count);
        out.updatedGroups++;
        if (updated) {
          let set = updated.get(start);
          if (!set) updated.set(start, (set = new Set()));
          set.add(key);
        }
      }
    }
    const having = step.having;
    const keep = (count: number): boolean => having === undefined || having(count);
    switch (step.outputMode) {
      case 'complete':
        for (const [start, keyCounts] of this.byWindow) {
          for (const [key, count] of keyCounts) if (keep(count)) out.rows.push({ windowStartMs: start, key, count });
        }
        break;
      case 'update':
        for (const [start, set] of updated!) {
          const keyCounts = this.byWindow.get(start)!;
          for (const key of set) {
            const count = keyCounts.get(key)!;
            if (keep(count)) out.rows.push({ windowStartMs: start, key, count });
          }
        }
        out.evictedGroups = this.evict(step, null);
        break;
      case 'append':
        out.evictedGroups = this.evict(step, (row) => {
          if (keep(row.count)) out.rows.push(row);
        });
        break;
    }
    return out;
  }

  /** Removes every group (for --drain) and returns those passing HAVING, tagged as forced. */
  drain(having: ((count: number) => boolean) | undefined): ResultRow[] {
    const rows: ResultRow[] = [];
    for (const [start, keyCounts] of this.byWindow) {
      for (const [key, count] of keyCounts) {
        if (having === undefined || having(count)) rows.push({ windowStartMs: start, key, count, forced: true });
      }
    }
    this.byWindow.clear();
    this.groups = 0;
    return rows;
  }

  /** The state as plain entries, for snapshots. */
  entries(): StateEntry[] {
    const out: StateEntry[] = [];
    for (const [start, keyCounts] of this.byWindow) for (const [key, count] of keyCounts) out.push([start, key, count]);
    return out;
  }

  /** Adds entries (from a snapshot) to the state. */
  load(entries: Iterable<StateEntry>): void {
    for (const [start, key, count] of entries) this.add(start, key, count);
  }

  /** Approximate heap bytes held: a rough per-group cost used for the memoryUsedBytes metric. */
  approxBytes(): number {
    return this.groups * 120 + this.byWindow.size * 80;
  }

  private add(windowStartMs: number, key: string, count: number): void {
    let keyCounts = this.byWindow.get(windowStartMs);
    if (!keyCounts) this.byWindow.set(windowStartMs, (keyCounts = new Map()));
    const prev = keyCounts.get(key);
    if (prev === undefined) this.groups++;
    keyCounts.set(key, (prev ?? 0) + count);
  }

  /** Removes windows with end <= the eviction watermark, handing each removed group to `emit`. */
  private evict(step: StatefulStep, emit: ((row: ResultRow) => void) | null): number {
    const size = step.windowSizeMs;
    const wm = step.evictionWatermarkMs;
    if (size === null || wm === null) return 0;
    let evicted = 0;
    for (const [start, keyCounts] of this.byWindow) {
      if (start + size > wm) continue;
      if (emit) for (const [key, count] of keyCounts) emit({ windowStartMs: start, key, count });
      evicted += keyCounts.size;
      this.groups -= keyCounts.size;
      this.byWindow.delete(start);
    }
    return evicted;
  }
}
