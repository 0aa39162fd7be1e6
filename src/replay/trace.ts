// The traced replay: runs a plan's oracle over a run's batches and records the fate of one key's records and windows, batch by batch.
import { rowToJson } from '../plan/output.js';
import { analyzePlan, checkStreaming, type AnalyzedPlan, type QueryPlan, type RowStep } from '../plan/plan.js';
import { runPlanReference, windowStarts, type PlanTracer } from '../plan/reference.js';
import type { Row, Value, WindowValue } from '../plan/types.js';
import { evaluate } from '../plan/evaluate.js';
import { keyOf } from '../plan/values.js';
import { explainFilter, nameFilters, shadowRow, type FilterFailure, type NamedFilter } from './steps.js';
import { keyText, plainValue, type PlainValue } from './values.js';

/** One batch of a replay: its records' text and where each one is in the input. */
export interface ReplayBatch {
  readonly records: readonly string[];
  /** Where record `index` is, for a person: "part-000.ndjson line 12", "logs-1 offset 1042". */
  position(index: number): string;
}

/** A window in epoch ms, `[startMs, endMs)`. */
export interface WindowMs {
  readonly startMs: number;
  readonly endMs: number;
}

/** What happened to a record (per window it falls in, for the late and counted fates). */
export type RecordFate =
  | ({ readonly kind: 'filtered' } & FilterFailure)
  | { readonly kind: 'duplicate'; readonly late: boolean }
  /** Reached the aggregation with a null event time: it falls in no window. */
  | { readonly kind: 'no-event-time' }
  | { readonly kind: 'late'; readonly window: WindowMs | null; readonly batchId: number; readonly lateWatermarkMs: number; readonly byMs: number }
  | { readonly kind: 'counted'; readonly window: WindowMs | null; readonly batchId: number; readonly aggregates: Readonly<Record<string, PlainValue>> };

/** One record of the key. */
export interface RecordTrace {
  readonly batchId: number;
  readonly position: string;
  /** The event time the plan computed (null: none), epoch ms. */
  readonly eventTimeMs: number | null;
  readonly fates: RecordFate[];
}

/** One output of a group: a row (HAVING kept it) or the HAVING condition that dropped it. */
export interface GroupOutput {
  readonly batchId: number;
  /** The row as the jsonl sink writes it (null: HAVING dropped it). */
  readonly row: Readonly<Record<string, unknown>> | null;
  readonly having: FilterFailure | null;
  /** Removed from state with this output (append: final; drain: forced). */
  readonly evicted: boolean;
  readonly forced: boolean;
}

/** How a window of the key ended. */
export type WindowOutcome =
  | { readonly kind: 'emitted'; readonly batchId: number; readonly row: Readonly<Record<string, unknown>>; readonly forced: boolean }
  | { readonly kind: 'having-false'; readonly batchId: number; readonly having: FilterFailure }
  | { readonly kind: 'open'; readonly watermarkMs: number }
  /** Every record of it was late, filtered or a duplicate: it never had state. */
  | { readonly kind: 'never-counted' }
  /** Removed from state without a final row (update mode: its rows were the updates). */
  | { readonly kind: 'evicted'; readonly batchId: number }
  /** No watermark or no window (complete mode, plain groupBy): the group lives forever; its rows are the outputs. */
  | { readonly kind: 'kept' };

/** One window (group) of the key. */
export interface WindowTrace {
  readonly window: WindowMs | null;
  readonly key: string;
  /** The group's aggregates after each batch that counted into it. */
  readonly counts: Array<{ readonly batchId: number; readonly aggregates: Readonly<Record<string, PlainValue>> }>;
  counted: number;
  late: number;
  /** The key's records in this window a filter dropped after they passed its first condition, or on a null (near misses), by predicate. */
  readonly filtered: Record<string, number>;
  /** The first batch whose eviction watermark reached the window's end, and that watermark. */
  watermarkPassed: { readonly batchId: number; readonly watermarkMs: number } | null;
  readonly outputs: GroupOutput[];
  outcome: WindowOutcome;
}

