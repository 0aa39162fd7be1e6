// Stage 2: the stateful operators over partial input — aggregation state (late drop, merge, emit, evict) and dropDuplicates' seen keys.
import type { AggregateFunction } from './aggregate.js';
import type { OutputMode } from './plan.js';
import type { Row, Value } from './types.js';

/**
 * Partial aggregates from stage 1, as parallel arrays (cheap to clone across threads): group id
 * (the routing key), its key values, one state per aggregate, and the end of its eviction window
 * in µs (null when the plan has none).
 */
export interface PartialGroups {
  readonly ids: string[];
  readonly values: Value[][];
  readonly states: unknown[][];
  readonly endsUs: Array<number | null>;
  /** Input rows behind each partial group (Kindling's late-row count needs them). */
  readonly counts: number[];
}

export const emptyPartialGroups = (): PartialGroups => ({ ids: [], values: [], states: [], endsUs: [], counts: [] });

/** The watermarks a stateful step runs with, stamped by whoever owns the watermark. */
export interface StepWatermarks {
  /** W(N-1): rows and groups at or behind it are late. */
  readonly lateWatermarkMs: number;
  /** W(N): windows ending at or before it are complete. */
  readonly evictionWatermarkMs: number;
}

/** What one aggregation step did. */
export interface AggregationStepResult {
  /** Emitted rows: key values then aggregate values (before HAVING). */
  readonly rows: Row[];
  /** Partial groups dropped behind the watermark, counted once per group id per step (Spark's numRowsDroppedByWatermark). */
  readonly lateGroups: number;
  /** Input rows in those groups (Kindling's late-row count). */
  readonly lateRows: number;
  readonly updatedGroups: number;
  readonly evictedGroups: number;
}

interface StateGroup {
  readonly values: Value[];
  states: unknown[];
  readonly endUs: number | null;
}

/** A state entry as snapshots keep it: plain data, keyed by group id. */
export type AggregationEntry = readonly [id: string, values: Value[], states: unknown[], endUs: number | null];

/** One partition's aggregation state. */
export class AggregationState {
  private readonly groups = new Map<string, StateGroup>();

  constructor(
    private readonly functions: readonly AggregateFunction[],
    private readonly mode: OutputMode,
  ) {}

  get size(): number {
    return this.groups.size;
  }

  /**
   * Merges this batch's partial groups (in task order), dropping late ones unless in complete
   * mode, then emits per output mode and evicts complete windows.
   */
  step(inputs: readonly PartialGroups[], w: StepWatermarks): AggregationStepResult {
    const lateUs = w.lateWatermarkMs * 1000;
    const updated = new Set<string>();
    const late = new Set<string>();
    let lateRows = 0;
    for (const p of inputs) {
      for (let i = 0; i < p.ids.length; i++) {
        const id = p.ids[i]!;
        const endUs = p.endsUs[i]!;
        if (endUs !== null && this.mode !== 'complete' && endUs <= lateUs) {
          late.add(id);
          lateRows += p.counts[i]!;
          continue;
        }
        const g = this.groups.get(id);
        const states = p.states[i]!;
        if (!g) this.groups.set(id, { values: p.values[i]!, states: [...states], endUs });
        else for (let a = 0; a < this.functions.length; a++) g.states[a] = this.functions[a]!.merge(g.states[a], states[a]);
        updated.add(id);
      }
    }
    const rows: Row[] = [];
    const evictUs = w.evictionWatermarkMs * 1000;
    let evicted = 0;
    if (this.mode === 'complete') {
      for (const g of this.groups.values()) rows.push(this.row(g));
    } else if (this.mode === 'update') {
      for (const id of updated) rows.push(this.row(this.groups.get(id)!));
      for (const [id, g] of this.groups) {
        if (g.endUs !== null && g.endUs <= evictUs) {
          this.groups.delete(id);
          evicted++;
        }
      }
    } else {
      for (const [id, g] of this.groups) {
        if (g.endUs !== null && g.endUs <= evictUs) {
          rows.push(this.row(g));
          this.groups.delete(id);
          evicted++;
        }
      }
    }
    return { rows, lateGroups: late.size, lateRows, updatedGroups: updated.size, evictedGroups: evicted };
  }

  /** Every open group as a row (for --drain), emptying the state. */
  drain(): Row[] {
    const rows = [...this.groups.values()].map((g) => this.row(g));
    this.groups.clear();
    return rows;
  }

  entries(): AggregationEntry[] {
    return [...this.groups].map(([id, g]) => [id, g.values, g.states, g.endUs] as const);
  }

  load(entries: readonly AggregationEntry[]): void {
    this.groups.clear();
    for (const [id, values, states, endUs] of entries) this.groups.set(id, { values, states: [...states], endUs });
  }

  private row(g: StateGroup): Row {
    const row = g.values.slice();
    for (let a = 0; a < this.functions.length; a++) row.push(this.functions[a]!.evaluate(g.states[a]));
    return row;
  }
}

/** Rows for dropDuplicates, with their dedup key and event time (µs, or null). */
export interface DedupInput {
  readonly keys: string[];
  readonly eventTimesUs: Array<number | null>;
  readonly rows: Row[];
}

/** One partition's dropDuplicates state: the keys seen, with their event time. */
export class DedupState {
  private readonly seen = new Map<string, number | null>();

  /**
   * @param eventTimeKey true when the event-time column is among the keys: only then are rows at or
   * behind W(N-1) dropped as late and seen keys at or behind W(N) evicted; otherwise seen keys are
   * kept forever and nothing is late, as Spark 4.0.5 does.
   */
  constructor(private readonly eventTimeKey: boolean) {}

  get size(): number {
    return this.seen.size;
  }

  /** Keeps the first row of each unseen key (in input order), then evicts keys behind W(N). */
  step(inputs: readonly DedupInput[], w: StepWatermarks): { rows: Row[]; lateRows: number } {
    const rows: Row[] = [];
    let lateRows = 0;
    const lateUs = w.lateWatermarkMs * 1000;
    for (const input of inputs) {
      for (let i = 0; i < input.keys.length; i++) {
        const et = input.eventTimesUs[i]!;
        if (this.eventTimeKey && et !== null && et <= lateUs) {
          lateRows++;
          continue;
        }
        const key = input.keys[i]!;
        if (this.seen.has(key)) continue;
        this.seen.set(key, et);
        rows.push(input.rows[i]!);
      }
    }
    if (this.eventTimeKey) {
      const evictUs = w.evictionWatermarkMs * 1000;
      for (const [key, et] of this.seen) if (et !== null && et <= evictUs) this.seen.delete(key);
    }
    return { rows, lateRows };
  }

  entries(): Array<readonly [string, number | null]> {
    return [...this.seen];
  }

  load(entries: ReadonlyArray<readonly [string, number | null]>): void {
    this.seen.clear();
    for (const [k, et] of entries) this.seen.set(k, et);
  }
}
