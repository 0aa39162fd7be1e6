// A plan read from Spark's json file source skips blank lines (no row, no input record), as Spark 4.0.5's json
// source did in the PySpark comparison suite (1,503 input rows for a file of 1,504 lines, one blank); from_json over
// the text or kafka source keeps making a blank record a row of nulls.
import { describe, expect, it } from 'vitest';
import { compileQuery } from '../../src/plan/compile-plan.js';
import type { PlanNode, QueryPlan } from '../../src/plan/plan.js';
import { runPlanReference } from '../../src/plan/reference.js';
import { schemaOf } from '../../src/plan/schema.js';
import { parseSqlExpression } from '../../src/plan/sql.js';

const LINES = ['{"user":"a","content":"crash"}', '', '   ', '\t\r', '{"user":"b","content":"crash"}', 'not json', '{"user":"a","content":"ok"}'];

/** Rows per user of the records whose content mentions a crash (a pre-check term), or of every record. */
function plan(skipBlankLines: boolean, withFilter: boolean): QueryPlan {
  const source: PlanNode = { kind: 'source', schema: schemaOf('user STRING, content STRING'), ...(skipBlankLines ? { skipBlankLines } : {}) };
  const input: PlanNode = withFilter ? { kind: 'filter', input: source, condition: parseSqlExpression("content LIKE '%crash%'") } : source;
  return { name: 'blank-lines', outputMode: 'update', ansi: true, root: { kind: 'aggregate', input, groupBy: [parseSqlExpression('user')], aggregates: [parseSqlExpression('count(*)')] } };
}

describe('blank lines from the json file source', () => {
  for (const withFilter of [false, true]) {
    it(`are neither rows nor input records, compiled (bytes and records, pre-check on) and in the oracle${withFilter ? ', behind a filter with a pre-check term' : ''}`, () => {
      const query = plan(true, withFilter);
      const compiled = compileQuery(query);
      for (const scan of [compiled.scanBytes(Buffer.from(LINES.join('\n') + '\n'), true), compiled.scan(LINES, true)]) {
        // Four records: the three objects and the corrupt line; the blank ones are not input.
        expect(scan.counters.records + scan.skippedRecords).toBe(4);
        expect(scan.counters.corruptRecords).toBe(1);
        expect(scan.partial!.values).toEqual(withFilter ? [['a'], ['b']] : [['a'], ['b'], [null]]);
      }
      const oracle = runPlanReference(query, [LINES]);
      expect(oracle.counters.records).toBe(4);
      expect(oracle.batches[0]!.rows).toEqual(withFilter ? [['a', 1], ['b', 1]] : [[null, 1], ['a', 2], ['b', 1]]);
    });
  }

  it('stay rows of nulls for from_json over text or kafka (no skipBlankLines)', () => {
    const query = plan(false, false);
    const scan = compileQuery(query).scan(LINES, true);
    expect(scan.counters.records).toBe(7);
    expect(scan.counters.corruptRecords).toBe(4);
    expect(runPlanReference(query, [LINES]).batches[0]!.rows).toEqual([[null, 4], ['a', 2], ['b', 1]]);
  });
});