/** One batch as the replay ran it. */
export interface BatchTrace {
  readonly batchId: number;
  readonly noData: boolean;
  readonly drain: boolean;
  readonly records: number;
  /** W(N-1): late rows are those whose window ends at or before it. */
  readonly lateWatermarkMs: number;
  /** W(N): windows ending at or before it are evicted. */
  readonly watermarkMs: number;
  readonly maxEventTimeMs: number | null;
  readonly nextWatermarkMs: number;
  readonly stateRows: number;
  readonly lateRows: number;
  readonly lateGroups: number;
  /** Every output row of the batch (all keys), as the jsonl sink writes it. */
  readonly rows: readonly string[];
}

/** What explain asks for: a key (its grouping values as text, e.g. `user_1042`), optionally one window. */
export interface TraceSelection {
  readonly key: string;
  /** Only this window: the one starting at it, else those containing it (epoch ms). */
  readonly windowMs?: number | null;
}

export interface TraceOptions {
  readonly drain?: boolean;
  readonly maxRecordChars?: number;
  /** Explain as of this batch: what happened after it is left out. */
  readonly untilBatchId?: number | null;
}

/** A traced replay. */
export interface ReplayTrace {
  readonly query: string;
  readonly outputMode: string;
  /** Names of the grouping columns that make a key (the window excluded). */
  readonly keyColumns: readonly string[];
  readonly key: string;
  readonly watermarkDelayMs: number | null;
  readonly records: RecordTrace[];
  readonly windows: WindowTrace[];
  readonly batches: BatchTrace[];
  readonly finalWatermarkMs: number;
  /** Set when the trace stops at a batch (--batch N) rather than at the end of the input. */
  readonly untilBatchId: number | null;
}

const toMs = (us: number): number => Math.floor(us / 1000);
const windowMs = (w: WindowValue | null): WindowMs | null => (w === null ? null : { startMs: toMs(w.startUs), endMs: toMs(w.endUs) });

/** The analyzed plan of a query (the oracle analyzes it the same way). */
export function analyzed(query: QueryPlan): AnalyzedPlan {
  return checkStreaming(analyzePlan(query.root, { ansi: query.ansi }), query.outputMode);
}

/** The names of a query's grouping columns that make a key: every grouping column but the window. */
export function keyColumnsOf(query: QueryPlan): string[] {
  const aggregate = analyzed(query).aggregate;
  return aggregate ? aggregate.keys.flatMap((k, i) => (k.kind === 'window' ? [] : [aggregate.columns[i]!.name])) : [];
}

/** Runs post steps (HAVING, select) on a group's row: the row out, or the condition that dropped it. */
function postRow(plan: AnalyzedPlan, filters: ReadonlyMap<RowStep, NamedFilter>, row: Row): { row: Row | null; having: FilterFailure | null } {
  let out = row;
  for (const step of plan.post) {
    if (step.kind === 'project') out = step.exprs.map((e) => evaluate(e, out));
    else if (step.kind === 'filter' && evaluate(step.condition, out) !== true) {
      const named = filters.get(step);
      return { row: null, having: named ? explainFilter(step, named, out) : null };
    }
  }
  return { row: out, having: null };
}

/**
 * Replays `batches` through the oracle of `query` and traces the records and windows of one key.
 * Batch ids are the indexes of `batches`; after them the oracle runs the no-data batch (when the
 * watermark moved) and, with `drain`, the drain batch, as a run does.
 */
