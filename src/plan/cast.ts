// Spark's CAST between the six types, in ANSI mode (Spark 4's default: a bad value fails the query) or legacy mode (null).
import { javaDoubleToString } from './json-text.js';
import { stringToTimestampUs, timestampToString } from './timestamp.js';
import { PlanError, QueryRuntimeError, sqlTypeName, type DataType, type FieldType, type Value } from './types.js';
import { longResult } from './values.js';

/** An integral value's digits; beyond 2^53 the exact digits of the double Kindling holds. */
export const longText = (v: number): string => (Number.isSafeInteger(v) ? String(v) : BigInt(v).toString());

/** A strict cast function: never receives null. */
export type CastFn = (v: never) => Value;

const US_PER_SECOND = 1_000_000;
const LONG_LIMIT = 9223372036854775808;

function invalid(value: string, from: DataType, to: FieldType): QueryRuntimeError {
  return new QueryRuntimeError(
    `[CAST_INVALID_INPUT] The value '${value}' of the type "${sqlTypeName(from)}" cannot be cast to "${sqlTypeName(to)}" because it is malformed ` +
      '(Spark 4 ANSI mode fails the query; plan option ansi: false gives null instead)',
  );
}

function overflow(value: string, from: DataType, to: FieldType): QueryRuntimeError {
  return new QueryRuntimeError(`[CAST_OVERFLOW] The value ${value} of the type "${sqlTypeName(from)}" cannot be cast to "${sqlTypeName(to)}" due to an overflow (Spark 4 ANSI mode)`);
}

const INTEGRAL_TEXT = /^[+-]?\d+$/;
const LEGACY_INTEGRAL_TEXT = /^([+-]?\d+)(?:\.\d*)?$/;
const DOUBLE_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?[dDfF]?$/;
const SPECIAL_DOUBLE_TEXT = new Map<string, number>([
  ['inf', Infinity], ['+inf', Infinity], ['infinity', Infinity], ['+infinity', Infinity],
  ['-inf', -Infinity], ['-infinity', -Infinity], ['nan', NaN], ['+nan', NaN], ['-nan', NaN],
]);
const TRUE_TEXT = new Set(['t', 'true', 'y', 'yes', '1']);
const FALSE_TEXT = new Set(['f', 'false', 'n', 'no', '0']);

/** Trims what UTF8String.trimAll trims: whitespace and control characters up to U+0020. */
const trimAll = (s: string): string => s.replace(/^[\x00-\x20]+|[\x00-\x20]+$/g, '');

/** Spark's string → integral: trimmed digits with a sign; legacy mode also drops a fraction (`1.5` → 1). */
function stringToIntegral(s: string, to: 'int' | 'long', ansi: boolean): number | null {
  const t = trimAll(s);
  const m = ansi ? (INTEGRAL_TEXT.test(t) ? [t, t] : null) : LEGACY_INTEGRAL_TEXT.exec(t);
  const limit = to === 'int' ? 2147483648n : 9223372036854775808n;
  if (m) {
    const b = BigInt(m[1]!);
    if (b >= -limit && b < limit) return Number(b);
  }
  if (ansi) throw invalid(s, 'string', to);
  return null;
}

function stringToDouble(s: string, ansi: boolean): number | null {
  const t = trimAll(s);
  if (DOUBLE_TEXT.test(t)) return Number(t.replace(/[dDfF]$/, ''));
  const special = SPECIAL_DOUBLE_TEXT.get(t.toLowerCase());
  if (special !== undefined) return special;
  if (ansi) throw invalid(s, 'string', 'double');
  return null;
}

/** Double → integral as Java's `(int)`/`(long)` truncation; ANSI refuses NaN and out-of-range values. */
function doubleToIntegral(d: number, to: 'int' | 'long', ansi: boolean): number {
  const t = Math.trunc(d);
  const inRange = to === 'int' ? t >= -2147483648 && t <= 2147483647 : t >= -LONG_LIMIT && t < LONG_LIMIT;
  if (inRange && !Number.isNaN(d)) return t + 0;
  if (ansi) throw overflow(javaDoubleToString(d) + 'D', 'double', to);
  // Java saturates a double to the integral range and maps NaN to 0.
  if (Number.isNaN(d)) return 0;
  if (to === 'int') return d > 0 ? 2147483647 : -2147483648;
  return d > 0 ? 9223372036854775807 : -9223372036854775808;
}

