// A plan's row steps named for people: each filter step paired with the expression the user wrote, and why a row failed it.
import type { InputColumn } from '../plan/bound.js';
import { evaluate } from '../plan/evaluate.js';
import { columnsOf, exprName, type Expr } from '../plan/expr.js';
import { chain, type AnalyzedPlan, type QueryPlan, type RowStep } from '../plan/plan.js';
import type { Bound } from '../plan/bound.js';
import type { Row, Value } from '../plan/types.js';
import { plainValue, type PlainValue } from './values.js';

/** A filter step as written: its expression, and the columns of the row it sees. */
export interface NamedFilter {
  readonly expr: Expr;
  readonly columns: readonly InputColumn[];
}

/** Why a row failed a filter: the first conjunct (left to right) that was not true, and the values it used. */
export interface FilterFailure {
  /** Spark's text of the conjunct, e.g. `(severity IN (High, Critical))`. */
  readonly predicate: string;
  /** False, or null (SQL's unknown: a column it used was null). */
  readonly result: false | null;
  /** The columns the conjunct used, with the row's values. */
  readonly values: Readonly<Record<string, PlainValue>>;
  /** Columns it used that were null. */
  readonly nullFields: readonly string[];
  /** Which conjunct failed (0: the first; a later one means the row passed the ones before it: a near miss). */
  readonly conjunct: number;
}

/**
 * Pairs every filter step of the analyzed plan with its node in the logical plan. analyzePlan makes
 * one step per project, filter and watermark node, in order, into pre (before dropDuplicates or the
 * aggregate), mid (after dropDuplicates) and post (after the aggregate); this walks the same order.
 */
export function nameFilters(query: QueryPlan, plan: AnalyzedPlan): Map<RowStep, NamedFilter> {
  const named = new Map<RowStep, NamedFilter>();
  let steps: readonly RowStep[] = plan.pre;
  let at = 0;
  let columns: readonly InputColumn[] = plan.schema.fields.map((f) => ({ name: f.name, type: f.type }));
  for (const node of chain(query.root).slice(1)) {
    if (node.kind === 'dropDuplicates') {
      steps = plan.mid;
      at = 0;
    } else if (node.kind === 'aggregate') {
      steps = plan.post;
      at = 0;
      columns = plan.aggregate!.columns;
    } else if (node.kind === 'project' || node.kind === 'filter' || node.kind === 'watermark') {
      const step = steps[at++]!;
      if (node.kind === 'filter') named.set(step, { expr: node.condition, columns });
      if (step.kind === 'project') columns = step.columns;
    }
  }
  return named;
}

/** The conjuncts of an AND chain, as (written, resolved) pairs. */
function conjuncts(expr: Expr, bound: Bound): Array<[Expr, Bound]> {
  if (expr.kind === 'call' && expr.name.toLowerCase() === 'and' && bound.kind === 'and' && expr.args.length === 2) {
    return [...conjuncts(expr.args[0]!, bound.args[0]), ...conjuncts(expr.args[1]!, bound.args[1])];
  }
  return [[expr, bound]];
}

/** Why `row` failed `step` (a filter); null when it did not fail. */
export function explainFilter(step: RowStep & { kind: 'filter' }, named: NamedFilter, row: Row): FilterFailure | null {
  for (const [conjunct, [expr, bound]] of conjuncts(named.expr, step.condition).entries()) {
    const result = evaluate(bound, row);
    if (result === true) continue;
    const values: Record<string, PlainValue> = {};
    const nullFields: string[] = [];
    for (const name of columnsOf(expr)) {
      const ordinal = named.columns.findIndex((c) => c.name.toLowerCase() === name.toLowerCase());
      if (ordinal < 0) continue;
      const v: Value = row[ordinal] ?? null;
      values[named.columns[ordinal]!.name] = plainValue(v, named.columns[ordinal]!.type);
      if (v === null) nullFields.push(named.columns[ordinal]!.name);
    }
    return { predicate: exprName(expr), result: result === null ? null : false, values, nullFields, conjunct };
  }
  return null;
}

/** The row the aggregation would see for `parsed` if no filter dropped it: projects only (a filtered record's key and window). */
export function shadowRow(plan: AnalyzedPlan, parsed: Row): { row: Row; eventTimeUs: Value } | null {
  let row = parsed;
  let eventTimeUs: Value = null;
  try {
    for (const step of [...plan.pre, ...plan.mid]) {
      if (step.kind === 'project') row = step.exprs.map((e) => evaluate(e, row));
      else if (step.kind === 'watermark') eventTimeUs = row[step.ordinal] ?? null;
    }
  } catch {
    // An ANSI failure (a cast that cannot convert) on a record a filter would have dropped first: no key to show.
    return null;
  }
  return { row, eventTimeUs };
}
