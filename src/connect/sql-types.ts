// Spark SQL data types as Kindling reads and writes them: DDL strings, StructType JSON, type names, and protobuf DataType.
import { create } from '@bufbuild/protobuf';
import { DataTypeSchema, type DataType } from './gen/spark/connect/types_pb.js';
import { parseDdlFields } from '../plan/schema.js';
import { PlanError } from '../plan/types.js';
import { analysisError } from './errors.js';

/** A primitive type by Spark's simpleString name. */
export type AtomicTypeName = 'string' | 'binary' | 'boolean' | 'tinyint' | 'smallint' | 'int' | 'bigint' | 'float' | 'double' | 'timestamp' | 'date' | 'void';

/** A Spark SQL type: atomic, or a struct of named fields (the window column, from_json's result, kafka rows). */
export type SqlType = { readonly kind: 'atomic'; readonly name: AtomicTypeName } | { readonly kind: 'struct'; readonly fields: readonly StructField[] };

/** One named column of a struct; `nullable` as Spark reports it in df.schema. */
export interface StructField {
  readonly name: string;
  readonly type: SqlType;
  readonly nullable: boolean;
  /** Spark's column metadata, e.g. `spark.watermarkDelayMs` on an event-time column; absent when empty. */
  readonly metadata?: Readonly<Record<string, string | number | boolean>>;
}

export const atomic = (name: AtomicTypeName): SqlType => ({ kind: 'atomic', name });
export const struct = (fields: readonly StructField[]): SqlType => ({ kind: 'struct', fields });

// Every spelling Spark's parser accepts for the atomic types (case-insensitive), and JSON's names.
const ATOMIC_ALIASES: Readonly<Record<string, AtomicTypeName>> = {
  string: 'string', varchar: 'string', char: 'string',
  binary: 'binary',
  boolean: 'boolean', bool: 'boolean',
  tinyint: 'tinyint', byte: 'tinyint',
  smallint: 'smallint', short: 'smallint',
  int: 'int', integer: 'int',
  bigint: 'bigint', long: 'bigint',
  float: 'float', real: 'float',
  double: 'double',
  timestamp: 'timestamp', timestamp_ltz: 'timestamp',
  date: 'date',
  void: 'void', null: 'void',
};

/** Spark's simpleString of a type: `bigint`, `struct<start:timestamp,end:timestamp>`. */
export function simpleString(type: SqlType): string {
  return type.kind === 'atomic' ? type.name : `struct<${type.fields.map((f) => `${f.name}:${simpleString(f.type)}`).join(',')}>`;
}

/** The atomic type a name denotes (a cast's "timestamp", "long", "int", "string", ...), or a clear error. */
export function parseTypeName(text: string, context: string): SqlType {
  const trimmed = text.trim();
  const name = ATOMIC_ALIASES[trimmed.toLowerCase().replace(/\(\s*\d+\s*\)$/, '')];
  if (name) return atomic(name);
  if (/^struct\s*</i.test(trimmed)) return parseDdlType(trimmed, context);
  throw analysisError('UNSUPPORTED_DATATYPE', `Unsupported data type "${trimmed}" in ${context}: Kindling handles string, binary, boolean, tinyint, smallint, int, bigint, float, double, timestamp, date and struct<...>.`);
}

function parseDdlType(text: string, context: string): SqlType {
  const m = /^struct\s*<(.*)>$/is.exec(text.trim());
  if (m) return struct(parseFieldList(m[1]!, context));
  return parseTypeName(text, context);
}

/** A DDL column list, by the plan's DDL grammar (src/plan/schema.ts), with Spark's types and nested structs. */
function parseFieldList(text: string, context: string): StructField[] {
  let fields;
  try {
    fields = parseDdlFields(text);
  } catch (err) {
    if (err instanceof PlanError) throw analysisError('PARSE_SYNTAX_ERROR', `Cannot parse the schema in ${context}: ${err.message}.`);
    throw err;
  }
  return fields.map((f) => ({ name: f.name, type: parseDdlType(f.typeText, context), nullable: !f.notNull }));
}

/**
 * A schema as given to `.schema(...)`, `from_json(..., schema)` or `spark.readStream.schema(...)`: a DDL
 * string ("timestamp LONG, user_id STRING") or StructType JSON (what PySpark sends for a StructType).
 */
export function parseSchema(text: string, context: string): SqlType {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) return fromJsonType(JSON.parse(trimmed) as unknown, context);
  if (/^struct\s*</i.test(trimmed)) return parseDdlType(trimmed, context);
  return struct(parseFieldList(trimmed, context));
}