/**
 * The cast from `from` to `to`, or a PlanError when Spark refuses the cast at analysis
 * (boolean ↔ timestamp, anything to/from the window struct).
 */
export function castFunction(from: DataType, to: FieldType, ansi: boolean): CastFn {
  if (from === to || from === 'null') return ((v: Value) => v) as CastFn;
  const refuse = (): never => {
    throw new PlanError(`cannot cast ${sqlTypeName(from)} to ${sqlTypeName(to)} (Spark refuses this cast)`);
  };
  switch (to) {
    case 'string':
      switch (from) {
        case 'long': case 'int': return ((v: number) => longText(v)) as CastFn;
        case 'double': return ((v: number) => javaDoubleToString(v)) as CastFn;
        case 'boolean': return ((v: boolean) => (v ? 'true' : 'false')) as CastFn;
        case 'timestamp': return ((v: number) => timestampToString(v)) as CastFn;
        default: return refuse();
      }
    case 'long':
    case 'int':
      switch (from) {
        case 'string': return ((v: string) => stringToIntegral(v, to, ansi)) as CastFn;
        case 'double': return ((v: number) => doubleToIntegral(v, to, ansi)) as CastFn;
        case 'boolean': return ((v: boolean) => (v ? 1 : 0)) as CastFn;
        case 'long':
          return ((v: number) => {
            if (v >= -2147483648 && v <= 2147483647) return v;
            if (ansi) throw overflow(`${longText(v)}L`, 'long', 'int');
            return Number(BigInt.asIntN(32, BigInt(v)));
          }) as CastFn;
        case 'int': return ((v: number) => v) as CastFn;
        case 'timestamp':
          return to === 'long'
            ? (((v: number) => Math.floor(v / US_PER_SECOND)) as CastFn)
            : (((v: number) => {
                const s = Math.floor(v / US_PER_SECOND);
                if (s >= -2147483648 && s <= 2147483647) return s;
                if (ansi) throw overflow(String(s), 'timestamp', 'int');
                return Number(BigInt.asIntN(32, BigInt(s)));
              }) as CastFn);
        default: return refuse();
      }
    case 'double':
      switch (from) {
        case 'string': return ((v: string) => stringToDouble(v, ansi)) as CastFn;
        case 'long': case 'int': return ((v: number) => v) as CastFn;
        case 'boolean': return ((v: boolean) => (v ? 1 : 0)) as CastFn;
        case 'timestamp': return ((v: number) => v / US_PER_SECOND) as CastFn;
        default: return refuse();
      }
    case 'boolean':
      switch (from) {
        case 'string':
          return ((v: string) => {
            const t = trimAll(v).toLowerCase();
            if (TRUE_TEXT.has(t)) return true;
            if (FALSE_TEXT.has(t)) return false;
            if (ansi) throw invalid(v, 'string', 'boolean');
            return null;
          }) as CastFn;
        case 'long': case 'int': case 'double': return ((v: number) => v !== 0) as CastFn;
        default: return refuse();
      }
    case 'timestamp':
      switch (from) {
        case 'string':
          return ((v: string) => {
            const us = stringToTimestampUs(v);
            if (us === null && ansi) throw invalid(v, 'string', 'timestamp');
            return us;
          }) as CastFn;
        case 'long': case 'int':
          return ((v: number) => longResult(v * US_PER_SECOND, ansi, () => BigInt(v) * 1_000_000n)) as CastFn;
        case 'double':
          return ((v: number) => {
            if (Number.isFinite(v)) return Math.trunc(v * US_PER_SECOND) + 0;
            if (ansi) throw invalid(javaDoubleToString(v), 'double', 'timestamp');
            return null;
          }) as CastFn;
        default: return refuse();
      }
    default:
      return refuse();
  }
}
