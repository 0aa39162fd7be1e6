// The compiled path equals the plan oracle on random null-heavy streams (two schemas, every aggregate, both window kinds, all modes), and the oracle equals the old reference on the lab's data.
import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { col, count, lower, window } from '../../src/plan/column.js';
import { readStream } from '../../src/plan/dataframe.js';
import { rowToJson } from '../../src/plan/output.js';
import { crashAlertsPlan, LAB_SCHEMA } from '../../src/plan/queries.js';
import { runPlanReference } from '../../src/plan/reference.js';
import type { WindowValue } from '../../src/plan/types.js';
import { T0, PLANS, labRecord, layoutArb, sensorRecord, stream } from '../helpers/plan-cases.js';

const labEvents = () => readStream(LAB_SCHEMA).withColumn('event_time', col('timestamp').divide(1000).cast('timestamp'));
import { runCompiled } from '../helpers/plan-run.js';

describe('the compiled plan equals the oracle', () => {
  for (const [name, modes, build] of PLANS) {
    for (const mode of modes) {
      it(`${name}, ${mode} mode`, () => {
        const query = build().toQuery({ name, outputMode: mode });
        const sensor = name.startsWith('sensors');
        fc.assert(
          fc.property(stream(sensor ? sensorRecord : labRecord, sensor ? 40_000 : 15_000), layoutArb, (batches, layout) => {
            const oracle = runPlanReference(query, batches, { drain: layout.drain });
            const compiled = runCompiled(query, batches, layout);
            expect(compiled.batches).toEqual(oracle.batches);
            expect(compiled.finalWatermarkMs).toBe(oracle.finalWatermarkMs);
            if (!layout.precheck) expect(compiled.filteredRows).toBe(oracle.filteredRows);
          }),
          { numRuns: 60 },
        );
      });
    }
  }
});

const at = (s: number): number => T0 + s * 1000;
const crash = (user: string | null, s: number): string =>
  JSON.stringify({ timestamp: at(s), status: 'OK', severity: 'Critical', source_ip: '192.168.1.9', ...(user === null ? {} : { user_id: user }), content: 'App CRASH' });
const win = (s: number): WindowValue => ({ startUs: at(s) * 1000, endUs: at(s + 10) * 1000 });

describe('the oracle on hand-worked streams (DESIGN.md section 3)', () => {
  /*
   * Batch 0: a x3, b x2 in [10:40:00, 10:40:10); max 10:40:05 -> W = 10:39:35.
   * Batch 1: a at 10:40:45 -> W = 10:40:15 (batch 1 evicts with 10:39:35).
   * Batch 2: b at 10:40:08 is not late (late watermark W(1) = 10:39:35): b = 3; evicting with
   *          W(2) = 10:40:15 emits [10:40:00, 10:40:10): a 3, b 3.
   * Batch 3: a at 10:40:09: its window ended at 10:40:10 <= W(2): one late row, one late group.
   */
  const STREAM = [[crash('a', 1), crash('a', 2), crash('a', 3), crash('b', 5), crash('b', 5)], [crash('a', 45)], [crash('b', 8)], [crash('a', 9)]];

  it('emits a window once, when the watermark passes its end (append)', () => {
    const r = runPlanReference(crashAlertsPlan, STREAM);
    expect(r.batches.map((b) => b.rows)).toEqual([[], [], [[win(0), 'a', 3], [win(0), 'b', 3]], []]);
    expect(r.batches.map((b) => [b.lateRows, b.lateGroups])).toEqual([[0, 0], [0, 0], [0, 0], [1, 1]]);
    expect(r.finalWatermarkMs).toBe(at(15));
  });

  it('reports for each batch the watermark in effect during it (batch 0: the epoch)', () => {
    expect(runPlanReference(crashAlertsPlan, STREAM).batches.map((b) => b.watermarkMs)).toEqual([0, at(-25), at(15), at(15)]);
  });

  it('groups a record without user_id under a null key, and it moves the watermark', () => {
    const r = runPlanReference(crashAlertsPlan, [[crash(null, 1), crash(null, 2), crash(null, 3)], [crash('a', 60)]]);
    expect(r.batches.at(-1)!.rows).toEqual([[win(0), null, 3]]);
    expect(r.finalWatermarkMs).toBe(at(30));
  });

  it('never lets a record without a timestamp reach a window or move the watermark', () => {
    const noTime = JSON.stringify({ status: 'OK', severity: 'High', user_id: 'a', content: 'crash' });
    const r = runPlanReference(crashAlertsPlan, [[noTime, noTime, noTime, crash('b', 1)]]);
    expect(r.finalWatermarkMs).toBe(at(1) - 30_000);
    expect(r.counters.missingFields).toEqual([3, 0, 0, 3, 0, 0]);
  });

  it('does not let rows removed by a pushed-down filter move the watermark', () => {
    const plan = labEvents().withWatermark('event_time', '10 seconds').filter(col('severity').eq('High'))
      .groupBy(window(col('event_time'), '10 seconds')).agg(count('*').alias('n')).toQuery({ name: 'q', outputMode: 'update' });
    const r = runPlanReference(plan, [[crash('a', 100)]]);
    expect(r.finalWatermarkMs).toBe(0);
  });
});

