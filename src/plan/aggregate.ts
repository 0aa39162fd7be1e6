// Aggregate functions as init/update/merge/evaluate over a serialisable partial state, so stage 1 aggregates and stage 2 merges.
import type { Bound, ResolveOptions } from './bound.js';
import { castTo } from './functions.js';
import { PlanError, QueryRuntimeError, isNumeric, sqlTypeName, type DataType, type Value } from './types.js';
import { compareValues } from './values.js';

/**
 * One aggregate over one group. States are plain data (numbers, strings, arrays, null, typed
 * arrays) so they cross threads and go into snapshots as they are. `update` and `merge` may
 * mutate and return their first argument. merge(a, b) combines a's earlier rows with b's later
 * rows: order matters only for `first`.
 */
export interface AggregateFunction<S = unknown> {
  /** Spark's name, e.g. `count`. */
  readonly name: string;
  readonly resultType: DataType;
  /** The state of a group that has seen no rows. */
  init(): S;
  /** Adds one row's input value (for count(*), a non-null marker). */
  update(state: S, value: Value): S;
  merge(earlier: S, later: S): S;
  evaluate(state: S): Value;
}

/** An aggregate bound to its input: the expression feeding `update`, and the function. */
export interface BoundAggregate {
  readonly name: string;
  /** Input of update(); null for count(*) (a constant non-null). */
  readonly input: Bound | null;
  readonly fn: AggregateFunction;
}

const LONG_LIMIT = 9223372036854775808;

function count(): AggregateFunction<number> {
  return {
    name: 'count', resultType: 'long',
    init: () => 0,
    update: (s, v) => (v === null ? s : s + 1),
    merge: (a, b) => a + b,
    evaluate: (s) => s,
  };
}

/**
 * An exact running sum of doubles (Shewchuk's non-overlapping partials, as Python's math.fsum):
 * the result is the correctly rounded sum whatever the order and grouping of the additions, so a
 * sum or average never depends on how a batch was split into tasks. Non-finite inputs are summed
 * apart. State: [partials, nonFinite, count of values].
 */
type ExactSum = [number[], number, number];

function addExact(s: ExactSum, value: number): ExactSum {
  s[2]++;
  return addPartial(s, value);
}

function addPartial(s: ExactSum, value: number): ExactSum {
  if (!Number.isFinite(value)) {
    s[1] += value;
    return s;
  }
  const partials = s[0];
  let x = value;
  let i = 0;
  for (let j = 0; j < partials.length; j++) {
    let y = partials[j]!;
    if (Math.abs(x) < Math.abs(y)) [x, y] = [y, x];
    const hi = x + y;
    const lo = y - (hi - x);
    if (lo !== 0) partials[i++] = lo;
    x = hi;
  }
  partials.length = i;
  partials.push(x);
  return s;
}

function mergeExact(a: ExactSum, b: ExactSum): ExactSum {
  for (const x of b[0]) addPartial(a, x);
  a[1] += b[1];
  a[2] += b[2];
  return a;
}

function exactValue(s: ExactSum): number {
  if (s[1] !== 0 || Number.isNaN(s[1])) return s[1];
  const p = s[0];
  let n = p.length;
  if (n === 0) return 0;
  let hi = p[--n]!;
  let lo = 0;
  while (n > 0) {
    const x = hi;
    const y = p[--n]!;
    hi = x + y;
    lo = y - (hi - x);
    if (lo !== 0) break;
  }
  // Round half to even across the remaining partials, as fsum does.
  if (n > 0 && ((lo < 0 && p[n - 1]! < 0) || (lo > 0 && p[n - 1]! > 0))) {
    const y = lo * 2;
    const x = hi + y;
    if (y === x - hi) hi = x;
  }
  return hi + 0;
}

function sumLong(ansi: boolean): AggregateFunction<number | null> {
  const check = (r: number): number => {
    if (!(r > -LONG_LIMIT && r < LONG_LIMIT) && ansi) throw new QueryRuntimeError('[ARITHMETIC_OVERFLOW] long overflow in sum (Spark 4 ANSI mode)');
    return r;
  };
  return {
    name: 'sum', resultType: 'long',
    init: () => null,
    update: (s, v) => (v === null ? s : s === null ? (v as number) : check(s + (v as number))),
    merge: (a, b) => (a === null ? b : b === null ? a : check(a + b)),
    evaluate: (s) => s,
  };
}

/** sum of doubles, exact then rounded once; null for a group without a non-null value. */
function sumDouble(): AggregateFunction<ExactSum> {
  return {
    name: 'sum', resultType: 'double',
    init: () => [[], 0, 0],
    update: (s, v) => (v === null ? s : addExact(s, v as number)),
    merge: mergeExact,
    evaluate: (s) => (s[2] === 0 ? null : exactValue(s)),
  };
}

