// The scalar function registry, keyed by Spark's function name: type rule and implementation in one entry each.
import type { Bound, Impl, ResolveOptions } from './bound.js';
import { castFunction } from './cast.js';
import { compilePattern } from './timestamp.js';
import { PlanError, QueryRuntimeError, isNumeric, sqlTypeName, type DataType, type FieldType, type Value } from './types.js';
import { charLength, compareValues, intResult, longResult, substringSql, valuesEqual } from './values.js';

/** One scalar function: Spark's name, how many arguments, and how it binds to argument types. */
export interface ScalarFunction {
  readonly name: string;
  readonly minArgs: number;
  readonly maxArgs: number;
  /** A signature for messages and docs, e.g. `lower(str STRING) → STRING`. */
  readonly signature: string;
  bind(args: readonly Bound[], options: ResolveOptions): Bound;
}

/** A call node. */
export const callNode = (name: string, args: readonly Bound[], type: DataType, fn: Impl, nullSafe = false): Bound => ({ kind: 'call', name, args, type, fn, nullSafe });

/** `b` cast to `to` (no node when it already has that type). */
export function castTo(b: Bound, to: FieldType, options: ResolveOptions): Bound {
  if (b.type === to) return b;
  if (b.kind === 'literal' && b.value === null) return { kind: 'literal', value: null, type: to };
  return callNode('cast', [b], to, castFunction(b.type, to, options.ansi) as Impl);
}

function argError(fn: string, i: number, want: string, got: Bound): never {
  throw new PlanError(`${fn}: argument ${i + 1} must be ${want}; got ${sqlTypeName(got.type)}`);
}

/** Spark's implicit cast for string parameters: numbers, booleans and timestamps become their string form. */
function asString(fn: string, b: Bound, i: number, options: ResolveOptions): Bound {
  if (b.type === 'string' || b.type === 'null') return b.type === 'null' ? castTo(b, 'string', options) : b;
  if (b.type === 'window') argError(fn, i, 'STRING', b);
  return castTo(b, 'string', options);
}

function asIntegral(fn: string, b: Bound, i: number, options: ResolveOptions): Bound {
  if (b.type === 'int' || b.type === 'null') return castTo(b, 'int', options);
  if (b.type === 'long') return castTo(b, 'int', options);
  return argError(fn, i, 'INT', b);
}

/** The type two operands are compared or combined in (Spark's type widening), or null when they do not mix. */
export function commonType(a: DataType, b: DataType): DataType | null {
  if (a === b) return a;
  if (a === 'null') return b;
  if (b === 'null') return a;
  if (isNumeric(a) && isNumeric(b)) return a === 'double' || b === 'double' ? 'double' : a === 'long' || b === 'long' ? 'long' : 'int';
  if ((a === 'timestamp' && b === 'string') || (a === 'string' && b === 'timestamp')) return 'timestamp';
  return null;
}

function unify(fn: string, args: readonly Bound[], options: ResolveOptions): { type: DataType; args: Bound[] } {
  let type: DataType = 'null';
  for (const a of args) {
    const next = commonType(type, a.type);
    if (next === null) {
      throw new PlanError(`${fn}: cannot combine ${sqlTypeName(type)} with ${sqlTypeName(a.type)}; cast one side explicitly (e.g. CAST(x AS DOUBLE))`);
    }
    type = next;
  }
  return { type, args: args.map((a) => (type === 'null' || type === 'window' ? a : castTo(a, type as FieldType, options))) };
}

const registry = new Map<string, ScalarFunction>();

function define(name: string | string[], minArgs: number, maxArgs: number, signature: string, bind: ScalarFunction['bind']): void {
  for (const n of Array.isArray(name) ? name : [name]) registry.set(n, { name: n, minArgs, maxArgs, signature, bind });
}

/** The function Spark calls `name` (case-insensitive), or undefined. */
export function scalarFunction(name: string): ScalarFunction | undefined {
  return registry.get(name.toLowerCase()) ?? registry.get(name);
}

/** Every registered scalar function name, sorted (for messages and docs). */
export function scalarFunctionNames(): string[] {
  return [...registry.keys()].sort();
}

// ---- arithmetic -------------------------------------------------------------------------------

function divideByZero(): never {
  throw new QueryRuntimeError('[DIVIDE_BY_ZERO] Division by zero (Spark 4 ANSI mode fails the query; use ansi: false for null)');
}

type Arith = { int: (a: number, b: number) => number; long: (a: number, b: number) => bigint; op: (a: number, b: number) => number };
const ARITH: Record<'+' | '-' | '*', Arith> = {
  '+': { op: (a, b) => a + b, int: (a, b) => (a + b) | 0, long: (a, b) => BigInt(a) + BigInt(b) },
  '-': { op: (a, b) => a - b, int: (a, b) => (a - b) | 0, long: (a, b) => BigInt(a) - BigInt(b) },
  '*': { op: (a, b) => a * b, int: (a, b) => Math.imul(a, b), long: (a, b) => BigInt(a) * BigInt(b) },
};

