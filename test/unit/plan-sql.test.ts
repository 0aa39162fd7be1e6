// Spark SQL expression strings parse into the same expression data as the builder; bad text names the position and what was expected.
import { describe, expect, it } from 'vitest';
import { Column, col, concat, count, lit, lower, not, when } from '../../src/plan/column.js';
import { parseSelectItem, parseSqlExpression } from '../../src/plan/sql.js';

describe('parseSqlExpression builds what the builder builds', () => {
  const cases: Array<[string, Column]> = [
    ["lower(content) LIKE '%crash%' AND severity IN ('High','Critical')", lower(col('content')).like('%crash%').and(col('severity').isin('High', 'Critical'))],
    ['CAST(x AS DOUBLE)', col('x').cast('double')],
    ['x::bigint', col('x').cast('long')],
    ["CASE WHEN a > 1 THEN 'x' ELSE 'y' END", when(col('a').gt(1), 'x').otherwise('y')],
    ["CASE s WHEN 'a' THEN 1 WHEN 'b' THEN 2 END", when(col('s').eq('a'), 1).when(col('s').eq('b'), 2)],
    ['`weird col` + 1', col('weird col').plus(1)],
    ['a + b * c = d AND NOT e OR f', col('a').plus(col('b').multiply(col('c'))).eq(col('d')).and(not(col('e'))).or(col('f'))],
    ['NOT a = b', not(col('a').eq(col('b')))],
    ['a <> b', col('a').ne(col('b'))],
    ['a <=> NULL', col('a').eqNullSafe(null)],
    ['x IS NOT NULL', col('x').isNotNull()],
    ["s NOT LIKE 'a\\_%'", not(col('s').like('a\\_%'))],
    ['n NOT IN (1, 2)', not(col('n').isin(1, 2))],
    ['n BETWEEN 1 AND 5', col('n').geq(1).and(col('n').leq(5))],
    ['(timestamp / 1000)', col('timestamp').divide(1000)],
    ["'a' || b", concat(lit('a'), col('b'))],
    ['count(*) > 2', count('*').gt(2)],
    ['-n', new Column({ kind: 'call', name: 'negative', args: [{ kind: 'column', name: 'n' }] })],
    ['-2147483648', lit(-2147483648)],
    ['2147483648', lit(2147483648)],
    ['5L', lit(5, 'long')],
    ['1.5', lit(1.5)],
    ['1e3', lit(1000, 'double')],
    ['2D', lit(2, 'double')],
    ["'it\\'s' \"and\"", lit("it'sand")],
    ['TRUE OR false', lit(true).or(false)],
    ['window.start', col('window.start')],
  ];
  it.each(cases)('%s', (text, built) => {
    expect(parseSqlExpression(text)).toEqual(built.expr);
  });

  it('reads a timestamp literal in UTC', () => {
    expect(parseSqlExpression("timestamp'2024-11-25 10:40:00'")).toEqual({ kind: 'literal', value: Date.parse('2024-11-25T10:40:00Z') * 1000, type: 'timestamp' });
  });
});

describe('parseSelectItem', () => {
  it.each([
    ['x AS y', col('x').alias('y').expr],
    ['lower(x) y', lower(col('x')).alias('y').expr],
    ['x AS `odd name`', col('x').alias('odd name').expr],
    ['count(DISTINCT u)', { kind: 'call', name: 'count_distinct', args: [{ kind: 'column', name: 'u' }] }],
    ['*', '*'],
  ] as const)('%s', (text, want) => {
    expect(parseSelectItem(text)).toEqual(want);
  });
});

describe('SQL errors name the position and what was expected', () => {
  it.each([
    ['lower(content', 'at position 13: expected \')\', got the end of the text'],
    ['a +', 'at position 3: expected an expression, got the end of the text'],
    ['a IN 1', "at position 5: expected '(', got '1'"],
    ["'unterminated", "at position 0: expected a closing ', got ''unterminated'"],
    ['a NOT b', "at position 6: expected IN, LIKE or BETWEEN after NOT, got 'b'"],
    ['1abc', "at position 1: expected an operator or the end after a number, got 'abc'"],
    ['a b', "at position 2: expected an operator or the end of the expression, got 'b'"],
    ['CAST(x AS FLOAT)', "at position 10: expected a type (STRING, BIGINT, INT, DOUBLE, BOOLEAN or TIMESTAMP), got 'FLOAT)'"],
    ['CASE WHEN a THEN 1', 'at position 18: expected END, got the end of the text'],
    ["timestamp'garbage'", "at position 9: expected a valid timestamp literal such as '2024-11-25 10:40:00', got ''garbage''"],
    ['sum(*)', 'at position 0: expected count(*) (sum(*) is not a function call Spark accepts)'],
    ['a # b', "at position 2: expected an expression, got '# b'"],
  ])('%s', (text, message) => {
    expect(() => parseSqlExpression(text)).toThrow(`SQL expression "${text}" ${message}`);
  });
});
