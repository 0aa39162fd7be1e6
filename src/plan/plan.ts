// The logical plan as plain data (a closed set of node kinds), and its analysis: resolved, typed, in the shape every executor runs.
import { bindAggregate, type BoundAggregate } from './aggregate.js';
// Registers approx_count_distinct (Spark's HyperLogLog++) with bindAggregate.
import './hll-aggregate.js';
import type { Bound, InputColumn, ResolveOptions } from './bound.js';
import { parseDurationUs } from './duration.js';
import { columnsOf, exprName, type Expr } from './expr.js';
import { AGGREGATE_NAMES, columnOrdinal, resolve } from './resolve.js';
import type { Schema } from './schema.js';
import { PlanError, sqlTypeName } from './types.js';

/** Spark's output modes. */
export type OutputMode = 'append' | 'update' | 'complete';

/** One sort key of orderBy. */
export interface SortOrder {
  readonly expr: Expr;
  readonly ascending: boolean;
}

/**
 * A logical plan node. Plain data: it crosses threads and goes into a checkpoint's fingerprint
 * as it is. `source` parses each record with from_json(schema).
 */
export type PlanNode =
  /**
   * `skipBlankLines`: the records come from Spark's json file source, which reads no row from a blank
   * line; without it a blank record is parsed as from_json parses it (a row of nulls).
   */
  | { readonly kind: 'source'; readonly schema: Schema; readonly skipBlankLines?: boolean }
  | { readonly kind: 'project'; readonly input: PlanNode; readonly exprs: readonly Expr[] }
  | { readonly kind: 'filter'; readonly input: PlanNode; readonly condition: Expr }
  | { readonly kind: 'watermark'; readonly input: PlanNode; readonly column: string; readonly delay: string }
  | { readonly kind: 'dropDuplicates'; readonly input: PlanNode; readonly columns: readonly string[] | null }
  | { readonly kind: 'aggregate'; readonly input: PlanNode; readonly groupBy: readonly Expr[]; readonly aggregates: readonly Expr[] }
  | { readonly kind: 'sort'; readonly input: PlanNode; readonly orders: readonly SortOrder[] };

/** A streaming query: a plan, its output mode and its evaluation mode. */
export interface QueryPlan {
  readonly name: string;
  readonly root: PlanNode;
  readonly outputMode: OutputMode;
  /** Spark 4's ANSI mode (default true). */
  readonly ansi: boolean;
  readonly description?: string;
}

/** A row-level step, resolved against the columns before it. */
export type RowStep =
  | { readonly kind: 'project'; readonly exprs: readonly Bound[]; readonly columns: readonly InputColumn[] }
  /** `pushedBelowWatermark`: Spark's optimizer runs this filter before the watermark, so rows it drops never move the watermark. */
  | { readonly kind: 'filter'; readonly condition: Bound; readonly pushedBelowWatermark: boolean }
  | { readonly kind: 'watermark'; readonly ordinal: number; readonly delayMs: number };

/** A grouping key: a window over a timestamp column, or an expression. */
export type GroupKey =
  | { readonly kind: 'window'; readonly timeOrdinal: number; readonly timeColumn: string; readonly sizeUs: number; readonly slideUs: number; readonly startUs: number }
  | { readonly kind: 'expr'; readonly bound: Bound };

/** The aggregation of a plan, resolved. */
export interface AnalyzedAggregate {
  readonly keys: readonly GroupKey[];
  readonly aggregates: readonly BoundAggregate[];
  readonly columns: readonly InputColumn[];
  /** Index in `keys` of the window over the watermarked column: the key that ends a group's life. Null: groups live forever. */
  readonly evictionKey: number | null;
}

/** A plan in the shape executors run: parse → pre steps → [dropDuplicates → mid steps] → [aggregate → post steps] → [sort]. */
export interface AnalyzedPlan {
  readonly schema: Schema;
  /** The source's skipBlankLines: blank records are neither rows nor input. */
  readonly skipBlankLines: boolean;
  readonly pre: readonly RowStep[];
  readonly watermark: { readonly column: string; readonly delayMs: number } | null;
  /**
   * `eventTimeOrdinal`: the watermarked column when it is one of the keys. Only then does Spark
   * 4.0.5 drop late rows (event time <= W(N-1)) and evict seen keys (event time <= W(N)); without
   * it, every row is checked against seen keys kept forever (seen in a real run, see docs/queries.md).
   */
  readonly dedup: { readonly keyOrdinals: readonly number[]; readonly eventTimeOrdinal: number | null } | null;
  readonly mid: readonly RowStep[];
  readonly aggregate: AnalyzedAggregate | null;
  readonly post: readonly RowStep[];
  readonly sort: ReadonlyArray<{ readonly bound: Bound; readonly ascending: boolean }> | null;
  readonly columns: readonly InputColumn[];
}

