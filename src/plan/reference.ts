// The oracle: a single-threaded interpreter of a plan over micro-batches, walking expression trees, with Spark's watermark rules spelled out.
import type { BoundAggregate } from './aggregate.js';
import { evaluate } from './evaluate.js';
import { newParseCounters, recordParser, type ParseCounters } from './from-json.js';
import { orderRows } from './order.js';
import { analyzePlan, checkStreaming, type AnalyzedPlan, type QueryPlan, type RowStep } from './plan.js';
import type { Row, Value, WindowValue } from './types.js';
import { keyOf } from './values.js';

/** One batch's output. */
export interface PlanBatch {
  readonly batchId: number;
  readonly rows: Row[];
  /** True for the batch run without input after the input ended (watermark moved), and the drain batch. */
  readonly noData: boolean;
  /** The watermark in effect during the batch (W(N): the one it evicts with), epoch ms. */
  readonly watermarkMs: number;
  /** Input rows (per window they fall in) dropped behind the watermark. */
  readonly lateRows: number;
  /** Distinct (window, key) groups dropped behind the watermark: Spark's numRowsDroppedByWatermark. */
  readonly lateGroups: number;
}

/** The oracle's result over a whole input. */
export interface PlanRun {
  readonly batches: PlanBatch[];
  readonly counters: ParseCounters;
  /** Rows a filter dropped. */
  filteredRows: number;
  finalWatermarkMs: number;
}

/** Options of a reference run. */
export interface PlanRunOptions {
  /** After the input, emit the groups still open (append/update) as one last batch. */
  readonly drain?: boolean;
  /** Records longer than this many UTF-16 code units count as corrupt (all-null rows). */
  readonly maxRecordChars?: number;
}

interface Group {
  readonly values: Value[];
  readonly states: unknown[];
  /** Window end of the eviction key, µs; null when the plan has no such key. */
  readonly endUs: number | null;
}

/** Runs every step for one row; returns the row, or null when a filter dropped it. Calls `reached` when the row got past the watermark step. */
function runSteps(steps: readonly RowStep[], input: Row, reached: ((eventTimeUs: Value) => void) | null, onFiltered: () => void): Row | null {
  let row = input;
  let eventTime: Value | undefined;
  for (const step of steps) {
    if (step.kind === 'project') row = step.exprs.map((e) => evaluate(e, row));
    else if (step.kind === 'watermark') eventTime = row[step.ordinal] ?? null;
    else if (evaluate(step.condition, row) !== true) {
      // A filter Spark runs above the watermark still lets the row move it; a pushed-down one does not.
      if (eventTime !== undefined && !step.pushedBelowWatermark) reached?.(eventTime);
      onFiltered();
      return null;
    }
  }
  if (eventTime !== undefined) reached?.(eventTime);
  return row;
}

/** Every window start containing `tUs`, by counting slides back from the latest one (Spark's TimeWindowing). */
function windowStarts(tUs: number, sizeUs: number, slideUs: number, startUs: number): number[] {
  const starts: number[] = [];
  const latest = tUs - ((((tUs - startUs) % slideUs) + slideUs) % slideUs);
  for (let s = latest; s > tUs - sizeUs; s -= slideUs) starts.unshift(s);
  return starts;
}

/**
 * Interprets `query` over `batches` of raw records, as Spark's micro-batch rules say: parse with
 * from_json, run the row steps, watch the event time, drop late rows with the previous batch's
 * eviction watermark W(N-1), update state, emit and evict with W(N), advance the watermark to
 * max(W, maxEventTime - delay). After the input, one batch without data runs if the watermark moved.
 */
