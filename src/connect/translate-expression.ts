// Spark Connect expressions (protobuf) to Kindling's plain expression tree: one function per expression kind; refused kinds name themselves.
import type { Expression, Expression_Literal } from './gen/spark/connect/expressions_pb.js';
import { Expression_Cast_EvalMode } from './gen/spark/connect/expressions_pb.js';
import type { ConnectExpr, LiteralValue, Origin } from './logical.js';
import { analysisError, unsupported } from './errors.js';
import { fromProtoType, parseTypeName } from './sql-types.js';
import { refuseNewerFields } from './newer-fields.js';

/** "filter at lab.py:12" from the origin PySpark attaches (spark.python.sql.dataFrameDebugging.enabled). */
export function originOf(origin: { function?: { case: string | undefined; value?: unknown } } | undefined): Origin {
  const fn = origin?.function;
  if (fn?.case !== 'pythonOrigin') return undefined;
  const python = fn.value as { fragment: string; callSite: string };
  return python.callSite ? `${python.fragment} at ${python.callSite}` : python.fragment || undefined;
}

/** " (in filter at lab.py:12)" for a message, or nothing. */
export function where(origin: Origin): string {
  return origin ? ` (${origin})` : '';
}

/** Expression kinds Kindling refuses, as a PySpark user writes them, and what to use instead. */
const REFUSED_EXPRESSIONS: Readonly<Record<string, readonly [string, string?]>> = {
  unresolvedRegex: ['df.colRegex(...)', 'name the columns with col(...)'],
  lambdaFunction: ['Higher-order functions with a lambda (transform, filter, aggregate over arrays)'],
  window: ['Window functions (over(Window...))', 'for event-time windows use groupBy(window(col, "10 seconds"), ...)'],
  updateFields: ['Column.withField/dropFields'],
  unresolvedNamedLambdaVariable: ['Lambda variables'],
  commonInlineUserDefinedFunction: ['User-defined functions (udf, pandas_udf)', 'write the logic with built-in functions from pyspark.sql.functions'],
  namedArgumentExpression: ['Named function arguments'],
  mergeAction: ['MERGE INTO actions'],
  typedAggregateExpression: ['Typed aggregate expressions'],
  subqueryExpression: ['Subquery expressions'],
  extension: ['Expression extensions'],
  sortOrder: ['A sort order outside orderBy/sort'],
};

function literal(lit: Expression_Literal, origin: Origin): LiteralValue {
  const l = lit.literalType;
  switch (l.case) {
    case 'null': return { type: 'null' };
    case 'string': return { type: 'string', value: l.value };
    case 'boolean': return { type: 'boolean', value: l.value };
    case 'byte': return { type: 'tinyint', value: BigInt(l.value) };
    case 'short': return { type: 'smallint', value: BigInt(l.value) };
    case 'integer': return { type: 'int', value: BigInt(l.value) };
    case 'long': return { type: 'bigint', value: l.value };
    case 'float': return { type: 'float', value: l.value };
    case 'double': return { type: 'double', value: l.value };
    case 'timestamp': return { type: 'timestamp', valueMicros: l.value };
    case 'date': return { type: 'date', valueDays: l.value };
    default:
      throw unsupported(`A ${l.case ?? 'missing'} literal${where(origin)}`, 'Kindling takes string, boolean, integer, floating-point, timestamp and date literals.');
  }
}

/** Translates one expression; throws a ConnectError naming the first kind or function Kindling refuses. */
export function translateExpression(expr: Expression | undefined): ConnectExpr {
  if (!expr) throw analysisError('INVALID_PLAN', 'An expression is missing from the plan.');
  const origin = originOf(expr.common?.origin);
  const e = expr.exprType;
  refuseNewerFields(expr, `An expression${where(origin)}`);
  refuseNewerFields(e.value, `The expression ${e.case ?? ''}${where(origin)}`);
  switch (e.case) {
    case 'literal':
      return { kind: 'literal', literal: literal(e.value, origin), origin };
    case 'unresolvedAttribute':
      if (e.value.isMetadataColumn) throw unsupported(`Metadata column ${e.value.unparsedIdentifier}${where(origin)}`);
      return { kind: 'column', name: e.value.unparsedIdentifier, planId: e.value.planId === undefined ? undefined : Number(e.value.planId), origin };
    case 'unresolvedFunction':
      if (e.value.isUserDefinedFunction) throw unsupported(`User-defined function ${e.value.functionName}${where(origin)}`, 'write the logic with built-in functions from pyspark.sql.functions');
      return { kind: 'function', name: e.value.functionName, args: e.value.arguments.map(translateExpression), distinct: e.value.isDistinct, origin };
    case 'callFunction':
      return { kind: 'function', name: e.value.functionName, args: e.value.arguments.map(translateExpression), distinct: false, origin };
    case 'expressionString':
      return { kind: 'sql', text: e.value.expression, origin };
    case 'unresolvedStar':
      return { kind: 'star', target: e.value.unparsedTarget ?? null, origin };
    case 'alias':
      if (e.value.name.length !== 1) throw unsupported(`An alias with ${e.value.name.length} names${where(origin)}`, 'give one name per column.');
      return { kind: 'alias', expr: translateExpression(e.value.expr), name: e.value.name[0]!, origin };
    case 'cast': {
      const t = e.value.castToType;
      const context = `cast${where(origin)}`;
      const to = t.case === 'typeStr' ? parseTypeName(t.value, context) : fromProtoType(t.value, context);
      if (e.value.evalMode === Expression_Cast_EvalMode.ANSI) throw unsupported(`An ANSI cast${where(origin)}`, 'use cast(...) or try_cast(...).');
      return { kind: 'cast', expr: translateExpression(e.value.expr), to, mode: e.value.evalMode === Expression_Cast_EvalMode.TRY ? 'try' : 'default', origin };
    }
    case 'unresolvedExtractValue': {
      const extraction = translateExpression(e.value.extraction);
      if (extraction.kind !== 'literal' || extraction.literal.type !== 'string') throw unsupported(`Extracting a value by a non-string key${where(origin)}`, 'use col("struct.field") for a struct field.');
      return { kind: 'field', expr: translateExpression(e.value.child), field: extraction.literal.value, origin };
    }
    case undefined:
      throw analysisError('INVALID_PLAN', `An expression of a kind this protocol version does not define${where(origin)}: is the client newer than Spark Connect 4.0?`);
    default: {
      const refused = REFUSED_EXPRESSIONS[e.case];
      const name = e.case === 'commonInlineUserDefinedFunction' ? `${refused![0]} (${(e.value as { functionName: string }).functionName})` : (refused?.[0] ?? `Expression kind ${e.case}`);
      throw unsupported(`${name}${where(origin)}`, refused?.[1]);
    }
  }
}
