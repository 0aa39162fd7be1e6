// Output schemas of a translated plan (df.schema, df.printSchema(), df.columns): columns resolved by name, function result types as Spark's.
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { Expr } from '../plan/expr.js';
import { parseNamedExpression, parseSelectItem } from '../plan/sql.js';
import { PlanError } from '../plan/types.js';
import { scalarFunctionNames } from '../plan/functions.js';
import { AGGREGATE_NAMES } from '../plan/resolve.js';
import type { ConnectExpr, ConnectRelation, LiteralValue } from './logical.js';
import { analysisError, ConnectError, unsupported } from './errors.js';
import { atomic, parseSchema, struct, type AtomicTypeName, type SqlType, type StructField } from './sql-types.js';
import { where } from './translate-expression.js';
import { parseDurationUs } from '../plan/duration.js';

/** Spark's fixed source schemas (Kafka: KafkaRecordToRowConverter; rate: RateStreamProvider; text: one `value` string). */
const SOURCE_SCHEMAS: Readonly<Record<string, readonly StructField[]>> = {
  kafka: [
    { name: 'key', type: atomic('binary'), nullable: true },
    { name: 'value', type: atomic('binary'), nullable: true },
    { name: 'topic', type: atomic('string'), nullable: true },
    { name: 'partition', type: atomic('int'), nullable: true },
    { name: 'offset', type: atomic('bigint'), nullable: true },
    { name: 'timestamp', type: atomic('timestamp'), nullable: true },
    { name: 'timestampType', type: atomic('int'), nullable: true },
  ],
  rate: [
    { name: 'timestamp', type: atomic('timestamp'), nullable: true },
    { name: 'value', type: atomic('bigint'), nullable: true },
  ],
  text: [{ name: 'value', type: atomic('string'), nullable: true }],
};

const NUMERIC_ORDER: readonly AtomicTypeName[] = ['tinyint', 'smallint', 'int', 'bigint', 'float', 'double'];
const BOOLEAN_FUNCTIONS = new Set(['==', '=', '!=', '<>', '<', '<=', '>', '>=', '<=>', 'and', 'or', 'not', '!', 'in', 'isnull', 'isnotnull', 'contains', 'startswith', 'endswith', 'like']);
const STRING_FUNCTIONS = new Set(['lower', 'upper', 'trim', 'substr', 'substring', 'concat', 'from_unixtime']);
const NEVER_NULL = new Set(['isnull', 'isnotnull', 'count', 'count_distinct', 'approx_count_distinct', '<=>']);
/** The window(...) column: struct<start: timestamp, end: timestamp>. */
const WINDOW_TYPE = struct([
  { name: 'start', type: atomic('timestamp'), nullable: true },
  { name: 'end', type: atomic('timestamp'), nullable: true },
]);

/** The functions Kindling's plan runs (src/plan's registry and aggregates), by Spark's lower-cased name; from_json is the parse step. */
export const SUPPORTED_FUNCTIONS: readonly string[] = [...new Set([...scalarFunctionNames(), ...AGGREGATE_NAMES, 'window', 'from_json'])];

function widerNumeric(types: readonly SqlType[]): SqlType {
  let best = 0;
  for (const t of types) {
    const i = t.kind === 'atomic' ? NUMERIC_ORDER.indexOf(t.name) : -1;
    best = Math.max(best, i === -1 ? NUMERIC_ORDER.length - 1 : i); // strings are cast to double, as Spark does
  }
  return atomic(NUMERIC_ORDER[best]!);
}

function lookup(fields: readonly StructField[], name: string): StructField | undefined {
  const lower = name.toLowerCase();
  return fields.find((f) => f.name.toLowerCase() === lower);
}

function unresolved(name: string, fields: readonly StructField[], origin: string | undefined): Error {
  const names = fields.map((f) => `\`${f.name}\``).join(', ');
  return analysisError('UNRESOLVED_COLUMN.WITH_SUGGESTION', `A column, variable, or function parameter with name \`${name}\` cannot be resolved${where(origin)}. Did you mean one of the following? [${names}].`);
}

