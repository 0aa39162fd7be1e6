// The PySpark-like Column builder: col("x").gt(2).and(...), lower(...), when(...).otherwise(...) — each returns new data.
import { fieldTypeOf } from './schema.js';
import { parseSqlExpression } from './sql.js';
import { call, literal, type Expr } from './expr.js';
import { PlanError, type FieldType } from './types.js';

/** A JS value or a Column where PySpark takes "a Column or a literal". */
export type ColumnLike = Column | string | number | boolean | null;

/** An immutable expression under construction; `.expr` is its plain data. */
export class Column {
  constructor(readonly expr: Expr) {
    Object.freeze(this);
  }

  /** Names the column (PySpark's alias / name / as). */
  alias(name: string): Column {
    return new Column({ kind: 'alias', expr: this.expr, name });
  }
  as(name: string): Column {
    return this.alias(name);
  }
  name(name: string): Column {
    return this.alias(name);
  }

  plus(other: ColumnLike): Column { return this.op('+', other); }
  minus(other: ColumnLike): Column { return this.op('-', other); }
  multiply(other: ColumnLike): Column { return this.op('*', other); }
  /** Division as Spark's `/`: always DOUBLE. */
  divide(other: ColumnLike): Column { return this.op('/', other); }
  mod(other: ColumnLike): Column { return this.op('%', other); }

  equalTo(other: ColumnLike): Column { return this.op('==', other); }
  eq(other: ColumnLike): Column { return this.op('==', other); }
  notEqual(other: ColumnLike): Column { return this.op('!=', other); }
  ne(other: ColumnLike): Column { return this.op('!=', other); }
  /** Null-safe equality (`<=>`): true when both are null. */
  eqNullSafe(other: ColumnLike): Column { return this.op('<=>', other); }
  gt(other: ColumnLike): Column { return this.op('>', other); }
  geq(other: ColumnLike): Column { return this.op('>=', other); }
  ge(other: ColumnLike): Column { return this.op('>=', other); }
  lt(other: ColumnLike): Column { return this.op('<', other); }
  leq(other: ColumnLike): Column { return this.op('<=', other); }
  le(other: ColumnLike): Column { return this.op('<=', other); }

  /** Three-valued AND (PySpark's `&`). */
  and(other: ColumnLike): Column { return this.op('and', other); }
  /** Three-valued OR (PySpark's `|`). */
  or(other: ColumnLike): Column { return this.op('or', other); }

  isin(...values: Array<ColumnLike | readonly ColumnLike[]>): Column {
    const flat = values.length === 1 && Array.isArray(values[0]) ? (values[0] as readonly ColumnLike[]) : (values as ColumnLike[]);
    return new Column(call('in', this.expr, ...flat.map(toExpr)));
  }
  isNull(): Column { return new Column(call('isnull', this.expr)); }
  isNotNull(): Column { return new Column(call('isnotnull', this.expr)); }

  contains(other: ColumnLike): Column { return this.op('contains', other); }
  startswith(other: ColumnLike): Column { return this.op('startswith', other); }
  startsWith(other: ColumnLike): Column { return this.startswith(other); }
  endswith(other: ColumnLike): Column { return this.op('endswith', other); }
  endsWith(other: ColumnLike): Column { return this.endswith(other); }
  /** SQL LIKE: `%` any sequence, `_` one character, `\` escapes them. */
  like(pattern: ColumnLike): Column { return this.op('like', pattern); }
  /** Spark's 1-based substring (negative `pos` counts from the end). */
  substr(pos: ColumnLike, len?: ColumnLike): Column {
    return new Column(call('substring', this.expr, toExpr(pos), ...(len === undefined ? [] : [toExpr(len)])));
  }

  /** Cast to one of the six types, by name (`"double"`, `"timestamp"`, `"BIGINT"`, …). */
  cast(type: string): Column {
    const to = fieldTypeOf(type);
    if (!to) throw new PlanError(`cast: unknown type "${type}"; use string, long (bigint), int, double, boolean or timestamp`);
    return new Column({ kind: 'cast', expr: this.expr, to });
  }
  astype(type: string): Column {
    return this.cast(type);
  }

  /** Adds a branch to a `when(...)` chain. */
  when(condition: ColumnLike, value: ColumnLike): Column {
    const e = this.expr;
    if (e.kind !== 'call' || e.name !== 'when' || e.args.length % 2 === 1) {
      throw new PlanError('when() can only follow when(...) (and not otherwise(...)); start a chain with when(condition, value)');
    }
    return new Column(call('when', ...e.args, toExpr(condition), toExpr(value)));
  }
  /** The value of a `when(...)` chain when no branch matched (else null). */
  otherwise(value: ColumnLike): Column {
    const e = this.expr;
    if (e.kind !== 'call' || e.name !== 'when' || e.args.length % 2 === 1) {
      throw new PlanError('otherwise() can only follow when(...), once');
    }
    return new Column(call('when', ...e.args, toExpr(value)));
  }

  /** Sort descending in orderBy. */
  desc(): SortColumn {
    return new SortColumn(this.expr, false);
  }
  /** Sort ascending in orderBy (the default). */
  asc(): SortColumn {
    return new SortColumn(this.expr, true);
  }

