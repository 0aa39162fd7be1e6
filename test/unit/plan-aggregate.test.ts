// Aggregates: Spark's null rules, and stage-1 partial states merged in stage 2 equal one pass over the same rows.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bindAggregate } from '../../src/plan/aggregate.js';
import type { Bound } from '../../src/plan/bound.js';
import type { DataType, Value } from '../../src/plan/types.js';

const column = (type: DataType): Bound => ({ kind: 'column', ordinal: 0, name: 'x', type });
const ANSI = { ansi: true };

function fold(name: string, type: DataType, values: readonly Value[]): Value {
  const { fn } = bindAggregate(name, [column(type)], false, ANSI);
  return fn.evaluate(values.reduce((s, v) => fn.update(s, v), fn.init()));
}

describe('aggregates over one group', () => {
  it.each([
    ['count(x) skips nulls', 'count', 'string', ['a', null, 'b'], 2],
    ['sum of nothing but nulls is null', 'sum', 'long', [null, null], null],
    ['sum of ints is a BIGINT', 'sum', 'long', [2147483647, 1], 2147483648],
    ['sum of doubles is rounded once (0.1 + 0.2 + 0.3)', 'sum', 'double', [0.1, 0.2, 0.3], 0.6],
    ['sum with an infinity', 'sum', 'double', [1, Infinity, 2], Infinity],
    ['sum of opposite infinities is NaN', 'sum', 'double', [Infinity, -Infinity], NaN],
    ['avg skips nulls', 'avg', 'double', [1, null, 2], 1.5],
    ['avg of nothing is null', 'avg', 'double', [], null],
    ['min of strings by code point, nulls skipped', 'min', 'string', [null, 'b', 'B', 'é'], 'B'],
    ['max of doubles puts NaN above everything', 'max', 'double', [1, NaN, Infinity], NaN],
    ['first keeps a leading null (ignorenulls off)', 'first', 'string', [null, 'a'], null],
  ] as const)('%s', (_name, name, type, values, want) => {
    expect(fold(name, type, values)).toEqual(want);
  });

  it('first with ignorenulls skips leading nulls', () => {
    const { fn } = bindAggregate('first', [column('string'), { kind: 'literal', value: true, type: 'boolean' }], false, ANSI);
    expect(fn.evaluate([null, 'a', 'b'].reduce((s, v) => fn.update(s, v), fn.init()))).toBe('a');
  });

  it('count(*) counts every row', () => {
    const { fn } = bindAggregate('count', [], true, ANSI);
    expect(fn.evaluate([true, true, true].reduce((s, v) => fn.update(s, v), fn.init()))).toBe(3);
  });

  it('fails the query when a BIGINT sum overflows under ANSI', () => {
    expect(() => fold('sum', 'long', [9_223_372_036_854_775_807, 9_223_372_036_854_775_807])).toThrow('[ARITHMETIC_OVERFLOW]');
  });
});

describe('partial states merged equal one pass, whatever the split', () => {
  const cases: Array<[string, DataType, fc.Arbitrary<Value>]> = [
    ['sum', 'double', fc.oneof(fc.double({ noNaN: true, min: -1e6, max: 1e6 }), fc.constant(null))],
    ['avg', 'double', fc.oneof(fc.double({ noNaN: true, min: -1e300, max: 1e300 }), fc.constant(null))],
    ['sum', 'long', fc.oneof(fc.integer(), fc.constant(null))],
    ['min', 'string', fc.oneof(fc.string(), fc.constant(null))],
    ['max', 'double', fc.oneof(fc.double(), fc.constant(null))],
    ['first', 'int', fc.oneof(fc.integer(), fc.constant(null))],
    ['count', 'boolean', fc.oneof(fc.boolean(), fc.constant(null))],
  ];
  it.each(cases)('%s(%s)', (name, type, valueArb) => {
    const { fn } = bindAggregate(name, [column(type)], false, ANSI);
    fc.assert(
      fc.property(fc.array(valueArb, { maxLength: 30 }), fc.array(fc.nat(30), { maxLength: 4 }), (values, cuts) => {
        const whole = fn.evaluate(values.reduce((s, v) => fn.update(s, v), fn.init()));
        const bounds = [0, ...[...cuts].sort((a, b) => a - b).map((c) => Math.min(c, values.length)), values.length];
        let merged = fn.init();
        for (let i = 0; i + 1 < bounds.length; i++) {
          const part = values.slice(bounds[i], bounds[i + 1]).reduce((s, v) => fn.update(s, v), fn.init());
          merged = fn.merge(merged, structuredClone(part));
        }
        expect(fn.evaluate(merged)).toEqual(whole);
      }),
    );
  });
});