/** An interval string ("30 seconds") in milliseconds, read by the plan's parser; a bad one is the user's AnalysisException. */
function durationMs(text: string, what: string): number {
  try {
    return Math.floor(parseDurationUs(text, what) / 1000);
  } catch (err) {
    throw err instanceof PlanError ? analysisError('INVALID_INTERVAL_FORMAT', err.message) : err;
  }
}

/** Splits `a.b`, `` `a.b`.c `` into parts. */
function nameParts(name: string): string[] {
  const parts: string[] = [];
  const re = /`((?:[^`]|``)*)`|([^.`]+)/g;
  for (let m = re.exec(name); m; m = re.exec(name)) parts.push(m[1] !== undefined ? m[1].replace(/``/g, '`') : m[2]!);
  return parts;
}

function resolveColumn(name: string, fields: readonly StructField[], origin: string | undefined): StructField {
  const [first, ...rest] = nameParts(name);
  let field = lookup(fields, first ?? '');
  if (!field) throw unresolved(name, fields, origin);
  for (const part of rest) {
    const inner: StructField | undefined = field.type.kind === 'struct' ? lookup(field.type.fields, part) : undefined;
    if (!inner) throw unresolved(name, field.type.kind === 'struct' ? field.type.fields : fields, origin);
    field = { name: inner.name, type: inner.type, nullable: inner.nullable || field.nullable };
  }
  return field;
}

/** Spark's generated name for an unaliased expression (toPrettySQL): `lower(content)`, `(timestamp / 1000)`, `count(1)`. */
function prettyName(e: ConnectExpr): string {
  switch (e.kind) {
    case 'column': return nameParts(e.name).at(-1) ?? e.name;
    case 'literal': return e.literal.type === 'null' ? 'NULL' : 'value' in e.literal ? String(e.literal.value) : e.literal.type === 'timestamp' ? String(e.literal.valueMicros) : String(e.literal.valueDays);
    case 'alias': return e.name;
    case 'field': return e.field;
    case 'star': return '*';
    case 'sql': return e.text;
    // Spark keeps a cast column's own name: col("value").cast("string") is still `value`.
    case 'cast': return e.expr.kind === 'column' ? prettyName(e.expr) : `CAST(${prettyName(e.expr)} AS ${e.to.kind === 'atomic' ? e.to.name.toUpperCase() : 'STRUCT'})`;
    case 'function': {
      const name = e.name.toLowerCase();
      const args = e.args.map(prettyName);
      const infix: Record<string, string> = { '==': '=', '!=': '!=', '<': '<', '<=': '<=', '>': '>', '>=': '>=', and: 'AND', or: 'OR', '+': '+', '-': '-', '*': '*', '/': '/', '%': '%' };
      if (infix[name] && args.length === 2) return `(${args[0]} ${infix[name]} ${args[1]})`;
      if (name === 'not') return `(NOT ${args[0]})`;
      if (name === 'when') {
        let text = 'CASE';
        for (let i = 0; i + 1 < args.length; i += 2) text += ` WHEN ${args[i]} THEN ${args[i + 1]}`;
        return `${args.length % 2 === 1 ? `${text} ELSE ${args[args.length - 1]}` : text} END`;
      }
      if (name === 'isnull') return `(${args[0]} IS NULL)`;
      if (name === 'isnotnull') return `(${args[0]} IS NOT NULL)`;
      if (name === 'in') return `(${args[0]} IN (${args.slice(1).join(', ')}))`;
      if (name === 'count' && e.args[0]?.kind === 'star') return 'count(1)';
      if (name === 'window') return 'window';
      return `${name}(${e.distinct ? 'DISTINCT ' : ''}${args.join(', ')})`;
    }
  }
}

function stringLiteralArg(e: ConnectExpr | undefined, what: string, origin: string | undefined): string {
  if (e?.kind === 'literal' && e.literal.type === 'string') return e.literal.value;
  throw unsupported(`${what} given as a non-literal${where(origin)}`, 'give it as a string literal.');
}