describe('streaming dropDuplicates as PySpark 4.0.5 ran it (test/fixtures/spark/dedup.py)', () => {
  const read = (name: string): unknown => JSON.parse(readFileSync(new URL(`../fixtures/spark/${name}`, import.meta.url), 'utf8').split('\n')[0]!);
  const batches = read('dedup-batches.json') as string[][];
  const spark = read('dedup.spark.json') as Record<string, { rows: Array<Array<[string, number]>> }>;
  it.each([
    ['with_time', ['user_id', 'event_time']],
    ['without_time', ['user_id']],
  ])('%s: the same rows per input file, from the oracle and the compiled path', (name, keys) => {
    const query = readStream('timestamp LONG, user_id STRING').withColumn('event_time', col('timestamp').divide(1000).cast('timestamp'))
      .withWatermark('event_time', '10 seconds').dropDuplicates(keys).select('user_id', 'timestamp').toQuery({ name, outputMode: 'append' });
    // Spark ran a batch without data after each file whose watermark moved; an empty batch does the same here.
    const withNoData = batches.flatMap((b) => [b, []]);
    const byUserThenTime = (x: [string, number], y: [string, number]): number => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : x[1] - y[1]);
    for (const run of [runPlanReference(query, withNoData), runCompiled(query, withNoData, { cuts: [0.5], partitions: 2, precheck: true })]) {
      const perFile = batches.map((_, i) => [...run.batches[2 * i]!.rows, ...run.batches[2 * i + 1]!.rows].map((r) => [r[0], r[1]] as [string, number]).sort(byUserThenTime));
      expect(perFile).toEqual(spark[name]!.rows);
    }
  });
});

/** test/fixtures/lab-small's records cut into batches of 1000 across files, as the file source with --max-events-per-batch 1000 cuts them. */
const labSmall = (): string[][] => {
  const dir = new URL('../fixtures/lab-small/', import.meta.url);
  const records = readdirSync(dir).sort().flatMap((f) => readFileSync(new URL(f, dir), 'utf8').replace(/\n$/, '').split('\n'));
  return Array.from({ length: Math.ceil(records.length / 1000) }, (_, i) => records.slice(i * 1000, (i + 1) * 1000));
};

describe('the built-in crash-alerts plan on the lab\'s records', () => {
  it('gives the golden output (written by the older hand-written reference, an independent implementation)', () => {
    // As the golden run did: --max-record-bytes 2000 makes the fixture's long records corrupt.
    const r = runPlanReference(crashAlertsPlan, labSmall(), { maxRecordChars: 2000 });
    const golden = new URL('../fixtures/lab-small.golden/', import.meta.url);
    const expected = readdirSync(golden).sort().map((f) => [Number(/\d+/.exec(f)![0]), readFileSync(new URL(f, golden), 'utf8')] as const);
    const mine = r.batches.filter((b) => b.rows.length > 0).map((b) => [b.batchId, b.rows.map((row) => rowToJson(row, r.columns) + '\n').join('')] as const);
    expect(mine).toEqual(expected);
  });
});
