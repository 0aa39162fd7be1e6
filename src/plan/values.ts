// Value helpers shared by every evaluator: Spark's ordering (NaN largest, strings by code point) and integer checks.
import { QueryRuntimeError, type Value, type WindowValue } from './types.js';

const LONG_LIMIT = 9223372036854775808;
const SURROGATE = /[\ud800-\udfff]/;

/** Strings compared as Spark compares UTF-8 bytes, which is code-point order (JS's `<` is UTF-16 unit order). */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  if (!SURROGATE.test(a) && !SURROGATE.test(b)) return a < b ? -1 : 1;
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done) return y.done ? 0 : -1;
    if (y.done) return 1;
    const cx = x.value.codePointAt(0)!;
    const cy = y.value.codePointAt(0)!;
    if (cx !== cy) return cx < cy ? -1 : 1;
  }
}

/** Doubles as Spark orders them: NaN equals NaN and is above everything; -0.0 equals 0.0. */
export function compareNumbers(a: number, b: number): number {
  if (a < b) return -1;
  if (a > b) return 1;
  if (a === b) return 0;
  const na = Number.isNaN(a);
  const nb = Number.isNaN(b);
  return na && nb ? 0 : na ? 1 : -1;
}

/** Compares two non-null values of the same type. */
export function compareValues(a: Value, b: Value): number {
  if (typeof a === 'number') return compareNumbers(a, b as number);
  if (typeof a === 'string') return compareStrings(a, b as string);
  if (typeof a === 'boolean') return a === b ? 0 : a ? 1 : -1;
  const wa = a as WindowValue;
  const wb = b as WindowValue;
  return wa.startUs - wb.startUs || wa.endUs - wb.endUs;
}

/** Null-aware ordering for sorting rows: nulls first ascending, as Spark's default (NULLS FIRST for ASC). */
export function compareNullable(a: Value, b: Value): number {
  if (a === null) return b === null ? 0 : -1;
  if (b === null) return 1;
  return compareValues(a, b);
}

/** Equality as Spark's `=` on non-null values of one type. */
export function valuesEqual(a: Value, b: Value): boolean {
  if (typeof a === 'number') return a === b || (Number.isNaN(a) && Number.isNaN(b as number));
  if (typeof a === 'object' && a !== null) return compareValues(a, b) === 0;
  return a === b;
}

/** A key string for grouping and distinct: equal values (Spark's equality) give equal keys, types kept apart. */
export function keyOf(v: Value): string {
  if (v === null) return 'n';
  switch (typeof v) {
    case 'string': return 's' + v;
    case 'number': return 'd' + (Number.isNaN(v) ? 'NaN' : v === 0 ? '0' : String(v));
    case 'boolean': return v ? 'T' : 'F';
    default: return `w${v.startUs},${v.endUs}`;
  }
}

/** Checks an INT result (ANSI: overflow fails the query; legacy: wraps as Java does). */
export function intResult(r: number, ansi: boolean, wrapped: () => number): number {
  if (r >= -2147483648 && r <= 2147483647) return r;
  if (ansi) throw new QueryRuntimeError('[ARITHMETIC_OVERFLOW] integer overflow (Spark 4 ANSI mode fails the query)');
  return wrapped();
}

/** Checks a BIGINT result; Kindling's longs are doubles, exact up to 2^53. */
export function longResult(r: number, ansi: boolean, wrapped: () => bigint): number {
  if (r > -LONG_LIMIT && r < LONG_LIMIT) return r;
  if (ansi) throw new QueryRuntimeError('[ARITHMETIC_OVERFLOW] long overflow (Spark 4 ANSI mode fails the query)');
  return Number(BigInt.asIntN(64, wrapped()));
}

/** Spark's number of characters: code points. */
export function charLength(s: string): number {
  if (!SURROGATE.test(s)) return s.length;
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Spark's substringSQL: 1-based `pos` (0 behaves as 1, negative counts from the end), `len` characters. */
export function substringSql(s: string, pos: number, len: number): string {
  const chars = SURROGATE.test(s) ? Array.from(s) : null;
  const n = chars ? chars.length : s.length;
  let start = pos > 0 ? pos - 1 : pos < 0 ? n + pos : 0;
  const end = len === Infinity ? Infinity : start + len;
  start = Math.max(start, 0);
  if (start >= end) return '';
  const stop = Math.min(end, n);
  if (start >= stop) return '';
  return chars ? chars.slice(start, stop).join('') : s.slice(start, stop);
}
