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

/** One field of a DDL column list, its type still as text (a nested type such as `STRUCT<x: INT>` whole). */
export interface DdlField {
  readonly name: string;
  readonly typeText: string;
  /** 0-based offset of the type in the DDL text, for messages. */
  readonly typeAt: number;
  readonly notNull: boolean;
}

/** A PlanError naming a 0-based position in `ddl`, what was expected there and what came. */
export function ddlError(ddl: string, pos: number, expected: string): PlanError {
  const rest = ddl.slice(pos);
  const got = rest === '' ? 'the end of the text' : `'${rest.slice(0, 12)}'`;
  return new PlanError(`DDL schema at position ${pos}: expected ${expected}, got ${got} (in "${ddl}")`);
}

/**
 * Splits Spark's DDL column list, `name[:] TYPE [NOT NULL] [COMMENT '...'] (, ...)*` (names optionally
 * in backticks), into fields whose types stay text: the one grammar both the plan's schemas and Spark
 * Connect's (with Spark's other types) read. Throws a PlanError naming the position.
 */
export function parseDdlFields(ddl: string): DdlField[] {
  let pos = 0;
  const fail = (expected: string): never => {
    throw ddlError(ddl, pos, expected);
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
  /** A type's parameters or fields: `<...>` or `(...)`, nested brackets included. */
  const brackets = (): void => {
    const open = ddl[pos];
    if (open !== '<' && open !== '(') return;
    let depth = 0;
    for (; pos < ddl.length; pos++) {
      const c = ddl[pos]!;
      if (c === '`') pos = ddl.indexOf('`', pos + 1) < 0 ? fail('a closing backtick') : ddl.indexOf('`', pos + 1);
      else if (c === '<' || c === '(') depth++;
      else if ((c === '>' || c === ')') && --depth === 0) {
        pos++;
        return;
      }
    }
    fail(`a closing ${open === '<' ? '>' : ')'}`);
  };
  const fields: DdlField[] = [];
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
    if (word() === null) fail(`a type (${EXPECTED_TYPES})`);
    skipSpace();
    brackets();
    const typeText = ddl.slice(typeAt, pos).trim();
    skipSpace();
    const notAt = pos;
    let notNull = false;
    if (word()?.toUpperCase() === 'NOT') {
      skipSpace();
      if (word()?.toUpperCase() !== 'NULL') fail('NULL after NOT');
      notNull = true;
      skipSpace();
    } else pos = notAt;
    const commentAt = pos;
    if (word()?.toUpperCase() === 'COMMENT') {
      skipSpace();
      const m = /^'(?:[^'\\]|\\.)*'/.exec(ddl.slice(pos));
      if (!m) fail("the comment as a quoted string ('...')");
      pos += m![0].length;
      skipSpace();
    } else pos = commentAt;
    fields.push({ name: name!, typeText, typeAt, notNull });
    if (pos >= ddl.length) break;
    if (ddl[pos] !== ',') fail('a comma or the end of the schema');
    pos++;
    skipSpace();
  }
  return fields;
}

/** Parses Spark's DDL column list (see parseDdlFields) with the six plan types. Positions are 0-based character offsets. */
export function parseDdlSchema(ddl: string): Schema {
  return checkFields(
    parseDdlFields(ddl).map((f) => {
      const type = DDL_TYPES[f.typeText.toUpperCase()];
      if (!type) throw ddlError(ddl, f.typeAt, `a type (${EXPECTED_TYPES})`);
      return { name: f.name, type };
    }),
  );
}

/** The schema as Spark's DDL string (`timestamp BIGINT, user_id STRING`). */
export function schemaToDdl(schema: Schema): string {
  return schema.fields.map((f) => `${/^[A-Za-z_][A-Za-z0-9_]*$/.test(f.name) ? f.name : '`' + f.name + '`'} ${sqlTypeName(f.type)}`).join(', ');
}
