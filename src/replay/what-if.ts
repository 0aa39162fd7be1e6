// What if the watermark (or the window) had been different? The same batches replayed through the oracle under each setting, measured.
import type { Expr } from '../plan/expr.js';
import type { PlanNode, QueryPlan } from '../plan/plan.js';
import { runPlanReference, type PlanTracer } from '../plan/reference.js';
import type { Row, Value, WindowValue } from '../plan/types.js';
import { evaluate } from '../plan/evaluate.js';
import { keyOf } from '../plan/values.js';
import { UsageError } from '../errors.js';
import { analyzed } from './trace.js';

/** One setting to try: a watermark delay, and optionally a window size (tumbling). */
export interface WhatIfSetting {
  readonly watermarkMs: number;
  /** Null: the query's own window. */
  readonly windowMs: number | null;
}

/** A distribution's middle and tail (nearest rank); null when nothing was emitted. */
export interface Percentiles {
  readonly p50: number;
  readonly p99: number;
}

/** What one setting gives on the run's input. */
export interface WhatIfResult {
  readonly setting: WhatIfSetting;
  readonly batches: number;
  readonly rowsEmitted: number;
  /** Input rows (per window) dropped behind the watermark. */
  readonly lateEvents: number;
  /** Distinct late (window, key) groups, summed over batches (Spark's numRowsDroppedByWatermark). */
  readonly lateGroups: number;
  /** The most state rows kept after any batch. */
  readonly peakStateRows: number;
  /** Per emitted row: the stream's max event time when it was emitted (before its batch) minus its window's end, ms. */
  readonly delayEventTimeMs: Percentiles | null;
  /** Per emitted row: its batch minus the batch of the last record counted into it. */
  readonly delayBatches: Percentiles | null;
}

/** Spark's interval text for a duration in ms, as withWatermark and window() take it. */
const interval = (ms: number): string => `${ms} milliseconds`;

/** The plan with another watermark delay and window size; every other node as it was. */
export function withSetting(query: QueryPlan, setting: WhatIfSetting): QueryPlan {
  const windowArgs = (args: readonly Expr[]): Expr[] => {
    if (setting.windowMs === null) return [...args];
    const size: Expr = { kind: 'literal', value: interval(setting.windowMs), type: 'string' };
    // A tumbling window stays tumbling; a sliding one keeps its slide (and start) when it still fits.
    return [args[0]!, size, ...args.slice(2)];
  };
  const rewriteKey = (e: Expr): Expr => {
    if (e.kind === 'alias') return { ...e, expr: rewriteKey(e.expr) };
    if (e.kind === 'call' && e.name.toLowerCase() === 'window') return { ...e, args: windowArgs(e.args) };
    return e;
  };
  const rewrite = (node: PlanNode): PlanNode => {
    if (node.kind === 'source') return node;
    const input = rewrite(node.input);
    if (node.kind === 'watermark') return { ...node, input, delay: interval(setting.watermarkMs) };
    if (node.kind === 'aggregate') return { ...node, input, groupBy: node.groupBy.map(rewriteKey) };
    return { ...node, input };
  };
  return { ...query, root: rewrite(query.root) };
}

/** Nearest-rank percentiles of `values` (sorted here). */
export function percentiles(values: number[]): Percentiles | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p: number): number => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
  return { p50: rank(50), p99: rank(99) };
}

/** Where the plan's window is among its grouping keys; a query without a watermark and a window is the user's mistake (what-if varies those). */
export function windowKeyIndex(query: QueryPlan): number {
  const analyzedPlan = analyzed(query);
  const aggregate = analyzedPlan.aggregate;
  const windowAt = aggregate ? aggregate.keys.findIndex((k) => k.kind === 'window') : -1;
  if (!analyzedPlan.watermark || windowAt < 0) throw new UsageError(`query ${query.name} has no watermark and window: what-if varies those`);
  return windowAt;
}

