// Maps a translated Spark Connect plan one to one onto Kindling's query plan (src/plan), and checks it as Spark checks a query at start().
import { analyzePlan, checkStreaming, type OutputMode, type PlanNode, type QueryPlan } from '../plan/plan.js';
import { literal, type Expr } from '../plan/expr.js';
import { schemaOf, type Schema } from '../plan/schema.js';
import { parseNamedExpression, parseSelectItem } from '../plan/sql.js';
import { PlanError, type FieldType } from '../plan/types.js';
import { analysisError, unsupported } from './errors.js';
import { resolveSchema } from './resolve.js';
import { rateOptions } from './source-options.js';
import type { ConnectExpr, ConnectRelation, StreamingWrite } from './logical.js';
import { parseSchema, type SqlType } from './sql-types.js';
import { where } from './translate-expression.js';

/** Where the records come from: the source part of the plan, which Kindling's plan leaves to its Source. */
export interface SourceSpec {
  readonly format: string;
  readonly options: Readonly<Record<string, string>>;
  readonly paths: readonly string[];
}

/** A Spark Connect plan as Kindling runs it: the source, and the query over the parsed records. */
export interface MappedPlan {
  readonly source: SourceSpec;
  readonly root: PlanNode;
}

const FIELD_TYPES: Readonly<Record<string, FieldType>> = { string: 'string', bigint: 'long', int: 'int', double: 'double', boolean: 'boolean', timestamp: 'timestamp' };

function fieldType(t: SqlType, what: string): FieldType {
  const f = t.kind === 'atomic' ? FIELD_TYPES[t.name] : undefined;
  if (!f) throw unsupported(`The type ${t.kind === 'atomic' ? t.name : 'struct'} in ${what}`, "Kindling's plan has the types string, bigint, int, double, boolean and timestamp.");
  return f;
}

function planSchema(t: SqlType, what: string): Schema {
  if (t.kind !== 'struct') throw unsupported(`A non-struct schema in ${what}`);
  return schemaOf(t.fields.map((f) => ({ name: f.name, type: fieldType(f.type, `${what}, field ${f.name}`) })));
}

/** The parse step Spark writes as select(from_json(value, schema).alias(name)): the struct's name and fields, while they are in scope. */
interface Parsed {
  readonly name: string;
  readonly fields: readonly string[];
}

/** Context while mapping one relation's expressions. */
interface Scope {
  readonly columns: readonly string[];
  readonly parsed: Parsed | null;
}

function columnName(name: string, scope: Scope, origin: string | undefined): string {
  const p = scope.parsed;
  if (p && name.toLowerCase().startsWith(`${p.name.toLowerCase()}.`)) return name.slice(p.name.length + 1);
  if (p && name.toLowerCase() === p.name.toLowerCase()) {
    throw unsupported(`Using the parsed struct ${name} as one column${where(origin)}`, `Kindling's plan continues from its fields: select("${name}.*") or col("${name}.field").`);
  }
  return name;
}

