// A Kindling query plan as a runnable PySpark script: the same source, parse step, query and output mode, for spark-submit on a cluster.
import { analyzePlan, chain, type PlanNode, type QueryPlan } from '../plan/plan.js';
import type { Expr } from '../plan/expr.js';
import { schemaToDdl } from '../plan/schema.js';
import { sqlTypeName } from '../plan/types.js';

/** Where the exported script reads from: Spark's own source options, as Kindling's flags give them. */
export type ExportSource =
  | {
      readonly kind: 'kafka';
      readonly brokers: string;
      readonly topic: string;
      readonly startingOffsets: 'earliest' | 'latest';
      readonly maxOffsetsPerTrigger?: number;
      readonly isolationLevel: 'read_uncommitted' | 'read_committed';
      readonly failOnDataLoss: boolean;
    }
  | { readonly kind: 'file'; readonly path: string; readonly maxFilesPerTrigger?: number };

/** How the script writes: Spark's console sink, its trigger and checkpoint. */
export interface ExportSink {
  readonly availableNow: boolean;
  /** Processing-time trigger in ms; 0 or absent: Spark's default (as soon as possible). */
  readonly triggerMs?: number;
  readonly checkpointDir?: string;
}

/** The exact command line that made the script, for its header. */
export interface ExportOrigin {
  readonly command: string;
  readonly kindlingVersion: string;
}

/**
 * Spark's Kafka connector for Spark 4.0 (Scala 2.13), which spark-submit needs for a kafka source. Its version must
 * be the cluster's Spark version; 4.0.4 is the newest 4.0 connector published (none was for 4.0.5, checked with
 * `mvn dependency:get`), so the script names it and says to match the cluster.
 */
const KAFKA_PACKAGE = 'org.apache.spark:spark-sql-kafka-0-10_2.13:4.0.4';

/** A Python string literal (JSON's escapes are all valid Python escapes). */
const py = (s: string): string => JSON.stringify(s);

function pyLiteral(e: Extract<Expr, { kind: 'literal' }>): string {
  const v = e.value;
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'string') return py(v);
  if (e.type === 'double') {
    if (Number.isNaN(v)) return 'float("nan")';
    if (!Number.isFinite(v)) return v > 0 ? 'float("inf")' : 'float("-inf")';
    return Number.isInteger(v) ? `${v}.0` : String(v);
  }
  return String(v);
}

/** A literal as a Column: PySpark makes a Python int INT when it fits 32 bits, so a BIGINT that fits is cast. */
function litColumn(e: Extract<Expr, { kind: 'literal' }>): string {
  const fits32 = typeof e.value === 'number' && e.value >= -2147483648 && e.value <= 2147483647;
  if (e.type === 'long' && fits32) return `F.lit(${pyLiteral(e)}).cast("bigint")`;
  if (e.value === null && e.type !== 'null') return `F.lit(None).cast(${py(sqlTypeName(e.type).toLowerCase())})`;
  return `F.lit(${pyLiteral(e)})`;
}

/** Operand on the right of a Python operator: a plain literal stays a Python value (PySpark wraps it in lit()). */
function operand(e: Expr): string {
  return e.kind === 'literal' && (e.type !== 'long' || typeof e.value !== 'number' || Math.abs(e.value) > 2147483647) && e.type !== 'null' ? pyLiteral(e) : column(e);
}

const PY_OPERATORS: Readonly<Record<string, string>> = { '+': '+', '-': '-', '*': '*', '/': '/', '%': '%', '==': '==', '!=': '!=', '<': '<', '<=': '<=', '>': '>', '>=': '>=', and: '&', or: '|' };
const COLUMN_METHODS: Readonly<Record<string, string>> = { contains: 'contains', startswith: 'startswith', endswith: 'endswith', '<=>': 'eqNullSafe' };
/** Functions PySpark's `functions` module takes with columns only, under Spark's name. */
const COLUMN_FUNCTIONS = new Set(['lower', 'upper', 'trim', 'length', 'abs', 'coalesce', 'concat', 'sum', 'avg', 'mean', 'min', 'max', 'count', 'count_distinct', 'first', 'approx_count_distinct', 'isnull', 'isnotnull']);

const isStringLiteral = (e: Expr | undefined): e is Extract<Expr, { kind: 'literal' }> & { value: string } => e?.kind === 'literal' && typeof e.value === 'string';