/** The nodes from the source up to `root`, in order. */
export function chain(root: PlanNode): PlanNode[] {
  const nodes: PlanNode[] = [];
  for (let n: PlanNode = root; ; n = n.input) {
    nodes.unshift(n);
    if (n.kind === 'source') return nodes;
  }
}

const outputColumnOf = (e: Expr, b: Bound): InputColumn => ({ name: exprName(e), type: b.type });

/**
 * Resolves and shapes a plan. Throws PlanError naming the step and the rule: a missing column, a
 * watermark on a non-timestamp column, a second aggregation or dropDuplicates, window() outside
 * groupBy, … Streaming output-mode rules are checked separately (checkStreaming).
 */
export function analyzePlan(root: PlanNode, options: ResolveOptions): AnalyzedPlan {
  const nodes = chain(root);
  const source = nodes[0] as Extract<PlanNode, { kind: 'source' }>;
  let columns: InputColumn[] = source.schema.fields.map((f) => ({ name: f.name, type: f.type }));
  const pre: RowStep[] = [];
  const mid: RowStep[] = [];
  const post: RowStep[] = [];
  let steps = pre;
  let watermark: AnalyzedPlan['watermark'] = null;
  let dedup: AnalyzedPlan['dedup'] = null;
  let aggregate: AnalyzedAggregate | null = null;
  let sort: AnalyzedPlan['sort'] = null;

  for (const node of nodes.slice(1)) {
    const where = `${node.kind}: `;
    if (sort !== null) throw new PlanError(`${where}nothing may follow orderBy (sort last)`);
    try {
      switch (node.kind) {
        case 'source':
          throw new PlanError('a plan has one source');
        case 'project': {
          const exprs = node.exprs.map((e) => resolve(e, columns, options));
          columns = node.exprs.map((e, i) => outputColumnOf(e, exprs[i]!));
          const seen = new Set<string>();
          for (const c of columns) {
            if (seen.has(c.name)) throw new PlanError(`column "${c.name}" appears twice; alias one of them`);
            seen.add(c.name);
          }
          steps.push({ kind: 'project', exprs, columns });
          break;
        }
        case 'filter': {
          const condition = resolve(node.condition, columns, options);
          if (condition.type !== 'boolean' && condition.type !== 'null') {
            throw new PlanError(`the condition ${exprName(node.condition)} is ${sqlTypeName(condition.type)}, not BOOLEAN`);
          }
          steps.push({ kind: 'filter', condition, pushedBelowWatermark: watermark !== null && steps === pre && pushable(node.condition, watermark.column, pre) });
          break;
        }
        case 'watermark': {
          if (aggregate || dedup) throw new PlanError('withWatermark must come before dropDuplicates and groupBy');
          if (watermark) throw new PlanError('a plan has one withWatermark (Kindling keeps one global watermark)');
          const ordinal = columnOrdinal(node.column, columns);
          const type = columns[ordinal]!.type;
          if (type !== 'timestamp') {
            throw new PlanError(`event time must be a TIMESTAMP column, but "${node.column}" is ${sqlTypeName(type)}; derive one first, e.g. withColumn("event_time", (col("${node.column}") / 1000).cast("timestamp"))`);
          }
          const delayUs = parseDurationUs(node.delay, 'withWatermark delay');
          if (delayUs < 0) throw new PlanError('withWatermark delay must not be negative');
          watermark = { column: columns[ordinal]!.name, delayMs: Math.floor(delayUs / 1000) };
          pre.push({ kind: 'watermark', ordinal, delayMs: watermark.delayMs });
          break;
        }
        case 'dropDuplicates': {
          if (aggregate) throw new PlanError('dropDuplicates after an aggregation is not supported');
          if (dedup) throw new PlanError('a plan has at most one dropDuplicates');
          const keyOrdinals = node.columns === null ? columns.map((_, i) => i) : node.columns.map((c) => columnOrdinal(c, columns));
          const eventTime = watermark ? columns.findIndex((c) => c.name === watermark!.column) : -1;
          dedup = { keyOrdinals, eventTimeOrdinal: eventTime >= 0 && keyOrdinals.includes(eventTime) ? eventTime : null };
          steps = mid;
          break;
        }
        case 'aggregate': {
          if (aggregate) throw new PlanError('multiple streaming aggregations are not supported (Spark refuses chained aggregations); aggregate once');
          const keys: GroupKey[] = [];
          const keyColumns: InputColumn[] = [];
          let evictionKey: number | null = null;
          for (const e of node.groupBy) {
            const inner = e.kind === 'alias' ? e.expr : e;
            if (inner.kind === 'call' && inner.name.toLowerCase() === 'window') {
              if (keys.some((k) => k.kind === 'window')) throw new PlanError('groupBy takes at most one window(...) (Spark refuses several: their product of rows)');
              const key = windowKey(inner.args, columns, options);
              if (watermark && key.timeColumn === watermark.column && evictionKey === null) evictionKey = keys.length;
              keys.push(key);
              keyColumns.push({ name: e.kind === 'alias' ? e.name : 'window', type: 'window' });
            } else {
              if (AGGREGATE_NAMES.has(inner.kind === 'call' ? inner.name.toLowerCase() : '')) throw new PlanError(`groupBy cannot hold an aggregate (${exprName(e)})`);
              const bound = resolve(e, columns, options);
              keys.push({ kind: 'expr', bound });
              keyColumns.push(outputColumnOf(e, bound));
            }
          }
          if (node.aggregates.length === 0) throw new PlanError('agg needs at least one aggregate, e.g. count("*").alias("n")');
          const aggregates = node.aggregates.map((e) => aggregateOf(e, columns, options));
          const aggColumns = node.aggregates.map((e, i) => ({ name: exprName(e), type: aggregates[i]!.fn.resultType }));
          aggregate = { keys, aggregates, columns: [...keyColumns, ...aggColumns], evictionKey };
          columns = [...aggregate.columns];
          steps = post;
          break;
        }
        case 'sort': {
          if (!aggregate) throw new PlanError('orderBy needs an aggregation before it (Spark sorts streaming results only in complete mode)');
          sort = node.orders.map((o) => ({ bound: resolve(o.expr, columns, options), ascending: o.ascending }));
          break;
        }
      }
    } catch (err) {
      if (err instanceof PlanError && !err.message.startsWith(where)) throw new PlanError(where + err.message, { cause: err });
      throw err;
    }
  }
  return { schema: source.schema, skipBlankLines: source.skipBlankLines === true, pre, watermark, dedup, mid, aggregate, post, sort, columns };
}