/** One Spark Connect expression as a src/plan expression. `star` items are expanded by the caller. */
function expr(e: ConnectExpr, scope: Scope): Expr {
  switch (e.kind) {
    case 'column': return { kind: 'column', name: columnName(e.name, scope, e.origin) };
    case 'literal': {
      const l = e.literal;
      switch (l.type) {
        case 'null': return literal(null);
        case 'string': return literal(l.value, 'string');
        case 'boolean': return literal(l.value, 'boolean');
        case 'double': case 'float': return literal(l.value, 'double');
        case 'int': case 'tinyint': case 'smallint': return literal(Number(l.value), 'int');
        case 'bigint':
          if (l.value > BigInt(Number.MAX_SAFE_INTEGER) || l.value < BigInt(Number.MIN_SAFE_INTEGER)) throw unsupported(`The literal ${l.value}L beyond 2^53${where(e.origin)}`);
          return literal(Number(l.value), 'long');
        default: throw unsupported(`A ${l.type} literal${where(e.origin)}`, 'write it as a string and cast it, e.g. lit("2024-11-25 10:40:00").cast("timestamp").');
      }
    }
    case 'function': {
      const name = e.name.toLowerCase();
      if (name === 'from_json') throw unsupported(`from_json(...) after the parse step${where(e.origin)}`, 'parse the record once, first: select(from_json(col("value").cast("string"), schema).alias("data")).select("data.*").');
      // count_distinct / countDistinct arrive as count with isDistinct: the plan's count_distinct, which the checker
      // refuses as Spark does; DISTINCT on another function is never dropped either.
      if (e.distinct && name !== 'count') throw analysisError('KINDLING_PLAN', `${name}(DISTINCT ...): distinct aggregations are not supported on streaming DataFrames, as in Spark; use approx_count_distinct${where(e.origin)}`);
      return { kind: 'call', name: e.distinct ? 'count_distinct' : name, args: e.args.map((a) => (a.kind === 'star' ? { kind: 'star' } : expr(a, scope))) };
    }
    case 'cast':
      if (e.mode === 'try') throw unsupported(`try_cast${where(e.origin)}`, 'use cast(...): without ANSI mode (spark.sql.ansi.enabled=false) a failed cast is null.');
      return { kind: 'cast', expr: expr(e.expr, scope), to: fieldType(e.to, `cast${where(e.origin)}`) };
    case 'alias': return { kind: 'alias', expr: expr(e.expr, scope), name: e.name };
    case 'sql': return parseNamedExpression(e.text);
    case 'field': {
      if (e.expr.kind === 'column') return { kind: 'column', name: columnName(`${e.expr.name}.${e.field}`, scope, e.origin) };
      throw unsupported(`Extracting a field from an expression${where(e.origin)}`, 'select the struct\'s fields with col("struct.field").');
    }
    case 'star': throw unsupported(`A star (*) inside an expression${where(e.origin)}`, 'use select("*") or select("struct.*").');
  }
}

/** A select list with stars expanded: `*` is every column, `data.*` the parsed struct's fields. */
function selectList(items: readonly ConnectExpr[], scope: Scope): Expr[] {
  return items.flatMap((item): Expr[] => {
    if (item.kind === 'sql') {
      const parsed = parseSelectItem(item.text);
      return parsed === '*' ? scope.columns.map((name) => ({ kind: 'column', name })) : [parsed];
    }
    if (item.kind !== 'star') return [expr(item, scope)];
    const target = item.target?.replace(/\.\*$/, '') ?? null;
    if (target === null || target === '*') return scope.columns.map((name) => ({ kind: 'column', name }));
    if (scope.parsed && target.toLowerCase() === scope.parsed.name.toLowerCase()) return scope.parsed.fields.map((name) => ({ kind: 'column', name }));
    throw unsupported(`select("${item.target}")${where(item.origin)}`, 'Kindling expands the parsed record\'s struct only.');
  });
}

/** The relations from the source up to `root`, in order. */
function chainOf(root: ConnectRelation): ConnectRelation[] {
  const nodes: ConnectRelation[] = [];
  for (let n: ConnectRelation = root; ; n = n.input) {
    nodes.unshift(n);
    if (n.kind === 'read') return nodes;
  }
}

/** True for an expression that is the record's text: value, CAST(value AS STRING), or a SQL string saying so. */
function isRecordText(e: ConnectExpr, textColumn: string): boolean {
  if (e.kind === 'alias') return isRecordText(e.expr, textColumn);
  if (e.kind === 'column') return e.name.toLowerCase() === textColumn.toLowerCase();
  if (e.kind === 'cast') return e.to.kind === 'atomic' && e.to.name === 'string' && isRecordText(e.expr, textColumn);
  if (e.kind === 'sql') return new RegExp(`^\\s*CAST\\s*\\(\\s*${textColumn}\\s+AS\\s+STRING\\s*\\)(\\s+(AS\\s+)?\\w+)?\\s*$`, 'i').test(e.text) || new RegExp(`^\\s*${textColumn}\\s*$`, 'i').test(e.text);
  return false;
}

