// Expressions as plain data (serialisable, so a plan can cross threads), with functions named as Spark names them.
import type { FieldType } from './types.js';

/**
 * An unresolved expression, shaped like Spark Connect's: a column by name, a literal, a function
 * call by Spark's function name (`lower`, `==`, `and`, `in`, `when`, `count`, `window`, …), a cast,
 * an alias, or `*` (only inside `count(*)`). The resolver checks it against a schema.
 */
export type Expr =
  | { readonly kind: 'column'; readonly name: string }
  | { readonly kind: 'literal'; readonly value: string | number | boolean | null; readonly type: FieldType | 'null' }
  | { readonly kind: 'call'; readonly name: string; readonly args: readonly Expr[] }
  | { readonly kind: 'cast'; readonly expr: Expr; readonly to: FieldType }
  | { readonly kind: 'alias'; readonly expr: Expr; readonly name: string }
  | { readonly kind: 'star' };

/** A literal's type as PySpark infers it from a JS value: integral numbers are INT (BIGINT beyond 32 bits), others DOUBLE. */
export function literal(value: string | number | boolean | null, type?: FieldType | 'null'): Expr {
  if (type !== undefined) return { kind: 'literal', value, type };
  if (value === null) return { kind: 'literal', value, type: 'null' };
  if (typeof value === 'string') return { kind: 'literal', value, type: 'string' };
  if (typeof value === 'boolean') return { kind: 'literal', value, type: 'boolean' };
  if (Number.isInteger(value) && !Object.is(value, -0)) {
    return { kind: 'literal', value, type: value >= -2147483648 && value <= 2147483647 ? 'int' : 'long' };
  }
  return { kind: 'literal', value, type: 'double' };
}

/** A call of Spark's function `name`. */
export const call = (name: string, ...args: Expr[]): Expr => ({ kind: 'call', name, args });

/** The output name Spark gives an expression without an alias (`lower(content)`, `(crash_count > 2)`, `count(1)`). */
export function exprName(e: Expr): string {
  switch (e.kind) {
    case 'column':
      return e.name;
    case 'alias':
      return e.name;
    case 'star':
      return '*';
    case 'literal':
      return e.value === null ? 'NULL' : typeof e.value === 'string' ? e.value : String(e.value);
    case 'cast':
      return `CAST(${exprName(e.expr)} AS ${e.to === 'long' ? 'BIGINT' : e.to.toUpperCase()})`;
    case 'call':
      return callName(e.name, e.args);
  }
}

const INFIX = new Set(['+', '-', '*', '/', '%', '==', '!=', '<', '<=', '>', '>=', '<=>', 'and', 'or', 'div', 'like']);

function callName(name: string, args: readonly Expr[]): string {
  const a = args.map((x) => (x.kind === 'literal' && typeof x.value === 'string' ? `'${x.value}'` : exprName(x)));
  if (INFIX.has(name) && args.length === 2) {
    const op = name === '==' ? '=' : name === 'and' ? 'AND' : name === 'or' ? 'OR' : name === 'like' ? 'LIKE' : name;
    return `(${a[0]} ${op} ${a[1]})`;
  }
  switch (name) {
    case 'not': return `(NOT ${a[0]})`;
    case 'negative': return `(- ${a[0]})`;
    case 'isnull': return `(${a[0]} IS NULL)`;
    case 'isnotnull': return `(${a[0]} IS NOT NULL)`;
    case 'in': return `(${a[0]} IN (${a.slice(1).join(', ')}))`;
    case 'when': {
      let text = 'CASE';
      for (let i = 0; i + 1 < a.length; i += 2) text += ` WHEN ${a[i]} THEN ${a[i + 1]}`;
      if (a.length % 2 === 1) text += ` ELSE ${a[a.length - 1]}`;
      return `${text} END`;
    }
    case 'count':
      return args[0]?.kind === 'star' ? 'count(1)' : `count(${a.join(', ')})`;
    default:
      return `${name}(${a.join(', ')})`;
  }
}

/** Every column name `e` refers to. */
export function columnsOf(e: Expr, out: Set<string> = new Set()): Set<string> {
  switch (e.kind) {
    case 'column': out.add(e.name); break;
    case 'call': for (const a of e.args) columnsOf(a, out); break;
    case 'cast': case 'alias': columnsOf(e.expr, out); break;
    default: break;
  }
  return out;
}
