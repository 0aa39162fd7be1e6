// The resolver fails early with the column or rule at fault; three-valued logic and null propagation on real rows.
import { describe, expect, it } from 'vitest';
import type { InputColumn } from '../../src/plan/bound.js';
import { Column, col, concat, count, length, lit, lower, not, substring, trim, upper, when } from '../../src/plan/column.js';
import { compileExpr } from '../../src/plan/compile-expr.js';
import { evaluate } from '../../src/plan/evaluate.js';
import { resolve } from '../../src/plan/resolve.js';
import type { Row, Value } from '../../src/plan/types.js';

const INPUT: InputColumn[] = [
  { name: 'content', type: 'string' },
  { name: 'severity', type: 'string' },
  { name: 'n', type: 'int' },
  { name: 'a', type: 'boolean' },
  { name: 'b', type: 'boolean' },
  { name: 'Mixed', type: 'long' },
];
const ANSI = { ansi: true };

/** Evaluates `c` on `row` both ways and checks they agree. */
function run(c: Column, row: Row): Value {
  const bound = resolve(c.expr, INPUT, ANSI);
  const interpreted = evaluate(bound, row);
  expect(compileExpr(bound)(row)).toEqual(interpreted);
  return interpreted;
}

describe('resolve fails early', () => {
  it.each([
    ['a missing column, listing the available ones', col('usr_id'), 'cannot resolve column "usr_id"; available columns: content, severity, n, a, b, Mixed'],
    ['an unknown function', new Column({ kind: 'call', name: 'levenshtein', args: [] }), 'unknown function "levenshtein"; supported: abs, and,'],
    ['a wrong argument count', new Column({ kind: 'call', name: 'lower', args: [] }), 'lower takes 1 argument; got 0 (lower(str) → STRING)'],
    ['an aggregate outside agg', count('*').gt(2), 'aggregate function count(1) is only allowed in agg(...)'],
    ['arithmetic on a string', col('content').plus(1), '+: argument 1 must be a number (INT, BIGINT or DOUBLE); got STRING'],
    ['a string compared with a number', col('content').eq(1), '=: cannot combine STRING with INT; cast one side explicitly'],
    ['AND on a number', col('n').and(col('a')), 'and: argument 1 must be BOOLEAN; got INT'],
    ['a bad LIKE escape', col('content').like('a\\b'), "the escape character '\\' may only precede '%', '_' or '\\'; found '\\b'"],
    ['a cast Spark refuses', col('a').cast('timestamp'), 'cannot cast BOOLEAN to TIMESTAMP'],
  ])('on %s', (_name, c, message) => {
    expect(() => resolve(c.expr, INPUT, ANSI)).toThrow(message);
  });

  it('matches a column name ignoring case when only one matches, as Spark does by default', () => {
    expect(resolve(col('mixed').expr, INPUT, ANSI)).toMatchObject({ kind: 'column', ordinal: 5, name: 'Mixed' });
  });
});

describe('three-valued logic on columns', () => {
  const T = true;
  const F = false;
  const N = null;
  it.each([
    [T, T, T, T], [T, F, F, T], [T, N, N, T], [F, F, F, F], [F, N, F, N], [N, N, N, N], [N, F, F, N], [N, T, N, T],
  ])('a=%s b=%s: AND is %s, OR is %s', (a, b, and, or) => {
    const row: Row = ['x', 'y', 1, a, b, 1];
    expect(run(col('a').and(col('b')), row)).toBe(and);
    expect(run(col('a').or(col('b')), row)).toBe(or);
    expect(run(not(col('a')), row)).toBe(a === null ? null : !a);
  });

  it('never evaluates the right side of AND when the left is false (no division by zero under ANSI)', () => {
    expect(run(col('n').ne(0).and(lit(10).divide(col('n')).gt(1)), ['x', 'y', 0, T, T, 1])).toBe(false);
  });
});

describe('null propagation', () => {
  const row: Row = [null, 'High', null, null, true, 1];
  it.each([
    ['lower(null)', lower(col('content'))],
    ['upper(null)', upper(col('content'))],
    ['trim(null)', trim(col('content'))],
    ['length(null)', length(col('content'))],
    ['substring(null, 1, 2)', substring(col('content'), 1, 2)],
    ['concat(null, x)', concat(col('content'), col('severity'))],
    ['null.contains(x)', col('content').contains('x')],
    ['null LIKE x', col('content').like('%')],
    ['null + 1', col('n').plus(1)],
    ['null = null', col('n').eq(col('n'))],
    ['null IN (1, 2)', col('n').isin(1, 2)],
    ['CAST(null AS STRING)', col('n').cast('string')],
    ['CASE WHEN null THEN 1 END', when(col('a'), 1)],
  ])('%s is null', (_name, c) => {
    expect(run(c, row)).toBeNull();
  });

  it.each([
    ['null IS NULL', col('n').isNull(), true],
    ['null IS NOT NULL', col('n').isNotNull(), false],
    ['null <=> null', col('n').eqNullSafe(col('n')), true],
    ['CASE WHEN null THEN 1 ELSE 2 END', when(col('a'), 1).otherwise(2), 2],
    ["'High' IN ('High', null)", col('severity').isin('High', null), true],
    ["'High' IN ('Low', null)", col('severity').isin('Low', null), null],
  ])('%s is %s', (_name, c, want) => {
    expect(run(c, row)).toBe(want);
  });
});