function aliasName(e: ConnectExpr, fallback: string): string {
  if (e.kind === 'alias') return e.name;
  if (e.kind === 'sql') return /\s(?:AS\s+)?(\w+)\s*$/i.exec(e.text.replace(/^\s*CAST\s*\(.*\)/i, ' x'))?.[1] ?? fallback;
  return fallback;
}

/**
 * Finds the parse step: for kafka and text sources, `select(from_json(<value as text>, schema).alias(name))`
 * (after optional selects of the value as text). Returns the schema, the struct's name and where the rest begins.
 */
function parseStep(nodes: readonly ConnectRelation[], format: string): { schema: Schema; parsed: Parsed | null; next: number } {
  const read = nodes[0] as Extract<ConnectRelation, { kind: 'read' }>;
  if (format === 'json') {
    if (!read.schema) throw analysisError('STREAMING_SCHEMA_REQUIRED', 'Schema must be specified when creating a streaming source DataFrame.');
    return { schema: planSchema(read.schema, 'spark.readStream.schema(...)'), parsed: null, next: 1 };
  }
  // The rate source's rows are typed already: (timestamp, value), Spark's fixed schema.
  if (format === 'rate') {
    rateOptions(read.options); // refused at start(), before any batch
    return { schema: planSchema({ kind: 'struct', fields: resolveSchema(read) }, 'the rate source'), parsed: null, next: 1 };
  }
  const how = 'parse the record first: select(from_json(col("value").cast("string"), schema).alias("data")).select("data.*")';
  if (format !== 'kafka' && format !== 'text') throw unsupported(`Running the ${format} source through Kindling's plan`, "this build's plan reads JSON records from kafka, text and json sources, and the rate source.");
  let text = 'value';
  for (let i = 1; i < nodes.length; i++) {
    const n = nodes[i]!;
    if (n.kind === 'alias') continue;
    if (n.kind !== 'project' || n.expressions.length !== 1) break;
    const only = n.expressions[0]!;
    const inner = only.kind === 'alias' ? only.expr : only;
    if (inner.kind === 'function' && inner.name.toLowerCase() === 'from_json') {
      const [record, schemaArg, options] = inner.args;
      if (!record || !isRecordText(record, text)) break;
      if (options) throw unsupported(`from_json options${where(inner.origin)}`, 'Kindling parses as Spark does by default (PERMISSIVE).');
      if (schemaArg?.kind !== 'literal' || schemaArg.literal.type !== 'string') throw unsupported(`A from_json schema that is not a literal${where(inner.origin)}`);
      // Spark's analyzer read the schema already (resolve.ts); the plan takes the same text.
      const schema = planSchema(parseSchema(schemaArg.literal.value, 'from_json'), 'from_json(...)');
      return { schema, parsed: { name: aliasName(only, 'from_json'), fields: schema.fields.map((f) => f.name) }, next: i + 1 };
    }
    if (!isRecordText(only, text)) break;
    text = aliasName(only, text);
  }
  throw unsupported(`A ${format} stream that is not parsed with from_json`, how);
}

function columnsOf(node: PlanNode): string[] {
  return analyzePlan(node, { ansi: true }).columns.map((c) => c.name);
}

