// The compiled path equals the plan oracle on random null-heavy streams (two schemas, every aggregate, both window kinds, all modes), and the oracle equals the old reference on the lab's data.
import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { approx_count_distinct, avg, col, count, desc, first, lower, max, min, sum, when, window } from '../../src/plan/column.js';
import { readStream } from '../../src/plan/dataframe.js';
import type { OutputMode, QueryPlan } from '../../src/plan/plan.js';
import { crashAlertsPlan, LAB_SCHEMA, vulnerabilityByIpPlan } from '../../src/plan/queries.js';
import { runPlanReference } from '../../src/plan/reference.js';
import type { WindowValue } from '../../src/plan/types.js';
import { crashAlerts, vulnerabilityByIp } from '../../src/query/queries.js';
import { runReference } from '../../src/query/reference.js';
import { runCompiled } from '../helpers/plan-run.js';

const T0 = Date.parse('2024-11-25T10:40:00Z');
const SENSOR = 'sensor_id STRING, site STRING, temperature DOUBLE, reading INT, ok BOOLEAN, at TIMESTAMP';

const labEvents = () => readStream(LAB_SCHEMA).withColumn('event_time', col('timestamp').divide(1000).cast('timestamp'));
const sensors = () => readStream(SENSOR);

/** Plans over both schemas: every aggregate, tumbling and sliding windows, dropDuplicates, HAVING, orderBy, stateless. */
const PLANS: Array<[string, OutputMode[], () => ReturnType<typeof labEvents>]> = [
  ['crash alerts', ['append', 'update', 'complete'], () =>
    labEvents().filter(lower(col('content')).contains('crash').and(col('severity').isin('High', 'Critical'))).withWatermark('event_time', '30 seconds')
      .groupBy(window(col('event_time'), '10 seconds'), col('user_id')).agg(count('*').alias('crash_count')).filter(col('crash_count').gt(1))],
  ['sliding windows with every lab aggregate', ['append', 'update', 'complete'], () =>
    labEvents().withWatermark('event_time', '20 seconds').filter(col('severity').ne('Low'))
      .groupBy(window(col('event_time'), '10 seconds', '5 seconds'), col('severity'))
      .agg(count('*').alias('n'), count(col('user_id')).alias('users'), min('content'), max(col('timestamp')).alias('last'), first('user_id').alias('first_user'), sum('timestamp').alias('ts_sum'),
        approx_count_distinct('user_id').alias('approx_users'))],
  ['vulnerability by ip, sorted', ['complete'], () =>
    labEvents().filter("lower(content) LIKE '%vulnerability%' AND severity = 'High'").groupBy('source_ip').agg(count('*').alias('count')).orderBy(desc('count'))],
  ['a plain group by in update mode (a null key is a group)', ['update', 'complete'], () =>
    labEvents().groupBy('user_id', 'status').agg(count('*').alias('n'), first(col('event_time')).alias('first_seen'))],
  ['dropDuplicates on user and event time, then a window count', ['append', 'update'], () =>
    labEvents().withWatermark('event_time', '15 seconds').dropDuplicates(['user_id', 'event_time']).groupBy(window(col('event_time'), '10 seconds')).agg(count('*').alias('n'))],
  ['dropDuplicates without the event time (keys kept forever)', ['append', 'update'], () =>
    labEvents().withWatermark('event_time', '15 seconds').dropDuplicates(['user_id']).select('user_id', 'severity')],
  ['dropDuplicates without a watermark', ['update', 'complete'], () =>
    labEvents().dropDuplicates(['user_id', 'severity']).groupBy('severity').agg(count('*').alias('users'))],
  ['a stateless filter and projection', ['append', 'update'], () =>
    labEvents().filter(col('content').contains('crash').or(col('status').eq('ERROR'))).selectExpr('upper(user_id) AS u', "substring(content, -5, 3) AS tail", 'event_time')],
  ['sensors: avg, max, min, sum and count over three keys in sliding windows', ['append', 'update', 'complete'], () =>
    sensors().withWatermark('at', '1 minute').groupBy(window(col('at'), '1 minute', '20 seconds'), col('site'), col('sensor_id'), col('ok'))
      .agg(avg('temperature').alias('avg_t'), max('temperature').alias('max_t'), min(col('reading')).alias('min_r'), sum('reading').alias('sum_r'), count('temperature').alias('n_t'),
        approx_count_distinct(col('temperature'), 0.02).alias('approx_t'))],
  ['sensors: HAVING on an average, then a projection of the window start', ['append', 'update'], () =>
    sensors().withWatermark('at', '30 seconds').filter('temperature IS NOT NULL').groupBy(window(col('at'), '30 seconds'), 'site')
      .agg(avg('temperature').alias('avg_t'), count('*').alias('n')).filter(col('avg_t').gt(20).or(col('n').geq(3))).select(col('window.start').alias('start'), 'site', 'avg_t')],
  ['sensors: complete mode sorted by a sum', ['complete'], () =>
    sensors().withColumn('hot', when(col('temperature').gt(25), true).otherwise(false)).groupBy('site', 'hot').agg(sum('temperature').alias('total'), avg(col('reading')).alias('avg_r')).orderBy(desc('total'), 'site')],
];