/** A function whose PySpark wrapper takes plain Python values after the column (window's durations, a format, ...), or null. */
function withPythonArgs(name: string, args: readonly Expr[]): string | null {
  const [first, ...rest] = args;
  if (!first || !rest.every((a) => a.kind === 'literal' && a.value !== null)) return null;
  const values = rest.map((a) => pyLiteral(a as Extract<Expr, { kind: 'literal' }>));
  switch (name) {
    case 'window':
    case 'to_timestamp':
    case 'from_unixtime':
      return rest.every(isStringLiteral) ? `F.${name}(${[column(first), ...values].join(', ')})` : null;
    case 'substring':
      return rest.length === 2 && rest.every((a) => a.kind === 'literal' && typeof a.value === 'number') ? `F.substring(${[column(first), ...values].join(', ')})` : null;
    case 'first':
      return rest.length === 1 && rest[0]!.kind === 'literal' && typeof rest[0]!.value === 'boolean' ? `F.first(${column(first)}, ${values[0]})` : null;
    case 'approx_count_distinct':
      return rest.length === 1 && rest[0]!.kind === 'literal' && typeof rest[0]!.value === 'number' ? `F.approx_count_distinct(${column(first)}, ${values[0]})` : null;
    case 'like':
      return rest.length === 1 && isStringLiteral(rest[0]) ? `${column(first)}.like(${values[0]})` : null;
    default:
      return null;
  }
}

function callColumn(name: string, args: readonly Expr[]): string {
  const n = name.toLowerCase();
  const op = PY_OPERATORS[n];
  if (op && args.length === 2) return `(${column(args[0]!)} ${op} ${operand(args[1]!)})`;
  const method = COLUMN_METHODS[n];
  if (method && args.length === 2) return `${column(args[0]!)}.${method}(${operand(args[1]!)})`;
  switch (n) {
    case 'not': return `~${column(args[0]!)}`;
    case 'negative': return `-${column(args[0]!)}`;
    case 'in': return `${column(args[0]!)}.isin(${args.slice(1).map(operand).join(', ')})`;
    case 'when': {
      let text = 'F';
      for (let i = 0; i + 1 < args.length; i += 2) text += `.when(${column(args[i]!)}, ${operand(args[i + 1]!)})`;
      return args.length % 2 === 1 ? `${text}.otherwise(${operand(args[args.length - 1]!)})` : text;
    }
    case 'count':
      if (args.length === 1 && args[0]!.kind === 'star') return 'F.count("*")';
      break;
    default:
      break;
  }
  const special = withPythonArgs(n, args);
  if (special) return special;
  const cols = args.map(column).join(', ');
  if (COLUMN_FUNCTIONS.has(n)) return `F.${n}(${cols})`;
  // Any other function by its Spark name, exactly as Spark Connect sends F.<name>(...).
  return `F.call_function(${py(n)}${cols ? `, ${cols}` : ''})`;
}

/** An expression as PySpark Column code. */
export function column(e: Expr): string {
  switch (e.kind) {
    case 'column': return `F.col(${py(e.name)})`;
    case 'literal': return litColumn(e);
    case 'cast': return `${column(e.expr)}.cast(${py(sqlTypeName(e.to).toLowerCase())})`;
    case 'alias': return `${column(e.expr)}.alias(${py(e.name)})`;
    case 'star': return 'F.col("*")';
    case 'call': return callColumn(e.name, e.args);
  }
}

/** A project that passes every input column through and adds or replaces one: withColumn(name, value). */
function asWithColumn(node: Extract<PlanNode, { kind: 'project' }>): string | null {
  const input = analyzePlan(node.input, { ansi: true }).columns.map((c) => c.name);
  const exprs = node.exprs;
  if (exprs.length !== input.length && exprs.length !== input.length + 1) return null;
  const changed = exprs.map((e, i) => (e.kind === 'column' && e.name === input[i] ? -1 : i)).filter((i) => i >= 0);
  if (changed.length !== 1) return null;
  const at = changed[0]!;
  const e = exprs[at]!;
  if (e.kind !== 'alias' || (at < input.length && e.name !== input[at]) || (at === input.length && input.includes(e.name))) return null;
  return `.withColumn(${py(e.name)}, ${column(e.expr)})`;
}

/** One plan step as a DataFrame method call. */
function step(node: Exclude<PlanNode, { kind: 'source' }>): string {
  switch (node.kind) {
    case 'project': return asWithColumn(node) ?? `.select(${node.exprs.map(column).join(', ')})`;
    case 'filter': return `.filter(${column(node.condition)})`;
    case 'watermark': return `.withWatermark(${py(node.column)}, ${py(node.delay)})`;
    case 'dropDuplicates': return node.columns === null ? '.dropDuplicates()' : `.dropDuplicates([${node.columns.map(py).join(', ')}])`;
    case 'aggregate': return `.groupBy(${node.groupBy.map(column).join(', ')})\n        .agg(${node.aggregates.map(column).join(', ')})`;
    case 'sort': return `.orderBy(${node.orders.map((o) => `${column(o.expr)}.${o.ascending ? 'asc' : 'desc'}()`).join(', ')})`;
  }
}

