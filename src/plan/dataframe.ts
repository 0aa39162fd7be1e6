// The PySpark-like DataFrame builder: every step returns a new immutable plan and fails early, naming what it could not resolve.
import { Column, SortColumn, col, count, toExpr } from './column.js';
import type { Expr } from './expr.js';
import { explainPlan } from './explain.js';
import { analyzePlan, checkStreaming, type AnalyzedPlan, type OutputMode, type PlanNode, type QueryPlan } from './plan.js';
import { columnOrdinal } from './resolve.js';
import { schemaOf, type Field, type Schema } from './schema.js';
import { parseSelectItem, parseSqlExpression } from './sql.js';
import { PlanError, type DataType } from './types.js';

/** Options of a streaming DataFrame. */
export interface DataFrameOptions {
  /** Spark 4's ANSI mode (default true): bad casts, overflows and divisions by zero fail the query. */
  readonly ansi?: boolean;
}

type SchemaSpec = Schema | string | Readonly<Record<string, string>> | readonly Field[];

/** A streaming DataFrame whose records are parsed with from_json(schema): the start of every plan. */
export function readStream(schema: SchemaSpec, options: DataFrameOptions = {}): DataFrame {
  const isSchema = typeof schema === 'object' && !Array.isArray(schema) && Array.isArray((schema as Schema).fields);
  const s = isSchema ? (schema as Schema) : schemaOf(schema as Exclude<SchemaSpec, Schema>);
  return DataFrame.from({ kind: 'source', schema: s }, options.ansi ?? true);
}

/** An immutable streaming DataFrame: a plan node and its analysis. */
export class DataFrame {
  private constructor(
    readonly plan: PlanNode,
    readonly ansi: boolean,
    private readonly analyzed: AnalyzedPlan,
  ) {
    Object.freeze(this);
  }

  /** Analyzes `plan` (throwing on the first problem) and wraps it. */
  static from(plan: PlanNode, ansi: boolean): DataFrame {
    return new DataFrame(plan, ansi, analyzePlan(plan, { ansi }));
  }

  private next(plan: PlanNode): DataFrame {
    return DataFrame.from(plan, this.ansi);
  }

  /** Output column names, in order. */
  get columns(): string[] {
    return this.analyzed.columns.map((c) => c.name);
  }

  /** Output (name, type) pairs. */
  get dtypes(): Array<[string, DataType]> {
    return this.analyzed.columns.map((c) => [c.name, c.type]);
  }

  private columnExprs(): Expr[] {
    return this.analyzed.columns.map((c) => col(c.name).expr);
  }

  /** Adds a column, or replaces the column of that name in place. */
  withColumn(name: string, value: Column): DataFrame {
    const exprs = this.columnExprs();
    const named: Expr = { kind: 'alias', expr: value.expr, name };
    const at = this.analyzed.columns.findIndex((c) => c.name === name);
    if (at >= 0) exprs[at] = named;
    else exprs.push(named);
    return this.next({ kind: 'project', input: this.plan, exprs });
  }

  /** Renames a column (no-op when absent, as in Spark). */
  withColumnRenamed(existing: string, name: string): DataFrame {
    const exprs = this.analyzed.columns.map((c) => (c.name === existing ? col(c.name).alias(name).expr : col(c.name).expr));
    return this.next({ kind: 'project', input: this.plan, exprs });
  }

  /** Keeps these columns or expressions; "*" stands for every column. */
  select(...cols: Array<Column | string>): DataFrame {
    const exprs = cols.flatMap((c) => (c === '*' ? this.columnExprs() : [typeof c === 'string' ? col(c).expr : c.expr]));
    return this.next({ kind: 'project', input: this.plan, exprs });
  }

  /** select with Spark SQL strings: `selectExpr("lower(content) AS content", "*")`. */
  selectExpr(...items: string[]): DataFrame {
    const exprs = items.flatMap((text) => {
      const item = parseSelectItem(text);
      return item === '*' ? this.columnExprs() : [item];
    });
    return this.next({ kind: 'project', input: this.plan, exprs });
  }