const maybe = <T>(arb: fc.Arbitrary<T>, weight = 3): fc.Arbitrary<T | null | undefined> =>
  fc.oneof({ weight, arbitrary: arb }, { weight: 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constant(undefined) });

const record = (fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 15, arbitrary: fc.record(fields).map((r) => JSON.stringify(r)) },
    { weight: 1, arbitrary: fc.constantFrom('', 'not json crash', '[1]', '{"content": "crash"', '{"severity":"High","content":"crash","timestamp":"x"}', '{"site":"a","at":"2024-11-25 10:40:05","temperature":"hot"}') },
  );

const labRecord = (baseMs: number) => record({
  timestamp: maybe(fc.oneof({ weight: 8, arbitrary: fc.integer({ min: baseMs - 20_000, max: baseMs + 20_000 }) }, { weight: 1, arbitrary: fc.constant('1732531200000') }), 8),
  status: maybe(fc.constantFrom('OK', 'ERROR')),
  severity: maybe(fc.constantFrom('High', 'Critical', 'Low', 'high')),
  source_ip: maybe(fc.constantFrom('192.168.1.1', '192.168.1.2')),
  user_id: maybe(fc.oneof({ weight: 5, arbitrary: fc.constantFrom('user_1', 'user_2', 'ü_3') }, { weight: 1, arbitrary: fc.constant(42) })),
  content: maybe(fc.constantFrom('app CRASH', 'crash', 'Crash loop', 'vulnerability found', 'all fine', 'VULNERABILITY crash')),
});

const sensorRecord = (baseMs: number) => record({
  sensor_id: maybe(fc.constantFrom('s1', 's2', 's3')),
  site: maybe(fc.constantFrom('north', 'south')),
  temperature: maybe(fc.oneof(fc.double({ min: -10, max: 40, noNaN: true }), fc.integer({ min: -5, max: 35 }), fc.constant('NaN'))),
  reading: maybe(fc.oneof(fc.integer({ min: -1000, max: 1000 }), fc.constant(3_000_000_000))),
  ok: maybe(fc.boolean()),
  at: maybe(fc.oneof(
    { weight: 3, arbitrary: fc.integer({ min: Math.floor((baseMs - 60_000) / 1000), max: Math.floor((baseMs + 60_000) / 1000) }) },
    { weight: 2, arbitrary: fc.integer({ min: baseMs - 60_000, max: baseMs + 60_000 }).map((ms) => new Date(ms).toISOString()) },
  ), 8),
});

const stream = (recordOf: (baseMs: number) => fc.Arbitrary<string>, stepMs: number) =>
  fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 6 }).chain((steps) => {
    let t = T0;
    return fc.tuple(...steps.map((s) => {
      t += s * stepMs;
      return fc.array(recordOf(t), { maxLength: 40 });
    }));
  });

const layoutArb = fc.record({
  cuts: fc.array(fc.double({ min: 0, max: 0.6, noNaN: true }), { maxLength: 3 }),
  partitions: fc.constantFrom(1, 2, 7),
  precheck: fc.boolean(),
  drain: fc.boolean(),
});

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

const labSmall = (): string[][] => {
  const dir = new URL('../fixtures/lab-small/', import.meta.url);
  return readdirSync(dir).sort().map((f) => readFileSync(new URL(f, dir), 'utf8').split('\n').filter((l) => l !== ''));
};

describe('the built-in plans give what the old reference gives on the lab\'s well-formed records', () => {
  it.each([
    ['crash-alerts', crashAlertsPlan, crashAlerts],
    ['vulnerability-by-ip', vulnerabilityByIpPlan, vulnerabilityByIp],
  ] as const)('%s', (_name, plan: QueryPlan, old) => {
    const batches = labSmall();
    const mine = runPlanReference(plan, batches, { drain: true });
    const theirs = runReference(old, batches, { drain: true });
    const asOld = mine.batches.map((b) => b.rows.map((r) => ({
      windowStartMs: r[0] !== null && typeof r[0] === 'object' ? (r[0] as WindowValue).startUs / 1000 : 0,
      key: (typeof r[0] === 'object' ? r[1] : r[0]) as string,
      count: r[r.length - 1] as number,
    })));
    expect(theirs.batches.map((b) => b.rows.map(({ forced: _forced, ...rest }) => rest))).toEqual(asOld);
    expect(mine.batches.map((b) => b.noData)).toEqual(theirs.batches.map((b) => b.noData));
    expect(mine.finalWatermarkMs).toBe(theirs.finalWatermarkMs);
    expect(mine.batches.reduce((n, b) => n + b.rows.length, 0)).toBeGreaterThan(0);
  });
});
