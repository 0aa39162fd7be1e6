// The DataFrame builder and Spark's streaming checker: every step fails early, and refused queries say what to change.
import { describe, expect, it } from 'vitest';
import { approx_count_distinct, avg, col, count, count_distinct, desc, first, lower, max, min, sum, window } from '../../src/plan/column.js';
import { readStream } from '../../src/plan/dataframe.js';
import { explainQuery } from '../../src/plan/explain.js';
import { crashAlertsPlan, LAB_SCHEMA } from '../../src/plan/queries.js';
import { analyzePlan, asQueryPlan, planFingerprint } from '../../src/plan/plan.js';

const lab = () => readStream(LAB_SCHEMA).withColumn('event_time', col('timestamp').divide(1000).cast('timestamp'));
const SENSOR = 'sensor_id STRING, site STRING, temperature DOUBLE, reading INT, ok BOOLEAN, at TIMESTAMP';

describe('the builder', () => {
  it('builds the lab query step by step, each step a new plan', () => {
    const base = lab();
    const filtered = base.filter(lower(col('content')).contains('crash'));
    expect(filtered).not.toBe(base);
    expect(base.plan.kind).toBe('project');
    expect(filtered.plan.kind).toBe('filter');
    expect(filtered.columns).toEqual(['timestamp', 'status', 'severity', 'source_ip', 'user_id', 'content', 'event_time']);
  });

  it('types every output column', () => {
    const df = readStream(SENSOR)
      .withWatermark('at', '1 minute')
      .groupBy(window(col('at'), '1 minute', '30 seconds'), col('site'), col('sensor_id'))
      .agg(avg('temperature').alias('avg_t'), max('temperature').alias('max_t'), sum('reading').alias('total'), count('ok').alias('n'), min('site'), first('ok'));
    expect(df.dtypes).toEqual([
      ['window', 'window'], ['site', 'string'], ['sensor_id', 'string'], ['avg_t', 'double'], ['max_t', 'double'], ['total', 'long'], ['n', 'long'], ['min(site)', 'string'], ['first(ok)', 'boolean'],
    ]);
  });

  it('reads Spark SQL strings in filter, selectExpr and agg', () => {
    const df = lab()
      .selectExpr('lower(content) AS content', 'severity', 'event_time', 'user_id')
      .filter("content LIKE '%crash%' AND severity IN ('High', 'Critical')")
      .withWatermark('event_time', '30 seconds')
      .groupBy(window(col('event_time'), '10 seconds'), 'user_id')
      .agg('count(*) AS crash_count');
    expect(df.columns).toEqual(['window', 'user_id', 'crash_count']);
  });

  it('replaces a column of the same name in place with withColumn', () => {
    expect(lab().withColumn('content', lower(col('content'))).columns).toEqual(['timestamp', 'status', 'severity', 'source_ip', 'user_id', 'content', 'event_time']);
  });

  it.each([
    ['a filter on a missing column', () => lab().filter(col('usr').eq('x')), 'filter: cannot resolve column "usr"; available columns: timestamp, status, severity, source_ip, user_id, content, event_time'],
    ['a watermark on a long column', () => lab().withWatermark('timestamp', '30 seconds'), 'watermark: event time must be a TIMESTAMP column, but "timestamp" is BIGINT; derive one first'],
    ['a bad delay', () => lab().withWatermark('event_time', '30 secs'), 'watermark: withWatermark delay: "30 secs" is not a duration'],
    ['a window over a string', () => lab().groupBy(window(col('user_id'), '10 seconds')), 'aggregate: window: "user_id" is STRING; window() needs a TIMESTAMP column'],
    ['a slide longer than the window', () => lab().groupBy(window(col('event_time'), '10 seconds', '20 seconds')), 'the slide duration must be positive and at most the window duration'],
    ['a non-aggregate in agg', () => lab().groupBy('user_id').agg(col('content')), 'agg takes aggregate functions (count, sum, avg, min, max, first, approx_count_distinct); got content'],
    ['an average of strings', () => lab().groupBy('user_id').agg(avg('content')), 'avg needs a numeric column (INT, BIGINT or DOUBLE); got STRING'],
    ['count_distinct', () => lab().groupBy('user_id').agg(count_distinct('content')), 'count_distinct (an exact distinct count) is not supported on streaming DataFrames, as in Spark; use approx_count_distinct'],
    ['chained aggregations', () => lab().groupBy('user_id').count().groupBy('count').count(), 'multiple streaming aggregations are not supported'],
    ['a HAVING on a missing alias', () => lab().groupBy('user_id').agg(count('*').alias('n')).filter(col('crash_count').gt(2)), 'filter: cannot resolve column "crash_count"; available columns: user_id, n'],
    ['a non-boolean filter', () => lab().filter(col('content')), 'filter: the condition content is STRING, not BOOLEAN'],
    ['orderBy without an aggregation', () => lab().orderBy('timestamp'), 'sort: orderBy needs an aggregation before it'],
    ['a watermark after the aggregation', () => lab().groupBy('user_id').count().withWatermark('event_time', '1 second'), 'watermark: withWatermark must come before dropDuplicates and groupBy'],
  ])('refuses %s', (_name, build, message) => {
    expect(build).toThrow(message);
  });

  it('types approx_count_distinct as BIGINT and refuses an rsd Spark refuses, with Spark\'s reason', () => {
    expect(lab().groupBy('user_id').agg(approx_count_distinct('source_ip')).dtypes).toEqual([['user_id', 'string'], ['approx_count_distinct(source_ip)', 'long']]);
    expect(() => lab().groupBy('user_id').agg(approx_count_distinct('source_ip', 0.5))).toThrow(/HLL\+\+ requires at least 4 bits for addressing/);
  });
});