function fromJsonType(json: unknown, context: string): SqlType {
  if (typeof json === 'string') return parseTypeName(json === 'long' ? 'bigint' : json, context);
  const obj = json as { type?: unknown; fields?: unknown };
  if (obj && obj.type === 'struct' && Array.isArray(obj.fields)) {
    return struct(
      obj.fields.map((f: { name?: unknown; type?: unknown; nullable?: unknown }) => ({ name: String(f.name), type: fromJsonType(f.type, context), nullable: f.nullable !== false })),
    );
  }
  throw analysisError('UNSUPPORTED_DATATYPE', `Unsupported data type ${JSON.stringify(json)} in ${context}: Kindling handles atomic types and structs.`);
}

/** A protobuf DataType as a SqlType (a Cast's target, a schema sent as a type). */
export function fromProtoType(type: DataType | undefined, context: string): SqlType {
  const kind = type?.kind;
  switch (kind?.case) {
    case 'string': case 'char': case 'varChar': return atomic('string');
    case 'binary': return atomic('binary');
    case 'boolean': return atomic('boolean');
    case 'byte': return atomic('tinyint');
    case 'short': return atomic('smallint');
    case 'integer': return atomic('int');
    case 'long': return atomic('bigint');
    case 'float': return atomic('float');
    case 'double': return atomic('double');
    case 'timestamp': return atomic('timestamp');
    case 'date': return atomic('date');
    case 'null': return atomic('void');
    case 'unparsed': return parseTypeName(kind.value.dataTypeString, context);
    case 'struct':
      return struct(kind.value.fields.map((f) => ({ name: f.name, type: fromProtoType(f.dataType, context), nullable: f.nullable })));
    default:
      throw analysisError('UNSUPPORTED_DATATYPE', `Unsupported data type ${kind?.case ?? '(none)'} in ${context}: Kindling handles string, binary, boolean, integer types, float, double, timestamp, date and structs.`);
  }
}

/** The protobuf DataType PySpark turns back into a pyspark.sql.types type (df.schema). */
export function toProtoType(type: SqlType): DataType {
  if (type.kind === 'struct') {
    return create(DataTypeSchema, {
      kind: {
        case: 'struct',
        value: {
          fields: type.fields.map((f) => ({
            name: f.name,
            dataType: toProtoType(f.type),
            nullable: f.nullable,
            ...(f.metadata && Object.keys(f.metadata).length > 0 ? { metadata: JSON.stringify(f.metadata) } : {}),
          })),
        },
      },
    });
  }
  const cases = {
    string: 'string', binary: 'binary', boolean: 'boolean', tinyint: 'byte', smallint: 'short', int: 'integer',
    bigint: 'long', float: 'float', double: 'double', timestamp: 'timestamp', date: 'date', void: 'null',
  } as const;
  return create(DataTypeSchema, { kind: { case: cases[type.name], value: {} } });
}

const TYPE_NAMES: Readonly<Record<AtomicTypeName, string>> = {
  string: 'string', binary: 'binary', boolean: 'boolean', tinyint: 'byte', smallint: 'short', int: 'integer',
  bigint: 'long', float: 'float', double: 'double', timestamp: 'timestamp', date: 'date', void: 'void',
};

/** Spark's DataType.typeName: `long`, `integer`, `struct` (printSchema and StructType JSON use it). */
export function typeName(type: SqlType): string {
  return type.kind === 'struct' ? 'struct' : TYPE_NAMES[type.name];
}

/** Spark's StructType.treeString (df.printSchema()). */
export function treeString(schema: SqlType, level?: number): string {
  const lines = ['root'];
  const walk = (fields: readonly StructField[], depth: number): void => {
    if (level !== undefined && level > 0 && depth > level) return;
    for (const f of fields) {
      lines.push(`${' |   '.repeat(depth - 1)} |-- ${f.name}: ${typeName(f.type)} (nullable = ${f.nullable})`);
      if (f.type.kind === 'struct') walk(f.type.fields, depth + 1);
    }
  };
  if (schema.kind === 'struct') walk(schema.fields, 1);
  return lines.join('\n') + '\n';
}

/** A StructType as a DDL string (Spark's toDDL): `a BIGINT,b STRING`. */
export function toDdl(schema: SqlType): string {
  if (schema.kind !== 'struct') return schema.name.toUpperCase();
  const typeDdl = (t: SqlType): string => (t.kind === 'struct' ? `STRUCT<${t.fields.map((f) => `${f.name}: ${typeDdl(f.type)}${f.nullable ? '' : ' NOT NULL'}`).join(', ')}>` : t.name.toUpperCase());
  return schema.fields.map((f) => `${f.name} ${typeDdl(f.type)}${f.nullable ? '' : ' NOT NULL'}`).join(',');
}