  /** Keeps rows whose condition is true (not false, not null). A string is Spark SQL. */
  filter(condition: Column | string): DataFrame {
    return this.next({ kind: 'filter', input: this.plan, condition: typeof condition === 'string' ? parseSqlExpression(condition) : condition.expr });
  }

  where(condition: Column | string): DataFrame {
    return this.filter(condition);
  }

  /** Declares the event-time column and how late rows may arrive (`"30 seconds"`). */
  withWatermark(eventTime: string, delayThreshold: string): DataFrame {
    return this.next({ kind: 'watermark', input: this.plan, column: eventTime, delay: delayThreshold });
  }

  /** Streaming deduplication on these columns (all columns when none are given). */
  dropDuplicates(columns?: readonly string[]): DataFrame {
    return this.next({ kind: 'dropDuplicates', input: this.plan, columns: columns === undefined ? null : [...columns] });
  }

  /** Groups by columns and/or a window(...); follow with agg(...) or count(). */
  groupBy(...cols: Array<Column | string>): GroupedData {
    const keys = cols.map((c) => (typeof c === 'string' ? col(c).expr : c.expr));
    // Resolve the keys now (fail early) by trying a count over them.
    this.next({ kind: 'aggregate', input: this.plan, groupBy: keys, aggregates: [count('*').expr] });
    return new GroupedData(this, keys);
  }

  /** Sorts the result (only allowed on an aggregation in complete mode). */
  orderBy(...cols: Array<Column | SortColumn | string>): DataFrame {
    const orders = cols.map((c) => (c instanceof SortColumn ? { expr: c.expr, ascending: c.ascending } : { expr: toExpr(typeof c === 'string' ? col(c) : c), ascending: true }));
    return this.next({ kind: 'sort', input: this.plan, orders });
  }

  sort(...cols: Array<Column | SortColumn | string>): DataFrame {
    return this.orderBy(...cols);
  }

  /** The streaming query this DataFrame writes in `outputMode`, checked as Spark checks it at start(). */
  toQuery(settings: { name: string; outputMode: OutputMode; description?: string }): QueryPlan {
    checkStreaming(this.analyzed, settings.outputMode);
    return Object.freeze({ name: settings.name, root: this.plan, outputMode: settings.outputMode, ansi: this.ansi, ...(settings.description ? { description: settings.description } : {}) });
  }

  /** The plan as a tree, like df.explain(). */
  explain(): string {
    return explainPlan(this.plan);
  }

  /** Checks that column `name` exists (for callers building plans by name). */
  column(name: string): Column {
    return col(this.analyzed.columns[columnOrdinal(name, this.analyzed.columns)]!.name);
  }
}

/** The result of groupBy: aggregate it with agg(...) or count(). */
export class GroupedData {
  constructor(
    private readonly df: DataFrame,
    private readonly keys: readonly Expr[],
  ) {
    Object.freeze(this);
  }

  /** Aggregates per group: `agg(count("*").alias("n"), avg("temperature"))`; strings are Spark SQL (`"max(x) AS m"`). */
  agg(...aggregates: Array<Column | string>): DataFrame {
    if (aggregates.length === 0) throw new PlanError('agg needs at least one aggregate, e.g. count("*").alias("n")');
    const exprs = aggregates.map((a) => {
      if (typeof a !== 'string') return a.expr;
      const item = parseSelectItem(a);
      if (item === '*') throw new PlanError('agg("*") is not an aggregate');
      return item;
    });
    return DataFrame.from({ kind: 'aggregate', input: this.df.plan, groupBy: this.keys, aggregates: exprs }, this.df.ansi);
  }

  /** count per group, in a column named "count" (as PySpark names it). */
  count(): DataFrame {
    return this.agg(count('*').alias('count'));
  }
}