for (const name of ['+', '-', '*'] as const) {
  define(name, 2, 2, `a ${name} b (numbers) → the wider type`, (args, options) => {
    const { type, args: coerced } = numericArgs(name, args, options);
    const a = ARITH[name];
    const ansi = options.ansi;
    const fn: Impl =
      type === 'int' ? (x: number, y: number) => intResult(a.op(x, y), ansi, () => a.int(x, y))
      : type === 'long' ? (x: number, y: number) => longResult(a.op(x, y), ansi, () => a.long(x, y))
      : (x: number, y: number) => a.op(x, y);
    return callNode(name, coerced, type, fn);
  });
}

function numericArgs(fn: string, args: readonly Bound[], options: ResolveOptions): { type: DataType; args: Bound[] } {
  args.forEach((a, i) => {
    if (!isNumeric(a.type) && a.type !== 'null') argError(fn, i, 'a number (INT, BIGINT or DOUBLE)', a);
  });
  const u = unify(fn, args, options);
  return u.type === 'null' ? { type: 'int', args: args.map((a) => castTo(a, 'int', options)) } : u;
}

define('/', 2, 2, 'a / b → DOUBLE', (args, options) => {
  const coerced = numericArgs('/', args, options).args.map((a) => castTo(a, 'double', options));
  const ansi = options.ansi;
  // Spark's Divide returns null (legacy) or fails (ANSI) for a zero divisor, even for doubles.
  return callNode('/', coerced, 'double', (x: number, y: number) => (y === 0 ? (ansi ? divideByZero() : null) : x / y));
});

define('%', 2, 2, 'a % b → the wider type (sign of a)', (args, options) => {
  const { type, args: coerced } = numericArgs('%', args, options);
  const ansi = options.ansi;
  return callNode('%', coerced, type, (x: number, y: number) => (y === 0 ? (ansi ? divideByZero() : null) : (x % y) + 0));
});

define('div', 2, 2, 'a div b → BIGINT (integral division)', (args, options) => {
  const { type, args: coerced } = numericArgs('div', args, options);
  if (type === 'double') argError('div', 0, 'INT or BIGINT', args.find((a) => a.type === 'double')!);
  const ansi = options.ansi;
  return callNode('div', coerced.map((a) => castTo(a, 'long', options)), 'long', (x: number, y: number) => (y === 0 ? (ansi ? divideByZero() : null) : Math.trunc(x / y) + 0));
});

define('negative', 1, 1, '-a → the same type', (args, options) => {
  const { type, args: coerced } = numericArgs('negative', args, options);
  const ansi = options.ansi;
  const fn: Impl = type === 'int' ? (x: number) => intResult(-x, ansi, () => -x | 0) : type === 'long' ? (x: number) => longResult(-x, ansi, () => -BigInt(x)) : (x: number) => -x;
  return callNode('negative', coerced, type, fn);
});

define('abs', 1, 1, 'abs(a) → the same type', (args, options) => {
  const { type, args: coerced } = numericArgs('abs', args, options);
  const ansi = options.ansi;
  const fn: Impl = type === 'int' ? (x: number) => intResult(Math.abs(x), ansi, () => x) : (x: number) => Math.abs(x);
  return callNode('abs', coerced, type, fn);
});

// ---- comparison and logic ---------------------------------------------------------------------

const COMPARE: Record<string, (c: number) => boolean> = {
  '<': (c) => c < 0,
  '<=': (c) => c <= 0,
  '>': (c) => c > 0,
  '>=': (c) => c >= 0,
};

function comparable(fn: string, args: readonly Bound[], options: ResolveOptions): Bound[] {
  const u = unify(fn, args, options);
  if (u.type === 'window') throw new PlanError(`${fn}: cannot compare window structs; compare window.start instead`);
  return u.args;
}

for (const name of ['<', '<=', '>', '>='] as const) {
  const test = COMPARE[name]!;
  define(name, 2, 2, `a ${name} b → BOOLEAN`, (args, options) => callNode(name, comparable(name, args, options), 'boolean', (x: Value, y: Value) => test(compareValues(x, y))));
}
define(['==', '='], 2, 2, 'a = b → BOOLEAN', (args, options) => callNode('==', comparable('=', args, options), 'boolean', (x: Value, y: Value) => valuesEqual(x, y)));
define(['!=', '<>'], 2, 2, 'a != b → BOOLEAN', (args, options) => callNode('!=', comparable('!=', args, options), 'boolean', (x: Value, y: Value) => !valuesEqual(x, y)));
define('<=>', 2, 2, 'a <=> b → BOOLEAN (null-safe: never null)', (args, options) =>
  callNode('<=>', comparable('<=>', args, options), 'boolean', (x: Value, y: Value) => (x === null || y === null ? x === y : valuesEqual(x, y)), true));