describe('the streaming checker (Spark\'s UnsupportedOperationChecker)', () => {
  const windowed = () => lab().withWatermark('event_time', '30 seconds').groupBy(window(col('event_time'), '10 seconds'), 'user_id').count();
  it.each([
    ['orderBy outside complete mode', () => lab().groupBy('user_id').count().orderBy(desc('count')).toQuery({ name: 'q', outputMode: 'update' }), 'orderBy is not supported on a streaming DataFrame unless it sorts an aggregation in complete output mode; this query is in update mode'],
    ['append with a plain groupBy even with a watermark', () => lab().withWatermark('event_time', '30 seconds').groupBy('user_id').count().toQuery({ name: 'q', outputMode: 'append' }), 'append output mode needs the aggregation grouped by a window over the watermarked column "event_time"'],
    ['append with a window but no watermark', () => lab().groupBy(window(col('event_time'), '10 seconds')).count().toQuery({ name: 'q', outputMode: 'append' }), 'append output mode needs a watermark on a windowed aggregation: add withWatermark'],
    ['complete mode without an aggregation', () => lab().filter(col('severity').eq('High')).toQuery({ name: 'q', outputMode: 'complete' }), 'complete output mode needs a streaming aggregation'],
  ])('refuses %s', (_name, build, message) => {
    expect(build).toThrow(message);
  });

  it.each([
    ['update without aggregation', () => lab().filter(col('severity').eq('High')).toQuery({ name: 'q', outputMode: 'update' })],
    ['append without aggregation', () => lab().toQuery({ name: 'q', outputMode: 'append' })],
    ['dropDuplicates then a window count in append mode', () => lab().withWatermark('event_time', '30 seconds').dropDuplicates(['user_id', 'event_time']).groupBy(window(col('event_time'), '10 seconds')).count().toQuery({ name: 'q', outputMode: 'append' })],
    ['a windowed count in append, update and complete mode', () => ['append', 'update', 'complete'].map((m) => windowed().toQuery({ name: 'q', outputMode: m as 'append' }))],
    ['a sorted aggregation in complete mode', () => lab().groupBy('user_id').count().orderBy(desc('count')).toQuery({ name: 'q', outputMode: 'complete' })],
  ])('accepts %s', (_name, build) => {
    expect(build).not.toThrow();
  });

  it('pushes a filter that does not use the event-time column below the watermark, and keeps one that does above it', () => {
    const df = lab().withWatermark('event_time', '30 seconds').filter(col('severity').eq('High')).filter(col('event_time').isNotNull());
    const pre = analyzePlan(df.plan, { ansi: true }).pre.filter((s) => s.kind === 'filter');
    expect(pre.map((s) => s.kind === 'filter' && s.pushedBelowWatermark)).toEqual([true, false]);
  });

  it('evicts dropDuplicates keys only when the event-time column is among them', () => {
    const withTime = analyzePlan(lab().withWatermark('event_time', '1 minute').dropDuplicates(['user_id', 'event_time']).plan, { ansi: true });
    const without = analyzePlan(lab().withWatermark('event_time', '1 minute').dropDuplicates(['user_id']).plan, { ansi: true });
    expect(withTime.dedup?.eventTimeOrdinal).toBe(6);
    expect(without.dedup?.eventTimeOrdinal).toBeNull();
  });
});