function sameLiteral(a: ConnectExpr | undefined, b: ConnectExpr | undefined): boolean {
  return a?.kind === 'literal' && b?.kind === 'literal' && JSON.stringify(a.literal, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)) === JSON.stringify(b.literal, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
}

function functionType(e: ConnectExpr & { kind: 'function' }, fields: readonly StructField[]): { type: SqlType; nullable: boolean } {
  const name = e.name.toLowerCase();
  // The outermost unknown function is the one to name (explode(split(...)) names explode).
  if (!SUPPORTED_FUNCTIONS.includes(name)) throw unsupportedFunction(e);
  // Options come as a map(...) argument: name them, not the map function.
  if (name === 'from_json' && e.args.length > 2) throw unsupported(`from_json options${where(e.origin)}`, 'Kindling parses as Spark does by default (PERMISSIVE).');
  const args = e.args.map((a) => (a.kind === 'star' ? { name: '*', type: atomic('int'), nullable: false } : typed(a, fields)));
  const nullable = NEVER_NULL.has(name) ? false : args.some((a) => a.nullable);
  if (BOOLEAN_FUNCTIONS.has(name)) return { type: atomic('boolean'), nullable };
  if (STRING_FUNCTIONS.has(name)) return { type: atomic('string'), nullable };
  switch (name) {
    // Spark's Divide and Average are nullable whatever their input (a division by zero, an empty group).
    case '/': case 'avg': case 'mean': return { type: atomic('double'), nullable: true };
    case '+': case '-': case '*': case '%': case 'negative': case '-u': case 'abs': return { type: widerNumeric(args.map((a) => a.type)), nullable };
    case 'div': return { type: atomic('bigint'), nullable: true };
    case 'length': case 'char_length': case 'character_length': return { type: atomic('int'), nullable };
    case 'coalesce': return { type: args.find((a) => !(a.type.kind === 'atomic' && a.type.name === 'void'))?.type ?? atomic('void'), nullable: args.every((a) => a.nullable) };
    case 'when': {
      // CASE WHEN: null when no branch holds and there is no ELSE, or when a chosen value is.
      const values = args.filter((_, i) => i % 2 === 1 || (i === args.length - 1 && args.length % 2 === 1));
      return { type: args[1]?.type ?? atomic('void'), nullable: args.length % 2 === 0 || values.some((v) => v.nullable) };
    }
    case 'to_timestamp': return { type: atomic('timestamp'), nullable: true };
    case 'count': case 'count_distinct': case 'approx_count_distinct': return { type: atomic('bigint'), nullable: false };
    case 'sum': return { type: args[0]?.type.kind === 'atomic' && NUMERIC_ORDER.indexOf(args[0].type.name) <= 3 ? atomic('bigint') : atomic('double'), nullable: true };
    case 'min': case 'max': case 'first': return { type: args[0]?.type ?? atomic('void'), nullable: true };
    // A tumbling window always holds its row; a sliding one is an expansion Spark marks nullable.
    case 'window':
      for (const arg of e.args.slice(1)) durationMs(stringLiteralArg(arg, 'A window duration', e.origin), `window${where(e.origin)}`);
      return { type: WINDOW_TYPE, nullable: e.args.length > 2 && !sameLiteral(e.args[1], e.args[2]) };
    case 'from_json': return { type: parseSchema(stringLiteralArg(e.args[1], 'The schema of from_json', e.origin), `from_json${where(e.origin)}`), nullable: true };
    default:
      throw unsupportedFunction(e);
  }
}

/** The supported functions as a refusal lists them: names, then operators. */
export function supportedFunctionsText(): string {
  const words = SUPPORTED_FUNCTIONS.filter((f) => /^[a-z_]+$/.test(f));
  const operators = SUPPORTED_FUNCTIONS.filter((f) => !/^[a-z_]+$/.test(f));
  return `Kindling's functions are ${words.join(', ')}, and the operators ${operators.join(' ')}`;
}