function asBoolean(fn: string, b: Bound, i: number): Bound {
  if (b.type === 'boolean') return b;
  if (b.type === 'null') return { kind: 'literal', value: null, type: 'boolean' };
  return argError(fn, i, 'BOOLEAN', b);
}

define('and', 2, 2, 'a AND b → BOOLEAN (three-valued)', (args) => ({ kind: 'and', args: [asBoolean('and', args[0]!, 0), asBoolean('and', args[1]!, 1)], type: 'boolean' }));
define('or', 2, 2, 'a OR b → BOOLEAN (three-valued)', (args) => ({ kind: 'or', args: [asBoolean('or', args[0]!, 0), asBoolean('or', args[1]!, 1)], type: 'boolean' }));
define(['not', '!'], 1, 1, 'NOT a → BOOLEAN', (args) => callNode('not', [asBoolean('not', args[0]!, 0)], 'boolean', (x: boolean) => !x));
define('isnull', 1, 1, 'a IS NULL → BOOLEAN', (args) => callNode('isnull', args, 'boolean', (x: Value) => x === null, true));
define('isnotnull', 1, 1, 'a IS NOT NULL → BOOLEAN', (args) => callNode('isnotnull', args, 'boolean', (x: Value) => x !== null, true));

define('in', 2, Infinity, 'a IN (v1, v2, …) → BOOLEAN (null when no match and a null is listed)', (args, options) => {
  const coerced = comparable('in', args, options);
  // x IN (…): null if x is null; true on a match; else null if the list holds a null; else false.
  return callNode('in', coerced, 'boolean', (x: Value, ...list: Value[]) => {
    if (x === null) return null;
    let sawNull = false;
    for (const v of list) {
      if (v === null) sawNull = true;
      else if (valuesEqual(x, v)) return true;
    }
    return sawNull ? null : false;
  }, true);
});

define('when', 2, Infinity, 'CASE WHEN c1 THEN v1 [WHEN …] [ELSE e] END → the values\' common type', (args, options) => {
  const values: Bound[] = [];
  for (let i = 1; i < args.length; i += 2) values.push(args[i]!);
  if (args.length % 2 === 1) values.push(args[args.length - 1]!);
  const u = unify('when', values, options);
  const out: Bound[] = [];
  let v = 0;
  for (let i = 0; i + 1 < args.length; i += 2) out.push(asBoolean('when', args[i]!, i), u.args[v++]!);
  if (args.length % 2 === 1) out.push(u.args[v]!);
  return { kind: 'case', args: out, type: u.type === 'null' ? 'string' : u.type };
});

define('coalesce', 1, Infinity, 'coalesce(a, b, …) → the first non-null', (args, options) => {
  const u = unify('coalesce', args, options);
  return callNode('coalesce', u.args, u.type, (...xs: Value[]) => xs.find((x) => x !== null) ?? null, true);
});

// ---- strings ----------------------------------------------------------------------------------

define('lower', 1, 1, 'lower(str) → STRING', (args, o) => callNode('lower', [asString('lower', args[0]!, 0, o)], 'string', (s: string) => s.toLowerCase()));
define('upper', 1, 1, 'upper(str) → STRING', (args, o) => callNode('upper', [asString('upper', args[0]!, 0, o)], 'string', (s: string) => s.toUpperCase()));
// Spark's trim removes spaces (U+0020) only, not tabs or newlines.
define('trim', 1, 1, 'trim(str) → STRING (spaces only)', (args, o) => callNode('trim', [asString('trim', args[0]!, 0, o)], 'string', (s: string) => s.replace(/^ +| +$/g, '')));
define(['length', 'char_length', 'character_length'], 1, 1, 'length(str) → INT (characters)', (args, o) => callNode('length', [asString('length', args[0]!, 0, o)], 'int', (s: string) => charLength(s)));
define('contains', 2, 2, 'contains(str, sub) → BOOLEAN', (args, o) => callNode('contains', args.map((a, i) => asString('contains', a, i, o)), 'boolean', (s: string, t: string) => s.includes(t)));
define('startswith', 2, 2, 'startswith(str, prefix) → BOOLEAN', (args, o) => callNode('startswith', args.map((a, i) => asString('startswith', a, i, o)), 'boolean', (s: string, t: string) => s.startsWith(t)));
define('endswith', 2, 2, 'endswith(str, suffix) → BOOLEAN', (args, o) => callNode('endswith', args.map((a, i) => asString('endswith', a, i, o)), 'boolean', (s: string, t: string) => s.endsWith(t)));
define(['substring', 'substr'], 2, 3, 'substring(str, pos[, len]) → STRING (1-based; negative pos counts from the end)', (args, o) => {
  const str = asString('substring', args[0]!, 0, o);
  const pos = asIntegral('substring', args[1]!, 1, o);
  if (args.length === 2) return callNode('substring', [str, pos], 'string', (s: string, p: number) => substringSql(s, p, Infinity));
  return callNode('substring', [str, pos, asIntegral('substring', args[2]!, 2, o)], 'string', (s: string, p: number, l: number) => substringSql(s, p, l));
});
define('concat', 0, Infinity, 'concat(a, b, …) → STRING (null if any is null)', (args, o) =>
  callNode('concat', args.map((a, i) => asString('concat', a, i, o)), 'string', (...xs: string[]) => xs.join('')));

