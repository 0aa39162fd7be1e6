// The plan's data types and values: Spark's six field types, the window struct, and how each is held in JS.
import { KindlingError } from '../errors.js';

/** A field type of a declared schema (Spark's StringType, LongType, IntegerType, DoubleType, BooleanType, TimestampType). */
export type FieldType = 'string' | 'long' | 'int' | 'double' | 'boolean' | 'timestamp';
/** Every type an expression can have: a field type, the window struct, or the type of a bare `null` literal. */
export type DataType = FieldType | 'window' | 'null';

export const FIELD_TYPES: readonly FieldType[] = ['string', 'long', 'int', 'double', 'boolean', 'timestamp'];

/**
 * A window value `[startUs, endUs)`: Spark's `struct<start: timestamp, end: timestamp>`.
 * Timestamps are held as epoch microseconds, as Spark holds them (safe integers up to year 2255).
 */
export interface WindowValue {
  readonly startUs: number;
  readonly endUs: number;
}

/**
 * One cell: string → string; long, int, double → number; boolean → boolean; timestamp → number
 * (epoch microseconds); window → WindowValue; SQL NULL → null. Longs are JS numbers: exact up to ±2^53.
 */
export type Value = string | number | boolean | WindowValue | null;

/** A row: cells by column ordinal. */
export type Row = Value[];

/** Thrown for a plan, expression, schema or SQL text that cannot run; a user error (exit code 2). */
export class PlanError extends KindlingError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('BAD_QUERY', message, { domain: 'user', ...options });
    this.name = 'PlanError';
  }
}

/**
 * Thrown while evaluating a row when ANSI mode (Spark 4's default) makes an expression fail the
 * query: a cast that cannot convert, an integer overflow, a division by zero.
 */
export class QueryRuntimeError extends KindlingError {
  /** The failing record's index in its split, when stage 1 knows it. */
  recordIndex: number | null = null;

  constructor(message: string) {
    super('QUERY_FAILED', message, { domain: 'user' });
    this.name = 'QueryRuntimeError';
  }
}

/** Spark's SQL name of a type, as explain() and error messages print it. */
export function sqlTypeName(type: DataType): string {
  switch (type) {
    case 'string': return 'STRING';
    case 'long': return 'BIGINT';
    case 'int': return 'INT';
    case 'double': return 'DOUBLE';
    case 'boolean': return 'BOOLEAN';
    case 'timestamp': return 'TIMESTAMP';
    case 'window': return 'STRUCT<start: TIMESTAMP, end: TIMESTAMP>';
    case 'null': return 'VOID';
  }
}

/** True for the numeric types. */
export const isNumeric = (t: DataType): t is 'long' | 'int' | 'double' => t === 'long' || t === 'int' || t === 'double';