describe('explain', () => {
  it('prints the operators root first, like df.explain()', () => {
    expect(lab().filter(col('severity').eq('High')).explain()).toBe(
      [
        '== Logical Plan ==',
        "Filter (severity = 'High')",
        '+- Project [timestamp, status, severity, source_ip, user_id, content, CAST((timestamp / 1000) AS TIMESTAMP) AS event_time]',
        '   +- FromJson [timestamp BIGINT, status STRING, severity STRING, source_ip STRING, user_id STRING, content STRING]',
        '      +- StreamingSource',
      ].join('\n'),
    );
  });

  it('the built-in crash-alerts plan is plain data that survives a structured clone', () => {
    expect(structuredClone(crashAlertsPlan)).toEqual(crashAlertsPlan);
  });
});

describe('asQueryPlan, for a module whose default export is a plan', () => {
  it('accepts a built plan, also after a structured clone (as it crosses threads)', () => {
    expect(asQueryPlan(structuredClone(crashAlertsPlan), 'q.mjs')).toEqual(crashAlertsPlan);
  });

  it.each([
    ['not an object', 42, 'q.mjs: expected a query plan'],
    ['no name', { ...crashAlertsPlan, name: '' }, 'q.mjs: "name" must be a non-empty string'],
    ['a bad mode', { ...crashAlertsPlan, outputMode: 'upsert' }, 'q.mjs: "outputMode" must be append, update or complete'],
    ['a DataFrame instead of a plan', { name: 'x', outputMode: 'append', ansi: true, root: null }, 'q.mjs: "root" must be a plan node'],
    ['a mode Spark refuses for it', { ...crashAlertsPlan, outputMode: 'update', root: { kind: 'sort', input: crashAlertsPlan.root, orders: [] } }, 'q.mjs: orderBy is not supported on a streaming DataFrame unless'],
    ['a plan that does not resolve', { ...crashAlertsPlan, root: { kind: 'filter', input: crashAlertsPlan.root, condition: { kind: 'column', name: 'nope' } } }, 'q.mjs: filter: cannot resolve column "nope"'],
  ])('refuses %s', (_name, value, message) => {
    expect(() => asQueryPlan(value, 'q.mjs')).toThrow(message);
  });

  it('fingerprints plans by their data: equal plans alike, a changed window differently', () => {
    const again = lab().filter(lower(col('content')).contains('crash').and(col('severity').isin('High', 'Critical')));
    const a = again.withWatermark('event_time', '30 seconds').groupBy(window(col('event_time'), '10 seconds'), col('user_id')).agg(count('*').alias('crash_count')).filter(col('crash_count').gt(2));
    const b = again.withWatermark('event_time', '30 seconds').groupBy(window(col('event_time'), '20 seconds'), col('user_id')).agg(count('*').alias('crash_count')).filter(col('crash_count').gt(2));
    expect(planFingerprint(a.toQuery({ name: 'crash-alerts', outputMode: 'append' }))).toBe(planFingerprint(crashAlertsPlan));
    expect(planFingerprint(b.toQuery({ name: 'crash-alerts', outputMode: 'append' }))).not.toBe(planFingerprint(crashAlertsPlan));
  });
});

describe('explainQuery', () => {
  it('adds how Kindling runs the plan: the derived pre-check, the stages and the watermark rules', () => {
    expect(explainQuery(crashAlertsPlan).split('\n').slice(-4)).toEqual([
      '== Execution (crash-alerts, append mode) ==',
      "pre-check: 'crash'",
      'stage 1 (one task per split): FromJson -> Project [timestamp, status, severity, source_ip, user_id, content, event_time] -> Filter -> EventTimeWatermark event_time, 30000 ms -> partial aggregate -> route by the group key',
      'stage 2 (one task per partitionId with state): drop late groups (window end <= W(N-1)) -> merge into state -> emit and evict windows ending <= W(N) -> Filter (HAVING)',
    ]);
  });

  it('marks a filter Spark pushes below the watermark, and says when every record is parsed', () => {
    const q = lab().withWatermark('event_time', '1 minute').filter(col('severity').isNotNull()).dropDuplicates(['user_id']).toQuery({ name: 'q', outputMode: 'append' });
    expect(explainQuery(q).split('\n').slice(-3)).toEqual([
      'pre-check: none (every record is parsed)',
      'stage 1 (one task per split): FromJson -> Project [timestamp, status, severity, source_ip, user_id, content, event_time] -> EventTimeWatermark event_time, 60000 ms -> Filter (pushed below the watermark) -> route by the dropDuplicates key',
      'stage 2 (one task per partitionId with state): Deduplicate (keys kept forever, nothing late)',
    ]);
  });
});