/**
 * A LIKE pattern as a RegExp: `%` any sequence, `_` one character, `\` escapes `%`, `_` or `\`;
 * a `\` before anything else, or at the end, is an error (Spark's StringUtils.escapeLikeRegex).
 */
export function likeRegExp(pattern: string): RegExp {
  let re = '';
  const chars = Array.from(pattern);
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === '\\') {
      const next = chars[++i];
      if (next === undefined) throw new PlanError(`LIKE pattern '${pattern}': it may not end with the escape character '\\'`);
      if (next !== '%' && next !== '_' && next !== '\\') {
        throw new PlanError(`LIKE pattern '${pattern}': the escape character '\\' may only precede '%', '_' or '\\'; found '\\${next}'`);
      }
      re += next.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
    } else if (c === '%') re += '.*';
    else if (c === '_') re += '.';
    else re += c.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 'su');
}

define('like', 2, 2, "str LIKE pattern → BOOLEAN ('%' any sequence, '_' one character)", (args, o) => {
  const str = asString('like', args[0]!, 0, o);
  const pat = asString('like', args[1]!, 1, o);
  if (pat.kind === 'literal' && typeof pat.value === 'string') {
    const re = likeRegExp(pat.value);
    return callNode('like', [str, pat], 'boolean', (s: string) => re.test(s));
  }
  let lastPattern = '';
  let lastRe = /^$/;
  return callNode('like', [str, pat], 'boolean', (s: string, p: string) => {
    if (p !== lastPattern) {
      lastRe = likeRegExp(p);
      lastPattern = p;
    }
    return lastRe.test(s);
  });
});

// ---- time -------------------------------------------------------------------------------------

function literalText(fn: string, b: Bound, i: number): string {
  if (b.kind !== 'literal' || typeof b.value !== 'string') {
    throw new PlanError(`${fn}: argument ${i + 1} (the datetime pattern) must be a string literal`);
  }
  return b.value;
}

function pattern(fn: string, text: string): ReturnType<typeof compilePattern> {
  try {
    return compilePattern(text);
  } catch (err) {
    throw new PlanError(`${fn}: ${(err as Error).message}`);
  }
}

define('to_timestamp', 1, 2, 'to_timestamp(str | seconds[, pattern]) → TIMESTAMP', (args, o) => {
  const a = args[0]!;
  if (args.length === 1) {
    if (a.type !== 'string' && a.type !== 'timestamp' && !isNumeric(a.type) && a.type !== 'null') argError('to_timestamp', 0, 'STRING, a number of seconds or TIMESTAMP', a);
    return castTo(a, 'timestamp', o);
  }
  const p = pattern('to_timestamp', literalText('to_timestamp', args[1]!, 1));
  const ansi = o.ansi;
  return callNode('to_timestamp', [asString('to_timestamp', a, 0, o), args[1]!], 'timestamp', (s: string) => {
    const us = p.parse(s);
    if (us === null && ansi) throw new QueryRuntimeError(`[CANNOT_PARSE_TIMESTAMP] Text '${s}' could not be parsed with pattern '${p.pattern}' (Spark 4 ANSI mode)`);
    return us;
  });
});

define('from_unixtime', 1, 2, "from_unixtime(seconds[, pattern]) → STRING ('yyyy-MM-dd HH:mm:ss', UTC)", (args, o) => {
  const a = args[0]!;
  if (!isNumeric(a.type) && a.type !== 'null') argError('from_unixtime', 0, 'a number of seconds', a);
  const p = pattern('from_unixtime', args.length === 2 ? literalText('from_unixtime', args[1]!, 1) : 'yyyy-MM-dd HH:mm:ss');
  const rest = args.length === 2 ? [args[1]!] : [];
  return callNode('from_unixtime', [castTo(a, 'long', o), ...rest], 'string', (s: number) => p.format(s * 1_000_000));
});
