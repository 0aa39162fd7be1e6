// Result rows formatted as PySpark 4.0.5 formatted the same rows (test/fixtures/spark/show.py): to_json lines and show()'s table.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { InputColumn } from '../../src/plan/bound.js';
import { consoleBatch, rowToJson, showString } from '../../src/plan/output.js';
import type { Row } from '../../src/plan/types.js';

const SPARK = JSON.parse(readFileSync(new URL('../fixtures/spark/show.spark.json', import.meta.url), 'utf8').split('\n')[0]!) as Record<string, string | string[]>;

const us = (iso: string): number => Date.parse(iso) * 1000;
const win = (start: string) => ({ startUs: us(start), endUs: us(start) + 10_000_000 });
const COLUMNS: InputColumn[] = [
  { name: 'window', type: 'window' }, { name: 'user_id', type: 'string' }, { name: 'n', type: 'long' }, { name: 'd', type: 'double' },
  { name: 'b', type: 'boolean' }, { name: 'ts', type: 'timestamp' }, { name: 'i', type: 'int' },
];
/** The rows show.py builds, as Kindling holds them. */
const ROWS: Row[] = [
  [win('2024-11-25T10:40:00Z'), 'user_1042', 3, 1.5, true, us('2024-11-25T10:40:03.123Z'), 7],
  [win('2024-11-25T10:40:10Z'), null, 12345678901, NaN, false, us('2024-11-25T10:40:03Z'), -1],
  [win('2024-11-25T10:40:20Z'), 'a much longer string value than twenty', 0, 1e20, null, null, null],
  [win('2024-11-25T10:40:30Z'), 'é😀 unicode 全角', -5, -0, true, us('1969-12-31T23:59:59.999Z') + 999, 2147483647],
  [win('2024-11-25T10:40:40Z'), '', 1, Infinity, true, us('2024-11-25T10:40:03.100Z'), 0],
];

describe('to_json of result rows', () => {
  it.each(ROWS.map((r, i) => [i, r] as const))('row %i is the line Spark wrote', (i, row) => {
    expect(rowToJson(row, COLUMNS)).toBe((SPARK['to_json'] as string[])[i]);
  });
});

describe('show() tables', () => {
  it.each([
    ['truncate_true', { truncate: 20 }],
    ['truncate_false', { truncate: 0 }],
    ['numrows_2', { numRows: 2, truncate: 0 }],
    ['truncate_5', { truncate: 5 }],
  ] as const)('%s', (key, options) => {
    expect(showString(ROWS, COLUMNS, options)).toBe(SPARK[key]);
  });

  it('prints an empty batch as a header between rules', () => {
    expect(showString([], COLUMNS, { truncate: 0 })).toBe(SPARK['empty']);
  });

  it('frames a console batch with the banner Spark\'s console sink prints', () => {
    expect(consoleBatch(3, ROWS.slice(0, 1), COLUMNS.slice(0, 2), { truncate: 0 })).toBe(
      [
        '-------------------------------------------',
        'Batch: 3',
        '-------------------------------------------',
        '+------------------------------------------+---------+',
        '|window                                    |user_id  |',
        '+------------------------------------------+---------+',
        '|{2024-11-25 10:40:00, 2024-11-25 10:40:10}|user_1042|',
        '+------------------------------------------+---------+',
        '',
        '',
      ].join('\n'),
    );
  });
});
