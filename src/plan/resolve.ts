// The one resolver: unresolved expression data + the columns at that step → a typed Bound expression, failing early.
import type { Bound, InputColumn, ResolveOptions } from './bound.js';
import { callNode, castTo, scalarFunction, scalarFunctionNames } from './functions.js';
import { exprName, type Expr } from './expr.js';
import { PlanError, sqlTypeName, type Value, type WindowValue } from './types.js';

/** Aggregate function names: allowed only inside agg(...). */
export const AGGREGATE_NAMES: ReadonlySet<string> = new Set(['count', 'sum', 'avg', 'mean', 'min', 'max', 'first', 'approx_count_distinct', 'count_distinct']);

/**
 * The ordinal of column `name` among `input`: an exact match, else the one match ignoring case
 * (Spark's default spark.sql.caseSensitive=false). Throws naming the missing column and the available ones.
 */
export function columnOrdinal(name: string, input: readonly InputColumn[], where = ''): number {
  const exact = input.findIndex((c) => c.name === name);
  if (exact >= 0) return exact;
  const lower = name.toLowerCase();
  const matches = input.flatMap((c, i) => (c.name.toLowerCase() === lower ? [i] : []));
  if (matches.length === 1) return matches[0]!;
  const available = input.map((c) => c.name).join(', ');
  if (matches.length > 1) throw new PlanError(`${where}column "${name}" is ambiguous: it matches ${matches.map((i) => input[i]!.name).join(', ')}`);
  throw new PlanError(`${where}cannot resolve column "${name}"; available columns: ${available}`);
}

/** `window.start` / `window.end` of a window column (Spark's struct field access), or null. */
function windowField(name: string, input: readonly InputColumn[]): Bound | null {
  const dot = name.lastIndexOf('.');
  if (dot < 0 || input.some((c) => c.name === name)) return null;
  const field = name.slice(dot + 1).toLowerCase();
  const ordinal = columnOrdinal(name.slice(0, dot), input);
  const column = input[ordinal]!;
  if (column.type !== 'window' || (field !== 'start' && field !== 'end')) {
    throw new PlanError(`cannot resolve "${name}": only a window column has fields (start, end); "${column.name}" is ${sqlTypeName(column.type)}`);
  }
  const arg: Bound = { kind: 'column', ordinal, name: column.name, type: 'window' };
  return callNode(field === 'start' ? 'window.start' : 'window.end', [arg], 'timestamp', field === 'start' ? (w: WindowValue) => w.startUs : (w: WindowValue) => w.endUs);
}

/** Resolves `expr` against `input`. Aggregates and window() are refused here: the plan resolves them where they belong. */
export function resolve(expr: Expr, input: readonly InputColumn[], options: ResolveOptions): Bound {
  switch (expr.kind) {
    case 'column': {
      const field = windowField(expr.name, input);
      if (field) return field;
      const ordinal = columnOrdinal(expr.name, input);
      return { kind: 'column', ordinal, name: input[ordinal]!.name, type: input[ordinal]!.type };
    }
    case 'literal':
      return { kind: 'literal', value: expr.value as Value, type: expr.type };
    case 'alias':
      return resolve(expr.expr, input, options);
    case 'cast':
      return castTo(resolve(expr.expr, input, options), expr.to, options);
    case 'star':
      throw new PlanError('* is only allowed in count(*)');
    case 'call': {
      if (AGGREGATE_NAMES.has(expr.name.toLowerCase())) {
        throw new PlanError(`aggregate function ${exprName(expr)} is only allowed in agg(...) (or in a HAVING filter on its alias)`);
      }
      if (expr.name.toLowerCase() === 'window') throw new PlanError(`${exprName(expr)} is only allowed in groupBy(...)`);
      const fn = scalarFunction(expr.name);
      if (!fn) throw new PlanError(`unknown function "${expr.name}"; supported: ${scalarFunctionNames().filter((n) => /^[a-z_]+$/.test(n)).join(', ')}`);
      if (expr.args.length < fn.minArgs || expr.args.length > fn.maxArgs) {
        const want = fn.minArgs === fn.maxArgs ? `${fn.minArgs}` : fn.maxArgs === Infinity ? `at least ${fn.minArgs}` : `${fn.minArgs} to ${fn.maxArgs}`;
        throw new PlanError(`${expr.name} takes ${want} argument${want === '1' ? '' : 's'}; got ${expr.args.length} (${fn.signature})`);
      }
      return fn.bind(expr.args.map((a) => resolve(a, input, options)), options);
    }
  }
}