/** Replays `batches` under one setting and measures it. */
export function measureSetting(query: QueryPlan, batches: readonly (readonly string[])[], setting: WhatIfSetting, options: { drain?: boolean } = {}): WhatIfResult {
  const plan = withSetting(query, setting);
  const windowAt = windowKeyIndex(plan);
  let batchId = 0;
  let maxEventTimeMs: number | null = null;
  let rowsEmitted = 0;
  let lateEvents = 0;
  let lateGroups = 0;
  let peakStateRows = 0;
  const lastCounted = new Map<string, number>();
  const delayEvent: number[] = [];
  const delayBatches: number[] = [];
  const idOf = (values: readonly Value[]): string => values.map(keyOf).join('\u0000');
  let post: (row: Row) => boolean = () => true;
  const tracer: PlanTracer = {
    begin(p) {
      post = (row) => {
        let out = row;
        for (const step of p.post) {
          if (step.kind === 'project') out = step.exprs.map((e) => evaluate(e, out));
          else if (step.kind === 'filter' && evaluate(step.condition, out) !== true) return false;
        }
        return true;
      };
    },
    batchStart(b) {
      batchId = b.batchId;
    },
    counted(values) {
      lastCounted.set(idOf(values), batchId);
    },
    output(values, row, evicted) {
      const id = idOf(values);
      const counted = lastCounted.get(id);
      if (evicted) lastCounted.delete(id);
      if (!post(row)) return;
      const w = values[windowAt] as WindowValue;
      if (maxEventTimeMs !== null) delayEvent.push(maxEventTimeMs - Math.floor(w.endUs / 1000));
      if (counted !== undefined) delayBatches.push(batchId - counted);
    },
    batchEnd(batch, stateRows, batchMaxMs) {
      rowsEmitted += batch.rows.length;
      lateEvents += batch.lateRows;
      lateGroups += batch.lateGroups;
      peakStateRows = Math.max(peakStateRows, stateRows);
      if (batchMaxMs !== null && (maxEventTimeMs === null || batchMaxMs > maxEventTimeMs)) maxEventTimeMs = batchMaxMs;
    },
  };
  const run = runPlanReference(plan, batches, { drain: options.drain ?? false, tracer });
  return {
    setting,
    batches: run.batches.length,
    rowsEmitted,
    lateEvents,
    lateGroups,
    peakStateRows,
    delayEventTimeMs: percentiles(delayEvent),
    delayBatches: percentiles(delayBatches),
  };
}

/** Every watermark with every window (or the query's own window). */
/** The settings to try, in the table's order: each window (or the query's own) with each watermark. */
export function whatIfSettings(watermarksMs: readonly number[], windowsMs: readonly number[]): WhatIfSetting[] {
  const windows: Array<number | null> = windowsMs.length > 0 ? [...windowsMs] : [null];
  return windows.flatMap((windowMs) => watermarksMs.map((watermarkMs) => ({ watermarkMs, windowMs })));
}

/** Every watermark with every window, one after the other on this thread (src/replay/threads.ts runs them on worker threads). */
export function whatIf(query: QueryPlan, batches: readonly (readonly string[])[], watermarksMs: readonly number[], windowsMs: readonly number[], options: { drain?: boolean } = {}): WhatIfResult[] {
  return whatIfSettings(watermarksMs, windowsMs).map((setting) => measureSetting(query, batches, setting, options));
}

/** A duration as the flags take it: 30s, or 1500ms. */
export const seconds = (ms: number): string => (ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`);

/** The table `kindling what-if` prints. */
export function whatIfTable(results: readonly WhatIfResult[], queryWindow: string): string {
  const header = ['watermark', 'window', 'rows', 'late events', 'late groups', 'peak state', 'delay p50', 'delay p99', 'batches p50', 'batches p99'];
  const lines = results.map((r) => [
    seconds(r.setting.watermarkMs),
    r.setting.windowMs === null ? queryWindow : seconds(r.setting.windowMs),
    String(r.rowsEmitted),
    String(r.lateEvents),
    String(r.lateGroups),
    String(r.peakStateRows),
    r.delayEventTimeMs ? `${(r.delayEventTimeMs.p50 / 1000).toFixed(1)}s` : '-',
    r.delayEventTimeMs ? `${(r.delayEventTimeMs.p99 / 1000).toFixed(1)}s` : '-',
    r.delayBatches ? String(r.delayBatches.p50) : '-',
    r.delayBatches ? String(r.delayBatches.p99) : '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const row = (cells: readonly string[]): string => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [row(header), row(widths.map((w) => '-'.repeat(w))), ...lines.map(row)].join('\n') + '\n';
}

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000 };

/** `0s,10s,1m` → [0, 10000, 60000]; the flag's rule in the message when a part is not a duration. */
export function parseDurationList(raw: string, flag: string): number[] {
  return raw.split(',').map((part) => {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|min|h)$/.exec(part.trim());
    if (!m) throw new UsageError(`--${flag} must be a comma-separated list of durations such as 0s,10s,30s,60s (units ms, s, m, h); got '${part}' in '${raw}'`);
    return Math.round(Number(m[1]) * UNIT_MS[m[2]!]!);
  });
}
