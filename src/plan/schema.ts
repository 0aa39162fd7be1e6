// A declared schema: fields of Spark's six types, from a TS object or from Spark's DDL string.
import { FIELD_TYPES, PlanError, sqlTypeName, type FieldType } from './types.js';

/** One named, typed field. */
export interface Field {
  readonly name: string;
  readonly type: FieldType;
}

/** An ordered list of fields with unique names (case-sensitive, as from_json matches keys). */
export interface Schema {
  readonly fields: readonly Field[];
}

/** Spark's DDL type names (and their aliases) for the six supported types. */
const DDL_TYPES: Readonly<Record<string, FieldType>> = {
  STRING: 'string',
  BIGINT: 'long',
  LONG: 'long',
  INT: 'int',
  INTEGER: 'int',
  DOUBLE: 'double',
  BOOLEAN: 'boolean',
  TIMESTAMP: 'timestamp',
};

/** A type name (DDL or FieldType, any case) to its FieldType, or undefined. */
export function fieldTypeOf(name: string): FieldType | undefined {
  return DDL_TYPES[name.toUpperCase()] ?? (FIELD_TYPES as readonly string[]).find((t) => t === name.toLowerCase()) as FieldType | undefined;
}

const EXPECTED_TYPES = 'one of STRING, LONG (BIGINT), INT (INTEGER), DOUBLE, BOOLEAN, TIMESTAMP';

/**
 * A schema from a TS object (`{ timestamp: 'long', user_id: 'string' }`, in key order), an array of
 * fields, or Spark's DDL string (`"timestamp LONG, user_id STRING"`, names optionally in backticks).
 * Throws PlanError naming the position and what was expected.
 */
export function schemaOf(spec: string | Readonly<Record<string, string>> | readonly Field[]): Schema {
  if (typeof spec === 'string') return parseDdlSchema(spec);
  const fields: Field[] = Array.isArray(spec)
    ? (spec as readonly Field[]).map((f) => ({ name: f.name, type: checkType(f.type, `field "${f.name}"`) }))
    : Object.entries(spec as Record<string, string>).map(([name, t]) => ({ name, type: checkType(t, `field "${name}"`) }));
  return checkFields(fields);
}

function checkType(t: string, where: string): FieldType {
  const type = typeof t === 'string' ? fieldTypeOf(t) : undefined;
  if (!type) throw new PlanError(`schema: ${where} has type ${JSON.stringify(t)}; expected ${EXPECTED_TYPES}`);
  return type;
}

function checkFields(fields: Field[]): Schema {
  if (fields.length === 0) throw new PlanError('schema: no fields; declare at least one, e.g. "timestamp LONG, content STRING"');
  const seen = new Set<string>();
  for (const f of fields) {
    if (f.name === '') throw new PlanError('schema: a field has an empty name');
    if (seen.has(f.name)) throw new PlanError(`schema: field "${f.name}" is declared twice`);
    seen.add(f.name);
  }
  return Object.freeze({ fields: Object.freeze(fields.map((f) => Object.freeze({ ...f }))) });
}

/** Parses Spark's DDL column list: `name TYPE [NOT NULL] (, name TYPE)*`. Positions are 0-based character offsets. */
export function parseDdlSchema(ddl: string): Schema {
  let pos = 0;
  const fail = (expected: string): never => {
    const rest = ddl.slice(pos);
    const got = rest === '' ? 'the end of the text' : `'${rest.slice(0, 12)}'`;
    throw new PlanError(`DDL schema at position ${pos}: expected ${expected}, got ${got} (in "${ddl}")`);
  };
  const skipSpace = (): void => {
    while (pos < ddl.length && /\s/.test(ddl[pos]!)) pos++;
  };
  const word = (): string | null => {
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(ddl.slice(pos));
    if (!m) return null;
    pos += m[0].length;
    return m[0];
  };
  const fields: Field[] = [];
  skipSpace();
  for (;;) {
    let name: string | null;
    if (ddl[pos] === '`') {
      const end = ddl.indexOf('`', pos + 1);
      if (end < 0) fail('a closing backtick');
      name = ddl.slice(pos + 1, end);
      pos = end + 1;
    } else {
      name = word();
      if (name === null) fail('a field name');
    }
    skipSpace();
    if (ddl[pos] === ':') {
      pos++;
      skipSpace();
    }
    const typeAt = pos;
    const typeName = word();
    if (typeName === null) fail(`a type (${EXPECTED_TYPES})`);
    const type = DDL_TYPES[typeName!.toUpperCase()];
    if (!type) {
      pos = typeAt;
      fail(`a type (${EXPECTED_TYPES})`);
    }
    skipSpace();
    const notAt = pos;
    if (word()?.toUpperCase() === 'NOT') {
      skipSpace();
      if (word()?.toUpperCase() !== 'NULL') fail('NULL after NOT');
      skipSpace();
    } else pos = notAt;
    fields.push({ name: name!, type: type! });
    if (pos >= ddl.length) break;
    if (ddl[pos] !== ',') fail('a comma or the end of the schema');
    pos++;
    skipSpace();
  }
  return checkFields(fields);
}

/** The schema as Spark's DDL string (`timestamp BIGINT, user_id STRING`). */
export function schemaToDdl(schema: Schema): string {
  return schema.fields.map((f) => `${/^[A-Za-z_][A-Za-z0-9_]*$/.test(f.name) ? f.name : '`' + f.name + '`'} ${sqlTypeName(f.type)}`).join(', ');
}