export function runPlanReference(query: QueryPlan, batches: Iterable<readonly string[]>, options: PlanRunOptions = {}): PlanRun {
  const plan: AnalyzedPlan = checkStreaming(analyzePlan(query.root, { ansi: query.ansi }), query.outputMode);
  const mode = query.outputMode;
  const parse = recordParser(plan.schema);
  const counters = newParseCounters(plan.schema);
  const maxChars = options.maxRecordChars ?? Infinity;
  const result: PlanRun = { batches: [], counters, filteredRows: 0, finalWatermarkMs: 0 };
  const delayMs = plan.watermark?.delayMs ?? 0;
  const aggregate = plan.aggregate;
  const evictionKey = aggregate?.evictionKey ?? null;
  const groups = new Map<string, Group>();
  const seen = new Map<string, Value>();
  let watermarkMs = 0;
  let previousEvictionMs = 0;
  const onFiltered = (): void => {
    result.filteredRows++;
  };

  const postRows = (rows: Row[]): Row[] => rows.flatMap((r) => {
    const out = runSteps(plan.post, r, null, () => {});
    return out ? [out] : [];
  });
  const groupRow = (g: Group): Row => [...g.values, ...g.states.map((s, i) => aggregate!.aggregates[i]!.fn.evaluate(s))];

  const runBatch = (records: readonly string[], noData: boolean): void => {
    const lateWatermarkMs = previousEvictionMs;
    const evictionWatermarkMs = watermarkMs;
    let maxEventTimeMs: number | null = null;
    let lateRows = 0;
    const lateGroups = new Set<string>();
    const updated = new Set<string>();
    const emitted: Row[] = [];
    const reached = (et: Value): void => {
      if (typeof et !== 'number') return;
      const ms = Math.trunc(et / 1000);
      if (maxEventTimeMs === null || ms > maxEventTimeMs) maxEventTimeMs = ms;
    };

    for (const text of records) {
      const row: Row = [];
      if (text.length > maxChars) {
        counters.records++;
        counters.corruptRecords++;
        for (let i = 0; i < plan.schema.fields.length; i++) row.push(null);
      } else parse(text, row, counters);
      let out = runSteps(plan.pre, row, plan.watermark ? reached : null, onFiltered);
      if (!out) continue;
      if (plan.dedup) {
        const key = plan.dedup.keyOrdinals.map((i) => keyOf(out![i] ?? null)).join('\u0000');
        const t = plan.dedup.eventTimeOrdinal === null ? null : (out[plan.dedup.eventTimeOrdinal] ?? null);
        const et = typeof t === 'number' ? t : null;
        if (et !== null && et <= lateWatermarkMs * 1000) {
          lateRows++;
          continue;
        }
        if (seen.has(key)) continue;
        seen.set(key, et);
        out = runSteps(plan.mid, out, null, onFiltered);
        if (!out) continue;
      }
      if (!aggregate) {
        emitted.push(out);
        continue;
      }
      // Group keys: at most one window (a row falls in every window containing its event time), then the expressions.
      let windows: Array<WindowValue | null> = [null];
      const values: Value[] = [];
      for (const key of aggregate.keys) {
        if (key.kind === 'window') {
          const t = out[key.timeOrdinal] ?? null;
          if (t === null) {
            windows = [];
            break;
          }
          windows = windowStarts(t as number, key.sizeUs, key.slideUs, key.startUs).map((s) => ({ startUs: s, endUs: s + key.sizeUs }));
          values.push(null);
        } else values.push(evaluate(key.bound, out));
      }
      const windowAt = aggregate.keys.findIndex((k) => k.kind === 'window');
      for (const w of windows) {
        const groupValues = [...values];
        if (windowAt >= 0) groupValues[windowAt] = w;
        const id = groupValues.map(keyOf).join('\u0000');
        if (evictionKey !== null && mode !== 'complete' && w!.endUs <= lateWatermarkMs * 1000) {
          lateRows++;
          lateGroups.add(id);
          continue;
        }
        let g = groups.get(id);
        if (!g) {
          g = { values: groupValues, states: aggregate.aggregates.map((a) => a.fn.init()), endUs: evictionKey !== null ? w!.endUs : null };
          groups.set(id, g);
        }
        update(g, aggregate.aggregates, out);
        updated.add(id);
      }
    }

    const evictable = (g: Group): boolean => g.endUs !== null && g.endUs <= evictionWatermarkMs * 1000;
    if (aggregate) {
      if (mode === 'complete') for (const g of groups.values()) emitted.push(groupRow(g));
      else if (mode === 'update') {
        for (const id of updated) emitted.push(groupRow(groups.get(id)!));
        for (const [id, g] of groups) if (evictable(g)) groups.delete(id);
      } else {
        for (const [id, g] of groups) {
          if (!evictable(g)) continue;
          emitted.push(groupRow(g));
          groups.delete(id);
        }
      }
    }
    if (plan.dedup && plan.dedup.eventTimeOrdinal !== null) {
      for (const [key, et] of seen) if (typeof et === 'number' && et <= evictionWatermarkMs * 1000) seen.delete(key);
    }
    // Stateful output is sorted (Spark's order there is its hash tables'); stateless output keeps input order.
    const rows = aggregate ? orderRows(postRows(emitted), plan) : plan.dedup ? orderRows(emitted, plan) : emitted;
    result.batches.push({ batchId: result.batches.length, rows, noData, watermarkMs: evictionWatermarkMs, lateRows, lateGroups: lateGroups.size });
    previousEvictionMs = evictionWatermarkMs;
    if (plan.watermark && maxEventTimeMs !== null) watermarkMs = Math.max(watermarkMs, maxEventTimeMs - delayMs);
  };

  for (const records of batches) runBatch(records, false);
  if (plan.watermark && (plan.aggregate || plan.dedup) && watermarkMs > previousEvictionMs) runBatch([], true);
  if (options.drain && aggregate && mode !== 'complete' && groups.size > 0) {
    const rows = orderRows(postRows([...groups.values()].map(groupRow)), plan);
    groups.clear();
    result.batches.push({ batchId: result.batches.length, rows, noData: true, watermarkMs, lateRows: 0, lateGroups: 0 });
  }
  result.finalWatermarkMs = watermarkMs;
  return result;
}

function update(g: Group, aggregates: readonly BoundAggregate[], row: Row): void {
  for (let i = 0; i < aggregates.length; i++) {
    const a = aggregates[i]!;
    g.states[i] = a.fn.update(g.states[i], a.input === null ? true : evaluate(a.input, row));
  }
}