function unsupportedFunction(e: ConnectExpr & { kind: 'function' }): Error {
  return unsupported(`the function ${e.name}(...)${where(e.origin)}`, supportedFunctionsText());
}

/** A src/plan expression (what its SQL parser returns) as a Connect expression, so SQL strings are typed like the rest. */
function fromPlanExpr(e: Expr, origin: string | undefined): ConnectExpr {
  switch (e.kind) {
    case 'column': return { kind: 'column', name: e.name, planId: undefined, origin };
    case 'star': return { kind: 'star', target: null, origin };
    case 'alias': return { kind: 'alias', expr: fromPlanExpr(e.expr, origin), name: e.name, origin };
    case 'cast': return { kind: 'cast', expr: fromPlanExpr(e.expr, origin), to: atomic(e.to === 'long' ? 'bigint' : e.to), mode: 'default', origin };
    case 'call': return { kind: 'function', name: e.name, args: e.args.map((a) => fromPlanExpr(a, origin)), distinct: false, origin };
    case 'literal': {
      const v = e.value;
      const literal: LiteralValue =
        v === null ? { type: 'null' }
        : typeof v === 'string' ? { type: 'string', value: v }
        : typeof v === 'boolean' ? { type: 'boolean', value: v }
        : e.type === 'double' ? { type: 'double', value: v }
        : { type: e.type === 'long' ? 'bigint' : 'int', value: BigInt(v) };
      return { kind: 'literal', literal, origin };
    }
  }
}

/** A SQL string (expr(), selectExpr(), filter("...")) parsed by Kindling's SQL parser; a parse error names the position. */
function parseSql(e: ConnectExpr & { kind: 'sql' }, item: boolean): ConnectExpr {
  try {
    const parsed = item ? parseSelectItem(e.text) : parseNamedExpression(e.text);
    return parsed === '*' ? { kind: 'star', target: null, origin: e.origin } : fromPlanExpr(parsed, e.origin);
  } catch (err) {
    if (err instanceof PlanError) throw new ConnectError(GrpcStatus.INVALID_ARGUMENT, 'org.apache.spark.sql.catalyst.parser.ParseException', 'PARSE_SYNTAX_ERROR', `${err.message} in "${e.text}"${where(e.origin)}.`);
    throw err;
  }
}

/** An expression's output column: name, type and nullability as df.schema shows them. */
export function typed(e: ConnectExpr, fields: readonly StructField[]): StructField {
  switch (e.kind) {
    case 'column': {
      const f = resolveColumn(e.name, fields, e.origin);
      return f;
    }
    case 'literal': {
      const t = e.literal.type;
      return { name: prettyName(e), type: atomic(t === 'null' ? 'void' : t), nullable: t === 'null' };
    }
    case 'alias': return { ...typed(e.expr, fields), name: e.name };
    case 'field': {
      const inner = typed(e.expr, fields);
      const f = inner.type.kind === 'struct' ? lookup(inner.type.fields, e.field) : undefined;
      if (!f) throw unresolved(`${inner.name}.${e.field}`, inner.type.kind === 'struct' ? inner.type.fields : fields, e.origin);
      return { name: f.name, type: f.type, nullable: f.nullable || inner.nullable };
    }
    case 'cast': return { name: prettyName(e), type: e.to, nullable: typed(e.expr, fields).nullable || e.mode === 'try' };
    case 'function': {
      const f: StructField = { name: prettyName(e), ...functionType(e, fields) };
      if (e.name.toLowerCase() !== 'window') return f;
      // TimeWindowing: the window column keeps its time column's metadata (the watermark) and is marked as a window.
      const time = e.args[0] ? typed(e.args[0], fields) : undefined;
      return { ...f, metadata: { ...time?.metadata, 'spark.timeWindow': true } };
    }
    case 'sql': return typed(parseSql(e, false), fields);
    case 'star': throw unsupported(`A star (*) inside an expression${where(e.origin)}`, 'use select("*") or select("struct.*").');
  }
}