/**
 * True when Spark's optimizer pushes this filter below withWatermark: it does not use the event-time
 * column, and every step since the watermark is a filter or a project that passes the columns
 * the filter uses through unchanged.
 */
function pushable(condition: Expr, eventTime: string, pre: readonly RowStep[]): boolean {
  const used = columnsOf(condition);
  if ([...used].some((c) => c.toLowerCase() === eventTime.toLowerCase() || c.includes('.'))) return false;
  for (let i = pre.length - 1; i >= 0; i--) {
    const step = pre[i]!;
    if (step.kind === 'watermark') return true;
    if (step.kind === 'project') {
      for (const name of used) {
        const at = step.columns.findIndex((c) => c.name === name);
        const e = step.exprs[at];
        if (!e || e.kind !== 'column' || e.name !== name) return false;
      }
    }
  }
  return false;
}

function literalString(e: Expr | undefined, what: string): string {
  if (!e || e.kind !== 'literal' || typeof e.value !== 'string') throw new PlanError(`window: ${what} must be a string such as "10 seconds"`);
  return e.value;
}

function windowKey(args: readonly Expr[], columns: readonly InputColumn[], options: ResolveOptions): GroupKey & { kind: 'window' } {
  if (args.length < 2 || args.length > 4) throw new PlanError('window takes (timeColumn, windowDuration[, slideDuration[, startTime]])');
  const time = resolve(args[0]!, columns, options);
  if (time.kind !== 'column') throw new PlanError(`window: the time column must be a column; derive ${exprName(args[0]!)} with withColumn first`);
  if (time.type !== 'timestamp') throw new PlanError(`window: "${time.name}" is ${sqlTypeName(time.type)}; window() needs a TIMESTAMP column`);
  const sizeUs = parseDurationUs(literalString(args[1], 'the window duration'), 'window duration');
  const slideUs = args[2] ? parseDurationUs(literalString(args[2], 'the slide duration'), 'slide duration') : sizeUs;
  const startUs = args[3] ? parseDurationUs(literalString(args[3], 'the start time'), 'window start time') : 0;
  if (sizeUs <= 0) throw new PlanError('window: the window duration must be positive');
  if (slideUs <= 0 || slideUs > sizeUs) throw new PlanError('window: the slide duration must be positive and at most the window duration');
  if (startUs < 0 || startUs >= slideUs) throw new PlanError('window: the start time must be at least 0 and less than the slide duration');
  return { kind: 'window', timeOrdinal: time.ordinal, timeColumn: time.name, sizeUs, slideUs, startUs };
}