export function traceReplay(query: QueryPlan, batches: readonly ReplayBatch[], selection: TraceSelection, options: TraceOptions = {}): ReplayTrace {
  let plan = analyzed(query);
  const aggregate = plan.aggregate;
  if (!aggregate) throw new Error(`query ${query.name} has no aggregation: explain answers why a group's row is (not) there`);
  let filters = nameFilters(query, plan);
  const windowAt = aggregate.keys.findIndex((k) => k.kind === 'window');
  const windowKey = windowAt >= 0 ? (aggregate.keys[windowAt] as Extract<(typeof aggregate.keys)[number], { kind: 'window' }>) : null;
  const keyColumns = keyColumnsOf(query);
  const aggColumns = aggregate.columns.slice(aggregate.keys.length);
  const aggregatesOf = (groupRow: Row): Record<string, PlainValue> =>
    Object.fromEntries(aggColumns.map((c, i) => [c.name, plainValue(groupRow[aggregate.keys.length + i] ?? null, c.type)]));
  const keyOfGroup = (values: readonly Value[]): string => keyText(values.filter((_, i) => i !== windowAt));
  const wanted = selection.windowMs ?? null;
  const windowWanted = (w: WindowMs | null): boolean => wanted === null || (w !== null && w.startMs === wanted);

  const records: RecordTrace[] = [];
  const windows = new Map<string, WindowTrace>();
  const batchTraces: BatchTrace[] = [];
  let batchId = 0;
  let batchInfo = { noData: false, drain: false, lateWatermarkMs: 0, evictionWatermarkMs: 0 };
  let current: RecordTrace | null = null;
  let currentWindows: Array<WindowMs | null> = [];

  const windowTrace = (w: WindowMs | null): WindowTrace => {
    const id = w === null ? 'n' : `${w.startMs}`;
    let t = windows.get(id);
    if (!t) {
      t = { window: w, key: selection.key, counts: [], counted: 0, late: 0, filtered: {}, watermarkPassed: null, outputs: [], outcome: { kind: 'never-counted' } };
      windows.set(id, t);
    }
    return t;
  };
  const groupWindow = (values: readonly Value[]): WindowMs | null => (windowAt >= 0 ? windowMs(values[windowAt] as WindowValue | null) : null);

  const until = options.untilBatchId ?? Infinity;
  const traced: PlanTracer = {
    begin(oraclePlan) {
      // The filter steps the hooks name are the oracle's objects: name those.
      plan = oraclePlan;
      filters = nameFilters(query, plan);
    },
    batchStart(b) {
      batchId = b.batchId;
      batchInfo = b;
    },
    record(index, parsed) {
      current = null;
      const shadow = shadowRow(plan, parsed);
      if (!shadow) return;
      const values = aggregate.keys.map((k) => (k.kind === 'window' ? null : evaluate(k.bound, shadow.row)));
      if (keyOfGroup(values) !== selection.key) return;
      const t = windowKey ? (shadow.row[windowKey.timeOrdinal] ?? null) : null;
      currentWindows = windowKey === null ? [null] : typeof t === 'number' ? windowStarts(t, windowKey.sizeUs, windowKey.slideUs, windowKey.startUs).map((s) => windowMs({ startUs: s, endUs: s + windowKey.sizeUs })) : [];
      if (wanted !== null && !currentWindows.some(windowWanted)) return;
      const et = typeof shadow.eventTimeUs === 'number' ? shadow.eventTimeUs : typeof t === 'number' ? t : null;
      current = { batchId, position: batches[batchId]?.position(index) ?? `batch ${batchId} record ${index}`, eventTimeMs: et === null ? null : toMs(et), fates: [] };
      records.push(current);
    },
    filtered(step, row) {
      if (!current) return;
      const named = filters.get(step);
      const failure = step.kind === 'filter' && named ? explainFilter(step, named, row) : null;
      const fate: RecordFate = { kind: 'filtered', ...(failure ?? { predicate: 'a filter', result: false, values: {}, nullFields: [], conjunct: 0 }) };
      current.fates.push(fate);
      // Only near misses make a window's story: a record its filter's first condition dropped (for crash-alerts, not a crash at all) is no candidate.
      if (fate.conjunct === 0 && fate.result === false) return;
      for (const w of currentWindows) if (windowWanted(w)) windowTrace(w).filtered[fate.predicate] = (windowTrace(w).filtered[fate.predicate] ?? 0) + 1;
    },
    duplicate(late) {
      current?.fates.push({ kind: 'duplicate', late });
    },
    aggregated(row) {
      if (current && windowKey && (row[windowKey.timeOrdinal] ?? null) === null) current.fates.push({ kind: 'no-event-time' });
    },
    late(values) {
      if (!current) return;
      const w = groupWindow(values);
      if (!windowWanted(w)) return;
      current.fates.push({ kind: 'late', window: w, batchId, lateWatermarkMs: batchInfo.lateWatermarkMs, byMs: w === null ? 0 : batchInfo.lateWatermarkMs - w.endMs });
      windowTrace(w).late++;
    },
    counted(values, groupRow) {
      if (!current) return;
      const w = groupWindow(values);
      if (!windowWanted(w)) return;
      const aggregates = aggregatesOf(groupRow);
      current.fates.push({ kind: 'counted', window: w, batchId, aggregates });
      const t = windowTrace(w);
      t.counted++;
      if (t.counts.at(-1)?.batchId === batchId) t.counts[t.counts.length - 1] = { batchId, aggregates };
      else t.counts.push({ batchId, aggregates });
    },
    output(values, row, evicted) {
      if (keyOfGroup(values) !== selection.key) return;
      const w = groupWindow(values);
      if (!windowWanted(w)) return;
      const out = postRow(plan, filters, row);
      windowTrace(w).outputs.push({
        batchId,
        row: out.row ? (JSON.parse(rowToJson(out.row, plan.columns)) as Record<string, unknown>) : null,
        having: out.having,
        evicted,
        forced: batchInfo.drain,
      });
    },
    evicted(values) {
      if (keyOfGroup(values) !== selection.key) return;
      const w = groupWindow(values);
      if (windowWanted(w)) windowTrace(w).outcome = { kind: 'evicted', batchId };
    },
    batchEnd(batch, stateRows, maxEventTimeMs, nextWatermarkMs) {
      batchTraces.push({
        batchId: batch.batchId,
        noData: batch.noData,
        drain: batchInfo.drain,
        records: batches[batch.batchId]?.records.length ?? 0,
        lateWatermarkMs: batchInfo.lateWatermarkMs,
        watermarkMs: batch.watermarkMs,
        maxEventTimeMs,
        nextWatermarkMs,
        stateRows,
        lateRows: batch.lateRows,
        lateGroups: batch.lateGroups,
        rows: batch.rows.map((r) => rowToJson(r, plan.columns)),
      });
    },
  };

  // After --batch N, only the batch boundaries matter: every hook but batchStart is muted.
  const tracer: PlanTracer = {
    ...Object.fromEntries(Object.entries(traced).map(([name, hook]) => [name, (...args: unknown[]) => (batchId <= until || name === 'batchStart' || name === 'begin' ? (hook as (...a: unknown[]) => void)(...args) : undefined)])),
  };
  const run = runPlanReference(query, batches.map((b) => b.records), { drain: options.drain ?? false, tracer, ...(options.maxRecordChars !== undefined ? { maxRecordChars: options.maxRecordChars } : {}) });
  const finalWatermarkMs = until === Infinity ? run.finalWatermarkMs : (batchTraces.at(-1)?.nextWatermarkMs ?? 0);
  const evicting = plan.watermark !== null && aggregate.evictionKey !== null && query.outputMode !== 'complete';
  for (const t of windows.values()) {
    if (t.window !== null && evicting) {
      const passed = batchTraces.find((b) => b.watermarkMs >= t.window!.endMs);
      t.watermarkPassed = passed ? { batchId: passed.batchId, watermarkMs: passed.watermarkMs } : null;
    }
    t.outcome = outcomeOf(t, evicting, finalWatermarkMs);
  }
  const sorted = [...windows.values()].sort((a, b) => (a.window?.startMs ?? 0) - (b.window?.startMs ?? 0));
  return {
    query: query.name,
    outputMode: query.outputMode,
    keyColumns,
    key: selection.key,
    watermarkDelayMs: plan.watermark?.delayMs ?? null,
    records,
    windows: sorted,
    batches: batchTraces,
    finalWatermarkMs,
    untilBatchId: until === Infinity ? null : until,
  };
}

function outcomeOf(t: WindowTrace, evicting: boolean, finalWatermarkMs: number): WindowOutcome {
  if (t.outcome.kind === 'evicted') return t.outcome;
  const final = [...t.outputs].reverse().find((o) => o.evicted);
  if (final) {
    if (final.row) return { kind: 'emitted', batchId: final.batchId, row: final.row, forced: final.forced };
    return { kind: 'having-false', batchId: final.batchId, having: final.having! };
  }
  if (t.counted === 0) return { kind: 'never-counted' };
  return evicting ? { kind: 'open', watermarkMs: finalWatermarkMs } : { kind: 'kept' };
}

/** Group id text of the oracle (for callers that track groups across hooks). */
export const groupId = (values: readonly Value[]): string => values.map(keyOf).join('\u0000');
