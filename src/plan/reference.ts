// The oracle: a single-threaded interpreter of a plan over micro-batches, walking expression trees, with Spark's watermark rules spelled out.
import type { BoundAggregate } from './aggregate.js';
import type { InputColumn } from './bound.js';
import { evaluate } from './evaluate.js';
import { isBlankRecord, newParseCounters, recordParser, type ParseCounters } from './from-json.js';
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
  /** True for the drain batch (the groups still open after the input, with `drain`). */
  readonly drained?: true;
  /** The watermark in effect during the batch (W(N): the one it evicts with), epoch ms. */
  readonly watermarkMs: number;
  /** Input rows (per window they fall in) dropped behind the watermark. */
  readonly lateRows: number;
  /** Distinct (window, key) groups dropped behind the watermark: Spark's numRowsDroppedByWatermark. */
  readonly lateGroups: number;
}

/** The oracle's result over a whole input. */
export interface PlanRun {
  /** The result's columns (names and types). */
  readonly columns: readonly InputColumn[];
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
  /** Told every decision as the oracle makes it (src/replay explains a run from these); absent: no cost. */
  readonly tracer?: PlanTracer;
}

/**
 * What a traced run reports, in the order the oracle decides: a batch's watermarks, each record
 * parsed, the filter that dropped it, each window it fell in (late or counted), each group that left
 * state or was output, and the batch's end. Values are the oracle's own (rows, groups), never copies.
 */
export interface PlanTracer {
  /** The plan as the oracle analyzed it: the steps later hooks name are its own objects. */
  begin?(plan: AnalyzedPlan): void;
  /** `drain`: the --drain batch, which outputs every open group as forced. */
  batchStart?(batch: { readonly batchId: number; readonly noData: boolean; readonly drain: boolean; readonly lateWatermarkMs: number; readonly evictionWatermarkMs: number }): void;
  /** Record `index` of the batch as from_json parsed it (before any step). */
  record?(index: number, parsed: Row): void;
  /** The current record was dropped by this filter step; `row` is what the condition saw. */
  filtered?(step: RowStep, row: Row): void;
  /** The current record was dropped by dropDuplicates (late behind W(N-1), or a key seen before). */
  duplicate?(late: boolean): void;
  /** The current record reached the aggregation as `row` (it falls in no window when its event time is null). */
  aggregated?(row: Row): void;
  /** The current record's group (window, keys) was behind the late watermark W(N-1): dropped. */
  late?(groupValues: readonly Value[]): void;
  /** The current record was added to its group; `groupRow` is the group's row after it (keys then aggregates). */
  counted?(groupValues: readonly Value[], groupRow: Row): void;
  /** A group was output (append: evicted; update: changed; complete: every batch; drain: forced) as `row`, before HAVING. */
  output?(groupValues: readonly Value[], row: Row, evicted: boolean): void;
  /** A group was removed from state without output (update mode eviction). */
  evicted?(groupValues: readonly Value[]): void;
  /** The batch ended: its output, the state rows kept, the max event time it saw, and the watermark for the next batch. */
  batchEnd?(batch: PlanBatch, stateRows: number, maxEventTimeMs: number | null, nextWatermarkMs: number): void;
}

interface Group {
  readonly values: Value[];
  readonly states: unknown[];
  /** Window end of the eviction key, µs; null when the plan has no such key. */
  readonly endUs: number | null;
}

/** Runs every step for one row; returns the row, or null when a filter dropped it. Calls `reached` when the row got past the watermark step. */
function runSteps(steps: readonly RowStep[], input: Row, reached: ((eventTimeUs: Value) => void) | null, onFiltered: (step: RowStep, row: Row) => void): Row | null {
  let row = input;
  let eventTime: Value | undefined;
  for (const step of steps) {
    if (step.kind === 'project') row = step.exprs.map((e) => evaluate(e, row));
    else if (step.kind === 'watermark') eventTime = row[step.ordinal] ?? null;
    else if (evaluate(step.condition, row) !== true) {
      // A filter Spark runs above the watermark still lets the row move it; a pushed-down one does not.
      if (eventTime !== undefined && !step.pushedBelowWatermark) reached?.(eventTime);
      onFiltered(step, row);
      return null;
    }
  }
  if (eventTime !== undefined) reached?.(eventTime);
  return row;
}