function aggregateOf(e: Expr, columns: readonly InputColumn[], options: ResolveOptions): BoundAggregate {
  const inner = e.kind === 'alias' ? e.expr : e;
  if (inner.kind !== 'call' || !AGGREGATE_NAMES.has(inner.name.toLowerCase())) {
    throw new PlanError(`agg takes aggregate functions (count, sum, avg, min, max, first, approx_count_distinct); got ${exprName(e)}`);
  }
  const star = inner.args.length === 1 && inner.args[0]!.kind === 'star';
  const args = star ? [] : inner.args.map((a) => resolve(a, columns, options));
  return bindAggregate(inner.name, args, star, options);
}

/**
 * Spark's UnsupportedOperationChecker for the rules a streaming query meets, with what to change.
 * Returns the analyzed plan when the query may run in `mode`.
 */
export function checkStreaming(plan: AnalyzedPlan, mode: OutputMode): AnalyzedPlan {
  if (plan.sort && mode !== 'complete') {
    throw new PlanError(`orderBy is not supported on a streaming DataFrame unless it sorts an aggregation in complete output mode; this query is in ${mode} mode (drop the orderBy, or use complete mode)`);
  }
  if (mode === 'complete' && !plan.aggregate) {
    throw new PlanError('complete output mode needs a streaming aggregation (groupBy(...).agg(...)); use append or update mode');
  }
  if (mode === 'append' && plan.aggregate) {
    if (!plan.watermark) {
      throw new PlanError('append output mode needs a watermark on a windowed aggregation: add withWatermark("event_time", "30 seconds") before groupBy(window(col("event_time"), …)), or use update or complete mode');
    }
    if (plan.aggregate.evictionKey === null) {
      throw new PlanError(`append output mode needs the aggregation grouped by a window over the watermarked column "${plan.watermark.column}": group by window(col("${plan.watermark.column}"), "…"), or use update or complete mode`);
    }
  }
  return plan;
}

export const OUTPUT_MODES: readonly OutputMode[] = ['append', 'update', 'complete'];

/**
 * Checks that `value` (e.g. a module's default export) is a QueryPlan that may run: its shape,
 * then the analysis and Spark's streaming rules. Errors name `origin` and what to change.
 */
export function asQueryPlan(value: unknown, origin: string): QueryPlan {
  const fail = (rule: string, cause?: unknown): never => {
    throw new PlanError(`${origin}: ${rule}`, cause === undefined ? {} : { cause });
  };
  if (typeof value !== 'object' || value === null) return fail('expected a query plan (build one with readStream(...)...toQuery({ name, outputMode }))');
  const q = value as Record<string, unknown>;
  if (typeof q['name'] !== 'string' || q['name'] === '') fail('"name" must be a non-empty string');
  if (!OUTPUT_MODES.includes(q['outputMode'] as OutputMode)) fail('"outputMode" must be append, update or complete');
  if (typeof q['ansi'] !== 'boolean') fail('"ansi" must be true or false');
  const root = q['root'] as { kind?: unknown } | undefined;
  if (typeof root !== 'object' || root === null || typeof root.kind !== 'string') fail('"root" must be a plan node; use toQuery() on a DataFrame');
  try {
    checkStreaming(analyzePlan(root as PlanNode, { ansi: q['ansi'] as boolean }), q['outputMode'] as OutputMode);
  } catch (err) {
    if (err instanceof PlanError) fail(err.message, err);
    throw err;
  }
  return value as QueryPlan;
}

/**
 * Everything that shapes a query's state and results, as one string: a checkpoint written by one
 * plan is never restored into another. Plans are plain data, so this is their JSON.
 */
export function planFingerprint(query: QueryPlan): string {
  return JSON.stringify({ root: query.root, outputMode: query.outputMode, ansi: query.ansi });
}