function sourceLines(source: ExportSource): string[] {
  if (source.kind === 'file') {
    return [
      '    raw = (spark.readStream.format("text")',
      ...(source.maxFilesPerTrigger !== undefined ? [`           .option("maxFilesPerTrigger", ${source.maxFilesPerTrigger})`] : []),
      `           .load(${py(source.path)}))`,
    ];
  }
  return [
    '    raw = (spark.readStream.format("kafka")',
    `           .option("kafka.bootstrap.servers", ${py(source.brokers)})`,
    `           .option("subscribe", ${py(source.topic)})`,
    `           .option("startingOffsets", ${py(source.startingOffsets)})`,
    ...(source.maxOffsetsPerTrigger !== undefined ? [`           .option("maxOffsetsPerTrigger", ${source.maxOffsetsPerTrigger})`] : []),
    ...(source.isolationLevel !== 'read_uncommitted' ? [`           .option("kafka.isolation.level", ${py(source.isolationLevel)})`] : []),
    ...(source.failOnDataLoss ? [] : ['           .option("failOnDataLoss", "false")']),
    '           .load())',
  ];
}

/** Comment lines: `text` wrapped at about 100 columns. */
function comment(text: string): string[] {
  const lines: string[] = [];
  let line = '#';
  for (const word of text.split(/\s+/)) {
    if (line.length + word.length + 1 > 100 && line !== '#') {
      lines.push(line);
      line = '#';
    }
    line += ` ${word}`;
  }
  lines.push(line);
  return lines;
}

/**
 * The PySpark script for `query` over `source`: functions `events(spark)` (the records, parsed as
 * Kindling's source parses them) and `query(events)` (the plan's steps), the constant OUTPUT_MODE,
 * and a main that writes to Spark's console sink.
 */
export function exportPySpark(query: QueryPlan, source: ExportSource, sink: ExportSink, origin: ExportOrigin): string {
  const nodes = chain(query.root);
  const schema = (nodes[0] as Extract<PlanNode, { kind: 'source' }>).schema;
  const steps = nodes.slice(1) as Exclude<PlanNode, { kind: 'source' }>[];
  const submit = source.kind === 'kafka' ? `spark-submit --packages ${KAFKA_PACKAGE} SCRIPT.py` : 'spark-submit SCRIPT.py';
  const trigger = sink.availableNow ? '.trigger(availableNow=True)' : sink.triggerMs ? `.trigger(processingTime=${py(`${sink.triggerMs} milliseconds`)})` : null;
  const lines = [
    '#!/usr/bin/env python3',
    ...comment(`Kindling's query ${query.name} as a PySpark Structured Streaming script${query.description ? `: ${query.description}` : '.'}`),
    ...comment(`Exported by \`${origin.command}\` (Kindling ${origin.kindlingVersion}). Run it on Spark 4.0 with:`),
    `#   ${submit}`,
    ...(source.kind === 'kafka' ? ['#   (the connector\'s version is your Spark\'s: 4.0.4 here; no connector was published for 4.0.5)'] : []),
    '# or on Kindling (no JVM) with: kindling run SCRIPT.py',
    'from pyspark.sql import SparkSession',
    'from pyspark.sql import functions as F',
    '',
    '# The records\' fields, as Kindling\'s source parses each record (from_json: a malformed record gives nulls).',
    `SCHEMA = ${py(schemaToDdl(schema))}`,
    `OUTPUT_MODE = ${py(query.outputMode)}`,
    '',
    '',
    'def events(spark):',
    '    """The source\'s records as rows of SCHEMA."""',
    ...sourceLines(source),
    '    return raw.select(F.from_json(F.col("value").cast("string"), SCHEMA).alias("data")).select("data.*")',
    '',
    '',
    'def query(df):',
    `    """${query.name}: the plan's steps."""`,
    steps.length === 0 ? '    return df' : `    return (df\n        ${steps.map(step).join('\n        ')})`,
    '',
    '',
    'if __name__ == "__main__":',
    `    spark = (SparkSession.builder.appName(${py(query.name)})`,
    '             # Kindling prints and writes timestamps in UTC.',
    '             .config("spark.sql.session.timeZone", "UTC")',
    ...(query.ansi ? [] : ['             .config("spark.sql.ansi.enabled", "false")']),
    '             .getOrCreate())',
    '    running = (query(events(spark)).writeStream',
    '               .outputMode(OUTPUT_MODE)',
    '               .format("console")',
    '               .option("truncate", False)',
    ...(trigger ? [`               ${trigger}`] : []),
    ...(sink.checkpointDir ? [`               .option("checkpointLocation", ${py(sink.checkpointDir)})`] : []),
    '               .start())',
    '    running.awaitTermination()',
    '',
  ];
  return lines.join('\n');
}
