// Declared schemas: Spark's DDL strings and TS objects, and the messages for bad ones.
import { describe, expect, it } from 'vitest';
import { parseDdlSchema, schemaOf, schemaToDdl } from '../../src/plan/schema.js';

describe('schemaOf', () => {
  it.each([
    ['timestamp LONG, user_id STRING', [['timestamp', 'long'], ['user_id', 'string']]],
    ['a BIGINT,b INTEGER , c int,d double, e Boolean, f TIMESTAMP', [['a', 'long'], ['b', 'int'], ['c', 'int'], ['d', 'double'], ['e', 'boolean'], ['f', 'timestamp']]],
    ['`weird name` STRING NOT NULL, x: DOUBLE', [['weird name', 'string'], ['x', 'double']]],
    ['  padded STRING  ', [['padded', 'string']]],
  ])('reads the DDL %j', (ddl, fields) => {
    expect(parseDdlSchema(ddl).fields.map((f) => [f.name, f.type])).toEqual(fields);
  });

  it('reads a TS object in key order', () => {
    expect(schemaOf({ timestamp: 'long', temperature: 'double', ok: 'BOOLEAN' }).fields).toEqual([
      { name: 'timestamp', type: 'long' },
      { name: 'temperature', type: 'double' },
      { name: 'ok', type: 'boolean' },
    ]);
  });

  it.each([
    ['timestamp LONG user_id STRING', 'DDL schema at position 15: expected a comma or the end of the schema, got \'user_id STRI\''],
    ['timestamp STRNG', 'DDL schema at position 10: expected a type (one of STRING, LONG (BIGINT), INT (INTEGER), DOUBLE, BOOLEAN, TIMESTAMP), got \'STRNG\''],
    ['a STRING,', 'DDL schema at position 9: expected a field name, got the end of the text'],
    ['a FLOAT', 'DDL schema at position 2: expected a type (one of STRING, LONG (BIGINT), INT (INTEGER), DOUBLE, BOOLEAN, TIMESTAMP), got \'FLOAT\''],
    ['`a STRING', 'DDL schema at position 0: expected a closing backtick'],
    ['a STRING, a LONG', 'schema: field "a" is declared twice'],
    ['', 'DDL schema at position 0: expected a field name, got the end of the text'],
  ])('refuses %j naming the position and what was expected', (ddl, message) => {
    expect(() => parseDdlSchema(ddl)).toThrow(message);
  });

  it('refuses an unknown type in a TS object, naming the field', () => {
    expect(() => schemaOf({ t: 'float' })).toThrow('schema: field "t" has type "float"; expected one of STRING');
  });

  it('writes a schema back as DDL that reads the same', () => {
    const s = schemaOf('`odd name` STRING, t TIMESTAMP, n INT');
    expect(schemaToDdl(s)).toBe('`odd name` STRING, t TIMESTAMP, n INT');
    expect(parseDdlSchema(schemaToDdl(s))).toEqual(s);
  });
});
