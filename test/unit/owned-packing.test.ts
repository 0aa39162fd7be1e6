// packOwned/unpackOwned: a stage-1 share travels as JSON text only when JSON gives every value back exactly.
import { describe, expect, it } from 'vitest';
import { byPartition, jsonExact, ownAggregates, ownDedup, packOwned, shuffle, unpackOwned } from '../../src/engine/stages.js';
import type { PlainOwnedInput } from '../../src/engine/protocol.js';

describe('jsonExact', () => {
  it('accepts what JSON round-trips: null, booleans, strings (NUL and lone surrogates too), finite numbers, arrays and plain objects', () => {
    for (const v of [null, true, false, '', 'a\u0000b', '\ud800', 0, 1.5, -2, 1732531200000000, Number.MAX_VALUE, [1, ['x', null]], { startUs: 1, endUs: 2 }, { a: [{ b: 'c' }] }]) {
      expect(jsonExact(v)).toBe(true);
      expect(JSON.parse(JSON.stringify(v))).toStrictEqual(v);
    }
  });

  it('refuses what JSON would change: -0, NaN, infinities, undefined, bigint, typed arrays, Maps, Dates, class instances', () => {
    class Sketch {
      n = 1;
    }
    for (const v of [-0, NaN, Infinity, -Infinity, undefined, 1n, new Uint8Array(2), new Map(), new Date(0), new Sketch(), [1, undefined], { a: undefined }, { a: NaN }, [[-0]]]) {
      expect(jsonExact(v)).toBe(false);
    }
  });
});

describe('packOwned', () => {
  const groups = {
    ids: ['1000\u0000suser_1\u0000', '1000\u0000suser_2\u0000', '2000\u0000suser_1\u0000'],
    values: [[{ startUs: 1000, endUs: 2000 }, 'user_1'], [{ startUs: 1000, endUs: 2000 }, 'user_2'], [{ startUs: 2000, endUs: 3000 }, 'user_1']],
    states: [[1], [2.5], [null]],
    endsUs: [2000, 2000, null],
    counts: [1, 2, 3],
  };

  it('packs a JSON-exact share and gives it back equal, and the worker regroups it as it would the plain one', () => {
    const shares = ownAggregates(groups, 8, 2);
    const packed = shares.map(packOwned);
    for (let w = 0; w < 2; w++) {
      if (shares[w] === null) continue;
      expect(packed[w]!.operator).toBe('packed');
      expect(unpackOwned(packed[w]!)).toStrictEqual(shares[w]);
      expect(byPartition(shuffle([packed], 2)[w]!)).toStrictEqual(byPartition(shuffle([shares], 2)[w]!));
    }
  });

  it('leaves a share as it is when a state or value would not survive JSON', () => {
    const withNaN = { ...groups, states: [[NaN], [1], [-0]] };
    const shares = ownAggregates(withNaN, 8, 1);
    const packed = packOwned(shares[0]!);
    expect(packed).toBe(shares[0]);
    const bytes = { ...groups, states: [[new Uint8Array([1, 2])], [1], [2]] };
    expect(packOwned(ownAggregates(bytes, 8, 1)[0]!)!.operator).toBe('aggregate');
  });

  it('packs dropDuplicates shares with their order in the batch', () => {
    const share = ownDedup({ keys: ['a', 'b'], eventTimesUs: [5, null], rows: [['a', 1], ['b', true]] }, 3, 4, 1)[0]! as PlainOwnedInput;
    const packed = packOwned(share)!;
    expect(packed.operator).toBe('packed');
    expect(unpackOwned(packed)).toStrictEqual(share);
  });

  it('an empty share is left out of the shuffle either way', () => {
    expect(packOwned(null)).toBe(null);
    expect(shuffle([[null, packOwned(ownAggregates(groups, 1, 1)[0]!)]], 2)[0]).toEqual([]);
  });
});