function projectFields(item: ConnectExpr, fields: readonly StructField[]): StructField[] {
  const e = item.kind === 'sql' ? parseSql(item, true) : item;
  if (e.kind !== 'star') return [typed(e, fields)];
  if (e.target === null || e.target === '*') return [...fields];
  const column = resolveColumn(e.target.replace(/\.\*$/, ''), fields, e.origin);
  if (column.type.kind !== 'struct') throw analysisError('CANNOT_RESOLVE_STAR_EXPAND', `Cannot resolve ${e.target}: ${column.name} is not a struct${where(e.origin)}.`);
  return column.type.fields.map((f) => ({ ...f, nullable: f.nullable || column.nullable }));
}

/** The output columns of a relation, as Spark's analyzer would report them for this plan. */
export function resolveSchema(r: ConnectRelation): StructField[] {
  switch (r.kind) {
    case 'read': return r.schema?.kind === 'struct' ? [...r.schema.fields] : [...(SOURCE_SCHEMAS[r.format] ?? [])];
    case 'project': {
      const input = resolveSchema(r.input);
      return r.expressions.flatMap((e) => projectFields(e, input));
    }
    case 'withColumns': {
      const out = resolveSchema(r.input);
      for (const c of r.columns) {
        const f = { ...typed(c.expr, out), name: c.name };
        const at = out.findIndex((o) => o.name.toLowerCase() === c.name.toLowerCase());
        if (at === -1) out.push(f);
        else out[at] = f;
      }
      return out;
    }
    case 'withWatermark': {
      const input = resolveSchema(r.input);
      const column = resolveColumn(r.eventTime, input, undefined);
      if (!(column.type.kind === 'atomic' && column.type.name === 'timestamp') && !column.metadata?.['spark.timeWindow']) {
        throw analysisError('EVENT_TIME_IS_NOT_ON_TIMESTAMP_TYPE', `The event time \`${r.eventTime}\` has the invalid type "${column.type.kind === 'atomic' ? column.type.name.toUpperCase() : 'STRUCT'}", but expected "TIMESTAMP".`);
      }
      const delayMs = durationMs(r.delay, `withWatermark("${r.eventTime}", "${r.delay}")`);
      // EventTimeWatermark marks the event-time column with its delay; windows over it inherit the mark.
      return input.map((f) => (f.name.toLowerCase() === column.name.toLowerCase() ? { ...f, metadata: { ...f.metadata, 'spark.watermarkDelayMs': delayMs } } : f));
    }
    case 'aggregate': {
      const input = resolveSchema(r.input);
      // Spark marks the names it generated for unaliased aggregates (`sum(value)`), not an alias in a SQL string (`expr("count(*) AS n")`).
      const aggregates = r.aggregates.map((e) => {
        const named = e.kind === 'sql' ? parseSql(e, false) : e;
        return named.kind === 'alias' ? typed(named, input) : { ...typed(named, input), metadata: { __autoGeneratedAlias: 'true' } };
      });
      return [...r.groupBy.map((e) => typed(e, input)), ...aggregates];
    }
    case 'toDF': {
      const input = resolveSchema(r.input);
      if (input.length !== r.names.length) throw analysisError('INVALID_COLUMN_NAMES', `toDF got ${r.names.length} names for ${input.length} columns.`);
      return input.map((f, i) => ({ ...f, name: r.names[i]! }));
    }
    case 'filter': {
      const input = resolveSchema(r.input);
      typed(r.condition, input);
      return input;
    }
    case 'deduplicate': {
      const input = resolveSchema(r.input);
      if (r.columns !== 'all') for (const c of r.columns) resolveColumn(c, input, undefined);
      return input;
    }
    case 'sort': {
      const input = resolveSchema(r.input);
      for (const k of r.order) typed(k.expr, input);
      return input;
    }
    case 'alias':
      return resolveSchema(r.input);
  }
}