  private op(name: string, other: ColumnLike): Column {
    return new Column(call(name, this.expr, toExpr(other)));
  }
}

/** A sort key for orderBy: an expression and a direction (nulls first ascending, last descending, as Spark). */
export class SortColumn {
  constructor(readonly expr: Expr, readonly ascending: boolean) {
    Object.freeze(this);
  }
}

/** desc("count") / desc(col("count")). */
export const desc = (c: Column | string): SortColumn => new SortColumn((typeof c === 'string' ? col(c) : c).expr, false);
/** asc("count") / asc(col("count")). */
export const asc = (c: Column | string): SortColumn => new SortColumn((typeof c === 'string' ? col(c) : c).expr, true);

/** A Column for a JS value (a literal) or the Column itself. */
export function toExpr(value: ColumnLike): Expr {
  return value instanceof Column ? value.expr : literal(value);
}

/** A column by name. */
export const col = (name: string): Column => new Column({ kind: 'column', name });
export const column = col;
/** A literal; `type` forces its type (`lit(2, 'double')`). */
export const lit = (value: string | number | boolean | null, type?: FieldType): Column => new Column(literal(value, type));

const fn = (name: string, ...args: ColumnLike[]): Column => new Column(call(name, ...args.map(toExpr)));
/** A name where PySpark accepts "a column or a column name". */
const colOrName = (c: Column | string): Column => (typeof c === 'string' ? col(c) : c);

export const not = (c: ColumnLike): Column => fn('not', c);
export const lower = (c: Column | string): Column => fn('lower', colOrName(c));
export const upper = (c: Column | string): Column => fn('upper', colOrName(c));
export const trim = (c: Column | string): Column => fn('trim', colOrName(c));
export const length = (c: Column | string): Column => fn('length', colOrName(c));
export const substring = (c: Column | string, pos: number, len: number): Column => fn('substring', colOrName(c), pos, len);
export const concat = (...cs: Array<Column | string>): Column => fn('concat', ...cs.map(colOrName));
export const isnull = (c: Column | string): Column => fn('isnull', colOrName(c));
export const isnotnull = (c: Column | string): Column => fn('isnotnull', colOrName(c));
export const when = (condition: ColumnLike, value: ColumnLike): Column => fn('when', condition, value);
/** to_timestamp(col) casts; to_timestamp(col, pattern) parses with a datetime pattern. */
export const to_timestamp = (c: Column | string, format?: string): Column =>
  format === undefined ? fn('to_timestamp', colOrName(c)) : fn('to_timestamp', colOrName(c), format);
/** Seconds since the epoch to a `yyyy-MM-dd HH:mm:ss` string (or the given pattern), in UTC. */
export const from_unixtime = (c: Column | string, format?: string): Column =>
  format === undefined ? fn('from_unixtime', colOrName(c)) : fn('from_unixtime', colOrName(c), format);

/** A tumbling (`window(t, "10 seconds")`) or sliding (`window(t, "10 seconds", "5 seconds")`) event-time window. */
export const window = (timeColumn: Column | string, windowDuration: string, slideDuration?: string, startTime?: string): Column => {
  const args: ColumnLike[] = [colOrName(timeColumn), windowDuration];
  if (slideDuration !== undefined || startTime !== undefined) args.push(slideDuration ?? windowDuration);
  if (startTime !== undefined) args.push(startTime);
  return fn('window', ...args);
};

/** count("*") counts rows; count(col) counts non-null values. */
export const count = (c: Column | string): Column => (c === '*' ? new Column(call('count', { kind: 'star' })) : fn('count', colOrName(c)));
export const sum = (c: Column | string): Column => fn('sum', colOrName(c));
export const avg = (c: Column | string): Column => fn('avg', colOrName(c));
export const mean = avg;
export const min = (c: Column | string): Column => fn('min', colOrName(c));
export const max = (c: Column | string): Column => fn('max', colOrName(c));
/** The first value the group ever saw (nulls included, as Spark's first(col) without ignorenulls). */
export const first = (c: Column | string, ignorenulls = false): Column => (ignorenulls ? fn('first', colOrName(c), true) : fn('first', colOrName(c)));
/** HyperLogLog++ estimate of distinct values; `rsd` is the relative standard deviation (default 0.05). */
export const approx_count_distinct = (c: Column | string, rsd?: number): Column =>
  rsd === undefined ? fn('approx_count_distinct', colOrName(c)) : fn('approx_count_distinct', colOrName(c), lit(rsd, 'double'));
/** Exact distinct count: accepted by the builder, refused by the streaming checker as Spark refuses it. */
export const count_distinct = (c: Column | string, ...more: Array<Column | string>): Column => fn('count_distinct', colOrName(c), ...more.map(colOrName));
export const countDistinct = count_distinct;

/** A Column from a Spark SQL expression string: `expr("lower(content) LIKE '%crash%'")`. */
export const expr = (sql: string): Column => new Column(parseSqlExpression(sql));
/** abs(x). */
export const abs = (c: Column | string): Column => fn('abs', colOrName(c));
/** The first non-null argument. */
export const coalesce = (...cs: Array<Column | string>): Column => fn('coalesce', ...cs.map(colOrName));