/** Maps a streaming relation onto Kindling's plan; throws a ConnectError naming what has no counterpart. */
export function toPlan(root: ConnectRelation): MappedPlan {
  const nodes = chainOf(root);
  const read = nodes[0] as Extract<ConnectRelation, { kind: 'read' }>;
  const { schema, parsed, next } = parseStep(nodes, read.format);
  // Spark's json file source reads no row from a blank line; from_json over text or kafka makes one a row of nulls.
  let node: PlanNode = read.format === 'json' ? { kind: 'source', schema, skipBlankLines: true } : { kind: 'source', schema };
  let scope: Scope = { columns: schema.fields.map((f) => f.name), parsed };
  try {
    for (const r of nodes.slice(next)) {
      switch (r.kind) {
        case 'read': throw analysisError('INVALID_PLAN', 'A plan has one source.');
        case 'project': {
          const exprs = selectList(r.expressions, scope);
          // select("data.*") right after the parse step names the columns the source already has: no step.
          const identity = exprs.length === scope.columns.length && exprs.every((e, i) => e.kind === 'column' && e.name === scope.columns[i]);
          if (!identity) node = { kind: 'project', input: node, exprs };
          break;
        }
        case 'filter': node = { kind: 'filter', input: node, condition: expr(r.condition, scope) }; break;
        case 'withColumns': {
          const exprs: Expr[] = scope.columns.map((name) => ({ kind: 'column', name }));
          for (const c of r.columns) {
            const named: Expr = { kind: 'alias', expr: expr(c.expr, scope), name: c.name };
            const at = scope.columns.findIndex((name) => name.toLowerCase() === c.name.toLowerCase());
            if (at >= 0) exprs[at] = named;
            else exprs.push(named);
          }
          node = { kind: 'project', input: node, exprs };
          break;
        }
        case 'withWatermark': node = { kind: 'watermark', input: node, column: columnName(r.eventTime, scope, undefined), delay: r.delay }; break;
        case 'deduplicate': node = { kind: 'dropDuplicates', input: node, columns: r.columns === 'all' ? null : r.columns.map((c) => columnName(c, scope, undefined)) }; break;
        case 'aggregate': node = { kind: 'aggregate', input: node, groupBy: r.groupBy.map((e) => expr(e, scope)), aggregates: r.aggregates.map((e) => expr(e, scope)) }; break;
        case 'sort':
          node = {
            kind: 'sort',
            input: node,
            orders: r.order.map((k) => {
              if (k.nullsFirst === k.descending) throw unsupported(`orderBy with ${k.nullsFirst ? 'nulls first' : 'nulls last'} on a ${k.descending ? 'descending' : 'ascending'} key`, "Kindling sorts nulls as Spark's default does: first ascending, last descending.");
              return { expr: expr(k.expr, scope), ascending: !k.descending };
            }),
          };
          break;
        case 'toDF': {
          if (r.names.length !== scope.columns.length) throw analysisError('INVALID_COLUMN_NAMES', `toDF got ${r.names.length} names for ${scope.columns.length} columns.`);
          node = { kind: 'project', input: node, exprs: scope.columns.map((name, i) => ({ kind: 'alias', expr: { kind: 'column', name }, name: r.names[i]! })) };
          break;
        }
        case 'alias': break;
      }
      const columns = columnsOf(node);
      // The parsed struct stays addressable by name until a step drops its fields.
      scope = { columns, parsed: scope.parsed && scope.parsed.fields.every((f) => columns.includes(f)) ? scope.parsed : null };
    }
  } catch (err) {
    throw err instanceof PlanError ? analysisError('KINDLING_PLAN', err.message) : err;
  }
  return { source: { format: read.format, options: read.options, paths: read.paths }, root: node };
}

/** What writeStream...start() would run: the mapped plan, checked for its output mode as Spark checks at start(). */
export function toQuery(write: StreamingWrite, ansi: boolean): { source: SourceSpec; query: QueryPlan } {
  const { source, root } = toPlan(write.input);
  const outputMode = write.outputMode as OutputMode;
  try {
    checkStreaming(analyzePlan(root, { ansi }), outputMode);
  } catch (err) {
    throw err instanceof PlanError ? analysisError('KINDLING_PLAN', err.message) : err;
  }
  return { source, query: { name: write.queryName || 'pyspark', root, outputMode, ansi } };
}