/** avg: the exact sum over the count, as DOUBLE. */
function avg(): AggregateFunction<ExactSum> {
  return { ...sumDouble(), name: 'avg', evaluate: (s) => (s[2] === 0 ? null : exactValue(s) / s[2]) };
}

function extreme(name: 'min' | 'max', type: DataType): AggregateFunction<Value> {
  const better = name === 'min' ? (a: Value, b: Value) => compareValues(a, b) < 0 : (a: Value, b: Value) => compareValues(a, b) > 0;
  const pick = (a: Value, b: Value): Value => (a === null ? b : b === null ? a : better(b, a) ? b : a);
  return { name, resultType: type, init: () => null, update: pick, merge: pick, evaluate: (s) => s };
}

/**
 * first(col): the first value the group ever saw, nulls included (ignorenulls=false), kept across
 * batches. State: [seen, value].
 */
function first(type: DataType, ignoreNulls: boolean): AggregateFunction<[boolean, Value]> {
  return {
    name: 'first', resultType: type,
    init: () => [false, null],
    update: (s, v) => (s[0] || (ignoreNulls && v === null) ? s : [true, v]),
    merge: (a, b) => (a[0] ? a : b),
    evaluate: (s) => s[1],
  };
}

/** The approx_count_distinct implementation, once src/plan/hll.ts provides it. */
export type ApproxCountDistinctFactory = (inputType: DataType, relativeSD: number) => AggregateFunction;
let approxCountDistinct: ApproxCountDistinctFactory | null = null;

/** Registers Spark's HyperLogLog++ approx_count_distinct (called by src/plan/hll.ts). */
export function registerApproxCountDistinct(factory: ApproxCountDistinctFactory): void {
  approxCountDistinct = factory;
}

function literalArg(name: string, b: Bound | undefined, what: string): Value {
  if (b === undefined) return null;
  if (b.kind !== 'literal') throw new PlanError(`${name}: ${what} must be a literal`);
  return b.value;
}

/**
 * Binds aggregate `name` to its resolved arguments (`count(*)` has none). Throws PlanError for an
 * unknown aggregate or a type it does not take.
 */
export function bindAggregate(name: string, args: readonly Bound[], star: boolean, options: ResolveOptions): BoundAggregate {
  const n = name.toLowerCase();
  const input = args[0] ?? null;
  const needNumber = (): Bound => {
    if (!input || (!isNumeric(input.type) && input.type !== 'null')) {
      throw new PlanError(`${n} needs a numeric column (INT, BIGINT or DOUBLE); got ${input ? sqlTypeName(input.type) : 'nothing'}`);
    }
    return input;
  };
  switch (n) {
    case 'count':
      if (star) return { name: n, input: null, fn: count() };
      if (args.length !== 1) throw new PlanError(`count takes one column or *; got ${args.length} arguments`);
      return { name: n, input, fn: count() };
    case 'sum': {
      const i = needNumber();
      const type = i.type === 'double' ? 'double' : 'long';
      return { name: n, input: castTo(i, type, options), fn: type === 'long' ? sumLong(options.ansi) : sumDouble() };
    }
    case 'avg':
    case 'mean':
      return { name: 'avg', input: castTo(needNumber(), 'double', options), fn: avg() };
    case 'min':
    case 'max':
      if (!input || input.type === 'window') throw new PlanError(`${n} needs a column of one of the six types`);
      return { name: n, input, fn: extreme(n, input.type) };
    case 'first':
      if (!input) throw new PlanError('first needs a column');
      return { name: n, input, fn: first(input.type, literalArg('first', args[1], 'ignorenulls') === true) };
    case 'approx_count_distinct': {
      if (!input) throw new PlanError('approx_count_distinct needs a column');
      const rsd = literalArg('approx_count_distinct', args[1], 'rsd') ?? 0.05;
      if (typeof rsd !== 'number' || !(rsd > 0)) throw new PlanError(`approx_count_distinct: rsd must be a positive number; got ${String(rsd)}`);
      if (!approxCountDistinct) throw new PlanError('approx_count_distinct is not registered: import src/plan/hll-aggregate.js (plan.ts does) before binding it');
      return { name: n, input, fn: approxCountDistinct(input.type, rsd) };
    }
    case 'count_distinct':
      throw new PlanError('count_distinct (an exact distinct count) is not supported on streaming DataFrames, as in Spark; use approx_count_distinct');
    default:
      throw new PlanError(`unknown aggregate function "${name}"; supported: count, sum, avg, min, max, first, approx_count_distinct`);
  }
}
