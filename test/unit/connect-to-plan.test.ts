// Spark Connect plans mapped onto Kindling's plan (src/plan): the lab's queries as PySpark sends them give the plans the TypeScript builder gives.
import { describe, expect, it } from 'vitest';
import { toPlan, toQuery } from '../../src/connect/to-plan.js';
import { LAB_SCHEMA, crashAlertsPlan, vulnerabilityByIpPlan } from '../../src/plan/queries.js';
import { schemaOf } from '../../src/plan/schema.js';
import { alias, cast, column, filter, fn, int, project, readStream, star, str, translated, type ExpressionInit, type RelationInit } from '../helpers/connect-proto.js';

/** spark.readStream.format("kafka")...load().select(from_json(col("value").cast("string"), LAB_SCHEMA).alias("data")).select("data.*") */
const parsed: RelationInit = project(project(readStream('kafka', { subscribe: 'logs' }), alias(fn('from_json', cast(column('value'), 'string'), str(LAB_SCHEMA)), 'data')), star('data.*'));

describe('PySpark plans on Kindling\'s plan', () => {
  it("maps crash-alerts as PySpark sends it onto the builder's crash-alerts plan", () => {
    const events: RelationInit = { relType: { case: 'withColumns', value: { input: parsed, aliases: [{ expr: cast(fn('/', column('timestamp'), int(1000)), 'timestamp'), name: ['event_time'] }] } } };
    const crashes = filter(events, fn('and', fn('contains', fn('lower', column('content')), str('crash')), fn('in', column('severity'), str('High'), str('Critical'))));
    const watermarked: RelationInit = { relType: { case: 'withWatermark', value: { input: crashes, eventTime: 'event_time', delayThreshold: '30 seconds' } } };
    const counted: RelationInit = {
      relType: { case: 'aggregate', value: { input: watermarked, groupType: 1, groupingExpressions: [fn('window', column('event_time'), str('10 seconds')), column('user_id')], aggregateExpressions: [alias(fn('count', star()), 'crash_count')] } },
    };
    const mapped = toPlan(translated(filter(counted, fn('>', column('crash_count'), int(2)))));
    expect(mapped.source).toEqual({ format: 'kafka', options: { subscribe: 'logs' }, paths: [] });
    expect(mapped.root).toEqual(crashAlertsPlan.root);
  });

  it("maps vulnerability-by-ip, with a SQL string filter, onto the builder's plan", () => {
    const high = filter(parsed, { exprType: { case: 'expressionString', value: { expression: "lower(content) LIKE '%vulnerability%'" } } });
    const counted: RelationInit = { relType: { case: 'aggregate', value: { input: filter(parsed, fn('and', fn('contains', fn('lower', column('content')), str('vulnerability')), fn('==', column('severity'), str('High')))), groupType: 1, groupingExpressions: [column('source_ip')], aggregateExpressions: [alias(fn('count', star()), 'count')] } } };
    const sorted: RelationInit = { relType: { case: 'sort', value: { input: counted, order: [{ child: column('count'), direction: 2, nullOrdering: 2 }], isGlobal: true } } };
    const { query } = toQuery({ input: translated(sorted), format: 'console', outputMode: 'complete', options: {}, queryName: '', trigger: { kind: 'default' }, path: undefined }, true);
    expect(query.root).toEqual(vulnerabilityByIpPlan.root);
    // A SQL string goes through the plan's own SQL parser.
    expect(toPlan(translated(high)).root).toMatchObject({ kind: 'filter', condition: { kind: 'call', name: 'like' } });
  });

  it("refuses a start the plan's checker refuses, with the checker's reason", () => {
    const perUser: RelationInit = { relType: { case: 'aggregate', value: { input: parsed, groupType: 1, groupingExpressions: [column('user_id')], aggregateExpressions: [alias(fn('count', star()), 'n')] } } };
    expect(() => toQuery({ input: translated(perUser), format: 'console', outputMode: 'append', options: {}, queryName: '', trigger: { kind: 'default' }, path: undefined }, true)).toThrow(
      /\[KINDLING_PLAN\] append output mode needs a watermark on a windowed aggregation/,
    );
  });

  it('says how to parse a Kafka value that reaches the plan unparsed', () => {
    expect(() => toPlan(translated(project(readStream('kafka'), cast(column('value'), 'string'))))).toThrow('Not supported by Kindling: A kafka stream that is not parsed with from_json.');
  });

  it('reads col("data.field") after the parse step as the field, without select("data.*")', () => {
    const parsedOnly = project(readStream('kafka'), alias(fn('from_json', cast(column('value'), 'string'), str(LAB_SCHEMA)), 'data'));
    const mapped = toPlan(translated(project(parsedOnly, column('data.user_id'), alias(fn('lower', column('data.content')), 'content'))));
    expect(mapped.root).toEqual({
      kind: 'project',
      input: { kind: 'source', schema: schemaOf(LAB_SCHEMA) },
      exprs: [{ kind: 'column', name: 'user_id' }, { kind: 'alias', expr: { kind: 'call', name: 'lower', args: [{ kind: 'column', name: 'content' }] }, name: 'content' }],
    });
  });

  it("maps expr('count(*) AS n') in an aggregation onto an aliased aggregate, as Spark's parseExpression reads it", () => {
    const perUser: RelationInit = { relType: { case: 'aggregate', value: { input: parsed, groupType: 1, groupingExpressions: [column('user_id')], aggregateExpressions: [{ exprType: { case: 'expressionString', value: { expression: 'count(*) AS n' } } }] } } };
    expect(toPlan(translated(perUser)).root).toMatchObject({ kind: 'aggregate', aggregates: [{ kind: 'alias', name: 'n', expr: { kind: 'call', name: 'count' } }] });
  });

  it('never drops DISTINCT: count_distinct (count with isDistinct) is refused at start as Spark refuses it, and so is sum(DISTINCT)', () => {
    const distinct = (name: string): ExpressionInit => ({ exprType: { case: 'unresolvedFunction', value: { functionName: name, arguments: [column('user_id')], isDistinct: true } } });
    const perIp = (e: ExpressionInit): RelationInit => ({ relType: { case: 'aggregate', value: { input: parsed, groupType: 1, groupingExpressions: [column('source_ip')], aggregateExpressions: [alias(e, 'users')] } } });
    const start = (e: ExpressionInit) => () => toQuery({ input: translated(perIp(e)), format: 'console', outputMode: 'update', options: {}, queryName: '', trigger: { kind: 'default' }, path: undefined }, true);
    expect(start(distinct('count'))).toThrow(/\[KINDLING_PLAN\] .*count_distinct \(an exact distinct count\) is not supported on streaming DataFrames, as in Spark; use approx_count_distinct/);
    expect(start(distinct('sum'))).toThrow('[KINDLING_PLAN] sum(DISTINCT ...): distinct aggregations are not supported on streaming DataFrames, as in Spark; use approx_count_distinct');
  });

  it('maps a json file source with a schema straight onto the plan\'s source, which skips blank lines as Spark\'s json source does', () => {
    const mapped = toPlan(translated(filter(readStream('json', {}, { schema: 'a INT, b STRING', paths: ['/in'] }), fn('>', column('a'), int(1)))));
    expect(mapped.root).toEqual({ kind: 'filter', input: { kind: 'source', schema: { fields: [{ name: 'a', type: 'int' }, { name: 'b', type: 'string' }] }, skipBlankLines: true }, condition: { kind: 'call', name: '>', args: [{ kind: 'column', name: 'a' }, { kind: 'literal', value: 1, type: 'int' }] } });
  });
});
