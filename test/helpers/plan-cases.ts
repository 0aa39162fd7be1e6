// Plans over the lab schema and a sensor schema (every aggregate, both window kinds, dropDuplicates, HAVING, orderBy, stateless) and random null-heavy streams for them.
import fc from 'fast-check';
import { approx_count_distinct, avg, col, count, desc, first, lower, max, min, sum, when, window } from '../../src/plan/column.js';
import { readStream } from '../../src/plan/dataframe.js';
import type { OutputMode } from '../../src/plan/plan.js';
import { LAB_SCHEMA } from '../../src/plan/queries.js';

export const T0 = Date.parse('2024-11-25T10:40:00Z');
export const SENSOR = 'sensor_id STRING, site STRING, temperature DOUBLE, reading INT, ok BOOLEAN, at TIMESTAMP';

const labEvents = () => readStream(LAB_SCHEMA).withColumn('event_time', col('timestamp').divide(1000).cast('timestamp'));
const sensors = () => readStream(SENSOR);

/** Plans over both schemas: every aggregate, tumbling and sliding windows, dropDuplicates, HAVING, orderBy, stateless. */
export const PLANS: Array<[string, OutputMode[], () => ReturnType<typeof labEvents>]> = [
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

export const labRecord = (baseMs: number) => record({
  timestamp: maybe(fc.oneof({ weight: 8, arbitrary: fc.integer({ min: baseMs - 20_000, max: baseMs + 20_000 }) }, { weight: 1, arbitrary: fc.constant('1732531200000') }), 8),
  status: maybe(fc.constantFrom('OK', 'ERROR')),
  severity: maybe(fc.constantFrom('High', 'Critical', 'Low', 'high')),
  source_ip: maybe(fc.constantFrom('192.168.1.1', '192.168.1.2')),
  user_id: maybe(fc.oneof({ weight: 5, arbitrary: fc.constantFrom('user_1', 'user_2', 'ü_3') }, { weight: 1, arbitrary: fc.constant(42) })),
  content: maybe(fc.constantFrom('app CRASH', 'crash', 'Crash loop', 'vulnerability found', 'all fine', 'VULNERABILITY crash')),
});

export const sensorRecord = (baseMs: number) => record({
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

export const stream = (recordOf: (baseMs: number) => fc.Arbitrary<string>, stepMs: number) =>
  fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 6 }).chain((steps) => {
    let t = T0;
    return fc.tuple(...steps.map((s) => {
      t += s * stepMs;
      return fc.array(recordOf(t), { maxLength: 40 });
    }));
  });

export const layoutArb = fc.record({
  cuts: fc.array(fc.double({ min: 0, max: 0.6, noNaN: true }), { maxLength: 3 }),
  partitions: fc.constantFrom(1, 2, 7),
  precheck: fc.boolean(),
  drain: fc.boolean(),
});