/** Every window start containing `tUs`, by counting slides back from the latest one (Spark's TimeWindowing). */
export function windowStarts(tUs: number, sizeUs: number, slideUs: number, startUs: number): number[] {
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
  const result: PlanRun = { columns: plan.columns, batches: [], counters, filteredRows: 0, finalWatermarkMs: 0 };
  const delayMs = plan.watermark?.delayMs ?? 0;
  const aggregate = plan.aggregate;
  const evictionKey = aggregate?.evictionKey ?? null;
  const groups = new Map<string, Group>();
  const seen = new Map<string, Value>();
  let watermarkMs = 0;
  let previousEvictionMs = 0;
  const tracer = options.tracer;
  tracer?.begin?.(plan);
  const onFiltered = (step: RowStep, row: Row): void => {
    result.filteredRows++;
    tracer?.filtered?.(step, row);
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
    tracer?.batchStart?.({ batchId: result.batches.length, noData, drain: false, lateWatermarkMs, evictionWatermarkMs });
    const reached = (et: Value): void => {
      if (typeof et !== 'number') return;
      const ms = Math.trunc(et / 1000);
      if (maxEventTimeMs === null || ms > maxEventTimeMs) maxEventTimeMs = ms;
    };

    for (let index = 0; index < records.length; index++) {
      const text = records[index]!;
      if (plan.skipBlankLines && isBlankRecord(text)) continue;
      const row: Row = [];
      if (text.length > maxChars) {
        counters.records++;
        counters.corruptRecords++;
        for (let i = 0; i < plan.schema.fields.length; i++) row.push(null);
      } else parse(text, row, counters);
      tracer?.record?.(index, row);
      let out = runSteps(plan.pre, row, plan.watermark ? reached : null, onFiltered);
      if (!out) continue;
      if (plan.dedup) {
        const key = plan.dedup.keyOrdinals.map((i) => keyOf(out![i] ?? null)).join('\u0000');
        const t = plan.dedup.eventTimeOrdinal === null ? null : (out[plan.dedup.eventTimeOrdinal] ?? null);
        const et = typeof t === 'number' ? t : null;
        if (et !== null && et <= lateWatermarkMs * 1000) {
          lateRows++;
          tracer?.duplicate?.(true);
          continue;
        }
        if (seen.has(key)) {
          tracer?.duplicate?.(false);
          continue;
        }
        seen.set(key, et);
        out = runSteps(plan.mid, out, null, onFiltered);
        if (!out) continue;
      }
      if (!aggregate) {
        emitted.push(out);
        continue;
      }
      tracer?.aggregated?.(out);
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
          tracer?.late?.(groupValues);
          continue;
        }
        let g = groups.get(id);
        if (!g) {
          g = { values: groupValues, states: aggregate.aggregates.map((a) => a.fn.init()), endUs: evictionKey !== null ? w!.endUs : null };
          groups.set(id, g);
        }
        update(g, aggregate.aggregates, out);
        updated.add(id);
        if (tracer?.counted) tracer.counted(g.values, groupRow(g));
      }
    }

    const evictable = (g: Group): boolean => g.endUs !== null && g.endUs <= evictionWatermarkMs * 1000;
    const output = (g: Group, evicted: boolean): void => {
      const row = groupRow(g);
      emitted.push(row);
      tracer?.output?.(g.values, row, evicted);
    };
    if (aggregate) {
      if (mode === 'complete') for (const g of groups.values()) output(g, false);
      else if (mode === 'update') {
        for (const id of updated) output(groups.get(id)!, false);
        for (const [id, g] of groups) {
          if (!evictable(g)) continue;
          groups.delete(id);
          tracer?.evicted?.(g.values);
        }
      } else {
        for (const [id, g] of groups) {
          if (!evictable(g)) continue;
          output(g, true);
          groups.delete(id);
        }
      }
    }
    if (plan.dedup && plan.dedup.eventTimeOrdinal !== null) {
      for (const [key, et] of seen) if (typeof et === 'number' && et <= evictionWatermarkMs * 1000) seen.delete(key);
    }
    // Stateful output is sorted (Spark's order there is its hash tables'); stateless output keeps input order.
    const rows = aggregate ? orderRows(postRows(emitted), plan) : plan.dedup ? orderRows(emitted, plan) : emitted;
    const batch: PlanBatch = { batchId: result.batches.length, rows, noData, watermarkMs: evictionWatermarkMs, lateRows, lateGroups: lateGroups.size };
    result.batches.push(batch);
    previousEvictionMs = evictionWatermarkMs;
    if (plan.watermark && maxEventTimeMs !== null) watermarkMs = Math.max(watermarkMs, maxEventTimeMs - delayMs);
    tracer?.batchEnd?.(batch, plan.dedup && !aggregate ? seen.size : groups.size, maxEventTimeMs, watermarkMs);
  };

  for (const records of batches) runBatch(records, false);
  if (plan.watermark && (plan.aggregate || plan.dedup) && watermarkMs > previousEvictionMs) runBatch([], true);
  if (options.drain && aggregate && mode !== 'complete' && groups.size > 0) {
    tracer?.batchStart?.({ batchId: result.batches.length, noData: true, drain: true, lateWatermarkMs: previousEvictionMs, evictionWatermarkMs: watermarkMs });
    const rows = orderRows(postRows([...groups.values()].map((g) => {
      const row = groupRow(g);
      tracer?.output?.(g.values, row, true);
      return row;
    })), plan);
    groups.clear();
    const batch: PlanBatch = { batchId: result.batches.length, rows, noData: true, drained: true, watermarkMs, lateRows: 0, lateGroups: 0 };
    result.batches.push(batch);
    tracer?.batchEnd?.(batch, 0, null, watermarkMs);
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

