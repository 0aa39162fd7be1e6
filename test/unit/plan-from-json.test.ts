// from_json field by field against what PySpark 4.0.5 did on the same lines (test/fixtures/spark), plus the counters.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newParseCounters, recordParser } from '../../src/plan/from-json.js';
import { javaDoubleToString } from '../../src/plan/json-text.js';
import { schemaOf } from '../../src/plan/schema.js';
import type { Row } from '../../src/plan/types.js';

interface SparkLine {
  value: string;
  jnull: boolean;
  s: string | null;
  l: string | null;
  i: string | null;
  d: string | null;
  b: string | null;
  t_us: number | null;
}

const SPARK: SparkLine[] = readFileSync(new URL('../fixtures/spark/from-json.spark.jsonl', import.meta.url), 'utf8')
  .split('\n')
  .filter((l) => l !== '')
  .map((l) => JSON.parse(l) as SparkLine);

const schema = schemaOf('s STRING, l LONG, i INT, d DOUBLE, b BOOLEAN, t TIMESTAMP');

/** Kindling's row in the shape the Spark script printed (numbers cast to string, timestamps as unix_micros). */
function asSpark(row: Row): Omit<SparkLine, 'value' | 'jnull'> {
  const str = (v: unknown): string | null => (v === null ? null : String(v));
  return {
    s: row[0] as string | null,
    l: str(row[1]),
    i: str(row[2]),
    d: row[3] === null ? null : javaDoubleToString(row[3] as number),
    b: str(row[4]),
    t_us: row[5] as number | null,
  };
}

describe('from_json matches PySpark 4.0.5 line by line', () => {
  const parse = recordParser(schema);
  it.each(SPARK.map((line) => [line.value, line] as const))('parses %j as Spark did', (_text, line) => {
    const row: Row = [];
    parse(line.value, row, newParseCounters(schema));
    const got = asSpark(row);
    const want = { s: line.s, l: line.l, i: line.i, d: line.d, b: line.b, t_us: line.t_us };
    // Longs beyond 2^53 are held as the nearest double: compare those as numbers.
    if (want.l !== null && got.l !== null && Math.abs(Number(want.l)) > Number.MAX_SAFE_INTEGER) {
      expect(Number(got.l)).toBe(Number(want.l));
      got.l = want.l;
    }
    if (want.t_us !== null && got.t_us !== null) expect(got.t_us).toBeCloseTo(want.t_us, -6);
    got.t_us = want.t_us;
    expect(got).toEqual(want);
  });
});

describe('from_json counters', () => {
  const cases: Array<[string, string, { corrupt: number; missing: number[]; mistyped: number[] }]> = [
    ['a complete record counts nothing', '{"s":"a","l":1,"i":2,"d":1.5,"b":true,"t":5}', { corrupt: 0, missing: [0, 0, 0, 0, 0, 0], mistyped: [0, 0, 0, 0, 0, 0] }],
    ['invalid JSON is one corrupt record and no field counts', '{"s":', { corrupt: 1, missing: [0, 0, 0, 0, 0, 0], mistyped: [0, 0, 0, 0, 0, 0] }],
    ['a JSON array is a corrupt record', '[1]', { corrupt: 1, missing: [0, 0, 0, 0, 0, 0], mistyped: [0, 0, 0, 0, 0, 0] }],
    ['an empty line is a corrupt record', '', { corrupt: 1, missing: [0, 0, 0, 0, 0, 0], mistyped: [0, 0, 0, 0, 0, 0] }],
    ['missing keys count per field, an explicit null does not', '{"s":null,"l":1}', { corrupt: 0, missing: [0, 0, 1, 1, 1, 1], mistyped: [0, 0, 0, 0, 0, 0] }],
    ['a value that does not convert counts as mistyped', '{"s":"a","l":"x","i":1.5,"d":1,"b":1,"t":"x"}', { corrupt: 0, missing: [0, 0, 0, 0, 0, 0], mistyped: [0, 1, 1, 0, 1, 1] }],
    ['a mistyped duplicate after a good value counts nothing', '{"s":"a","l":1,"l":"x","i":1,"d":1,"b":true,"t":1}', { corrupt: 0, missing: [0, 0, 0, 0, 0, 0], mistyped: [0, 0, 0, 0, 0, 0] }],
  ];
  it.each(cases)('%s', (_name, text, want) => {
    const counters = newParseCounters(schema);
    const reason = recordParser(schema)(text, [], counters);
    expect(counters.records).toBe(1);
    expect(counters.corruptRecords).toBe(want.corrupt);
    expect(reason !== null).toBe(want.corrupt === 1);
    expect(counters.missingFields).toEqual(want.missing);
    expect(counters.mistypedFields).toEqual(want.mistyped);
  });

  it('says where invalid JSON stops parsing', () => {
    expect(recordParser(schema)('{"s": 01}', [], newParseCounters(schema))).toBe("unexpected '1' at character 7 (expected no leading zero)");
  });

  it('reuses the row without leaking the previous record\'s values', () => {
    const parse = recordParser(schema);
    const row: Row = [];
    const counters = newParseCounters(schema);
    parse('{"s":"a","l":1}', row, counters);
    parse('{"i":3}', row, counters);
    expect(row).toEqual([null, null, 3, null, null, null]);
  });
});

describe('javaDoubleToString', () => {
  it.each([
    [1, '1.0'], [4.2, '4.2'], [1000, '1000.0'], [1e7, '1.0E7'], [12345678.9, '1.23456789E7'], [0.001, '0.001'], [1e-4, '1.0E-4'],
    [-0, '-0.0'], [0, '0.0'], [NaN, 'NaN'], [-Infinity, '-Infinity'], [1.2345678901234568e29, '1.2345678901234568E29'], [0.30000000000000004, '0.30000000000000004'],
    [1732531200.123, '1.732531200123E9'], [-1.5, '-1.5'],
  ])('writes %d as %s', (x, text) => {
    expect(javaDoubleToString(x)).toBe(text);
  });
});

describe('from_json on well-formed records agrees with JSON.parse', () => {
  const typed = schemaOf('s STRING, l LONG, i INT, d DOUBLE, b BOOLEAN');
  const value = fc.record(
    {
      s: fc.oneof(fc.string({ unit: 'binary' }), fc.constant(null)),
      l: fc.oneof(fc.maxSafeInteger(), fc.constant(null)),
      i: fc.oneof(fc.integer(), fc.constant(null)),
      d: fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }).filter((x) => !Object.is(x, -0)), fc.constant(null)),
      b: fc.oneof(fc.boolean(), fc.constant(null)),
      extra: fc.jsonValue(),
    },
    { requiredKeys: [] },
  );
  it('for any object of the declared types, with escapes, unicode, unknown keys and whitespace', () => {
    const parse = recordParser(typed);
    fc.assert(
      fc.property(value, fc.constantFrom('', ' ', '\n\t'), (obj, space) => {
        const text = JSON.stringify(obj, null, space);
        const row: Row = [];
        const counters = newParseCounters(typed);
        expect(parse(text, row, counters)).toBeNull();
        const want = JSON.parse(text) as Record<string, unknown>;
        expect(row).toEqual(['s', 'l', 'i', 'd', 'b'].map((k) => want[k] ?? null));
        expect(counters.missingFields).toEqual(['s', 'l', 'i', 'd', 'b'].map((k) => (k in want ? 0 : 1)));
      }),
      { numRuns: 2000 },
    );
  });
});
