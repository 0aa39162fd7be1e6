// Spark Connect translation without a server: schemas and intervals as Spark reads them, protobuf plans to Kindling's tree, refusals, config, error trailers.
import { create, fromBinary } from '@bufbuild/protobuf';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { Metadata } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { ConnectError, toServiceError, unsupported } from '../../src/connect/errors.js';
import { explainRelation } from '../../src/connect/explain.js';
import { ErrorInfoSchema } from '../../src/connect/gen/google/rpc/error_details_pb.js';
import { StatusSchema } from '../../src/connect/gen/google/rpc/status_pb.js';
import { RelationSchema } from '../../src/connect/gen/spark/connect/relations_pb.js';
import { SessionConfig } from '../../src/connect/session-config.js';
import { parseSchema, simpleString, treeString } from '../../src/connect/sql-types.js';
import { translateRelation } from '../../src/connect/translate-relation.js';
import { resolveSchema, SUPPORTED_FUNCTIONS, typed } from '../../src/connect/resolve.js';
import { atomic } from '../../src/connect/sql-types.js';
import { column, fn, readStream, str, translated, type ExpressionInit, type RelationInit } from '../helpers/connect-proto.js';

const textStream: RelationInit = readStream('text', {}, { paths: ['/in'] });
const rel = translated;

describe('schemas as Spark reads them', () => {
  it.each([
    ['timestamp LONG, user_id STRING', 'struct<timestamp:bigint,user_id:string>'],
    ['a INT NOT NULL, b DOUBLE', 'struct<a:int,b:double>'],
    ['`odd name` STRING', 'struct<odd name:string>'],
    ['s STRUCT<x: BIGINT, y: BOOLEAN>, t TIMESTAMP', 'struct<s:struct<x:bigint,y:boolean>,t:timestamp>'],
    ['{"type":"struct","fields":[{"name":"v","type":"long","nullable":true,"metadata":{}}]}', 'struct<v:bigint>'],
    ["a INT COMMENT 'the, a', s STRUCT<`b c`: STRING, d: STRUCT<e: DOUBLE>> NOT NULL, v VARCHAR(10)", 'struct<a:int,s:struct<b c:string,d:struct<e:double>>,v:string>'],
  ])('parses %s', (text, expected) => {
    expect(simpleString(parseSchema(text, 'test'))).toBe(expected);
  });

  it('keeps NOT NULL as nullable = false', () => {
    expect(treeString(parseSchema('a INT NOT NULL, b DOUBLE', 'test'))).toBe('root\n |-- a: integer (nullable = false)\n |-- b: double (nullable = true)\n');
  });

  it('names the position where a schema stops parsing, with the plan\'s DDL grammar', () => {
    expect(() => parseSchema('a INT b LONG', 'from_json')).toThrow(
      'Cannot parse the schema in from_json: DDL schema at position 6: expected a comma or the end of the schema, got \'b LONG\' (in "a INT b LONG").',
    );
    expect(() => parseSchema('s STRUCT<x: INT', 'from_json')).toThrow("DDL schema at position 15: expected a closing >, got the end of the text");
  });

  it('names the type it cannot read', () => {
    expect(() => parseSchema('a MAP<STRING, INT>', 'from_json')).toThrow(/Unsupported data type "MAP<STRING, INT>" in from_json/);
  });
});

describe('relations and expressions from protobuf', () => {
  it('translates filter over a streaming read into the tree explain prints', () => {
    const plan = rel({ relType: { case: 'filter', value: { input: textStream, condition: fn('contains', fn('lower', column('value')), str('crash')) } } });
    expect(explainRelation(plan)).toBe("Filter contains(lower(value), 'crash')\n+- Read text (streaming) /in");
  });

  it.each([
    ['range', { relType: { case: 'range', value: {} } } as RelationInit, 'Not supported by Kindling: spark.range(...). For a generated stream use spark.readStream.format("rate").'],
    ['drop', { relType: { case: 'drop', value: {} } } as RelationInit, 'Not supported by Kindling: df.drop(...). Use select(...) with the columns to keep.'],
    ['a batch read', { relType: { case: 'read', value: { isStreaming: false, readType: { case: 'dataSource', value: { format: 'json' } } } } } as RelationInit, 'Not supported by Kindling: Batch reads (spark.read...).'],
    ['an unknown option', { relType: { case: 'read', value: { isStreaming: true, readType: { case: 'dataSource', value: { format: 'rate', options: { rowsPerBatch: '5' } } } } } } as RelationInit, 'Not supported by Kindling: The rate source option "rowsPerBatch".'],
  ])('refuses %s by name', (_name, init, message) => {
    expect(() => rel(init)).toThrow(message);
  });

  it('refuses a UDF inside an expression, naming the function', () => {
    const udf: ExpressionInit = { exprType: { case: 'commonInlineUserDefinedFunction', value: { functionName: 'shout' } } };
    expect(() => rel({ relType: { case: 'project', value: { input: textStream, expressions: [udf] } } })).toThrow('Not supported by Kindling: User-defined functions (udf, pandas_udf) (shout).');
  });

  it('asks whether the client is newer when a relation kind is missing from the 4.0 protocol', () => {
    expect(() => rel({})).toThrow(/kind this protocol version does not define/);
  });
});

describe('output schemas', () => {
  const parsed: RelationInit = {
    relType: {
      case: 'project',
      value: { input: textStream, expressions: [{ exprType: { case: 'alias', value: { expr: fn('from_json', column('value'), str('t TIMESTAMP, user STRING')), name: ['data'] } } }, { exprType: { case: 'unresolvedStar', value: {} } }] },
    },
  };

  it('marks the watermarked column and the window over it as Spark does', () => {
    const watermarked: RelationInit = { relType: { case: 'withWatermark', value: { input: { relType: { case: 'project', value: { input: parsed, expressions: [{ exprType: { case: 'unresolvedStar', value: { unparsedTarget: 'data.*' } } }] } } }, eventTime: 't', delayThreshold: '30 seconds' } } };
    const agg = rel({ relType: { case: 'aggregate', value: { input: watermarked, groupType: 1, groupingExpressions: [fn('window', column('t'), str('10 seconds'))], aggregateExpressions: [fn('count', column('user'))] } } });
    expect(resolveSchema(agg).map((f) => [f.name, f.nullable, f.metadata])).toEqual([
      ['window', false, { 'spark.watermarkDelayMs': 30_000, 'spark.timeWindow': true }],
      ['count(user)', false, { __autoGeneratedAlias: 'true' }],
    ]);
  });

  it("names expr('... AS n') columns by their alias, and makes avg nullable over a column that is not (as the PySpark suite's Spark did)", () => {
    const sql = (expression: string) => ({ exprType: { case: 'expressionString' as const, value: { expression } } });
    const weighted: RelationInit = { relType: { case: 'withColumns', value: { input: parsed, aliases: [{ expr: fn('coalesce', column('data.user'), str('-')), name: ['who'] }] } } };
    const agg = rel({ relType: { case: 'aggregate', value: { input: weighted, groupType: 1, groupingExpressions: [column('who')], aggregateExpressions: [sql('count(*) AS n'), fn('avg', fn('length', column('who'))), sql('max(length(who)) longest')] } } });
    expect(resolveSchema(agg).map((f) => [f.name, f.nullable, f.metadata])).toEqual([
      ['who', false, undefined],
      ['n', false, undefined],
      ['avg(length(who))', true, { __autoGeneratedAlias: 'true' }],
      ['longest', true, undefined],
    ]);
  });

  it('refuses a watermark delay that is not an interval, as an AnalysisException', () => {
    const timed: RelationInit = { relType: { case: 'withColumns', value: { input: textStream, aliases: [{ expr: fn('to_timestamp', column('value')), name: ['t'] }] } } };
    const plan = rel({ relType: { case: 'withWatermark', value: { input: timed, eventTime: 't', delayThreshold: '30 secs' } } });
    expect(() => resolveSchema(plan)).toThrow(/^\[INVALID_INTERVAL_FORMAT\] withWatermark\("t", "30 secs"\): "30 secs" is not a duration/);
  });

  it('refuses a watermark on a column that is not a timestamp', () => {
    const plan = rel({ relType: { case: 'withWatermark', value: { input: textStream, eventTime: 'value', delayThreshold: '1 minute' } } });
    expect(() => resolveSchema(plan)).toThrow('[EVENT_TIME_IS_NOT_ON_TIMESTAMP_TYPE] The event time `value` has the invalid type "STRING", but expected "TIMESTAMP".');
  });

  it('suggests the columns there are for one that is not', () => {
    const plan = rel({ relType: { case: 'project', value: { input: parsed, expressions: [column('data.usr')] } } });
    expect(() => resolveSchema(plan)).toThrow('name `data.usr` cannot be resolved. Did you mean one of the following? [`t`, `user`].');
  });
});

describe('functions', () => {
  it.each(SUPPORTED_FUNCTIONS.filter((f) => f !== 'from_json' && f !== 'window'))('%s has a result type', (name) => {
    const args = Array.from({ length: name === 'when' || name === 'substring' || name === 'substr' ? 3 : name === 'in' ? 3 : 2 }, () => ({ kind: 'column' as const, name: 'n', planId: undefined, origin: undefined }));
    const f = typed({ kind: 'function', name, args: ['-u', 'negative', 'not', '!', 'isnull', 'isnotnull', 'lower', 'upper', 'trim', 'length', 'char_length', 'character_length', 'abs', 'count', 'sum', 'avg', 'mean', 'min', 'max', 'first', 'approx_count_distinct', 'to_timestamp', 'from_unixtime'].includes(name) ? args.slice(0, 1) : args, distinct: false, origin: undefined }, [{ name: 'n', type: atomic('bigint'), nullable: true }]);
    expect(f.type.kind).toBe('atomic');
  });
});

describe('session config', () => {
  it('answers defaults, notes a key without effect once, and refuses an unknown key as Spark does', () => {
    const config = new SessionConfig();
    expect(config.get('spark.sql.repl.eagerEval.enabled')).toBe('false');
    expect(config.set('spark.executor.memory', '2g')).toMatch(/spark.executor.memory is accepted but has no effect/);
    expect(config.set('spark.executor.memory', '4g')).toBeNull();
    expect(config.set('spark.sql.streaming.checkpointLocation', '/cp')).toBeNull();
    expect(() => config.get('kindling.nope')).toThrow('[SQL_CONF_NOT_FOUND] The SQL config "kindling.nope" cannot be found.');
  });
});

describe('errors as the client receives them', () => {
  it('carries the exception class and error class in the rich status PySpark unpacks', () => {
    const e = toServiceError(unsupported('df.join', 'Use one stream.'));
    const details = (e.metadata as Metadata).get('grpc-status-details-bin')[0] as Buffer;
    const status = fromBinary(StatusSchema, details);
    expect(status.code).toBe(e.code);
    expect(status.message).toBe(e.details);
    const info = anyUnpack(status.details[0]!, ErrorInfoSchema)!;
    expect(info.metadata).toEqual({ classes: '["java.lang.UnsupportedOperationException"]', errorClass: 'KINDLING_UNSUPPORTED', messageParameters: '{"what":"df.join"}' });
  });

  it('reports a bug as an internal error of Kindling, not as the user\'s', () => {
    const e = toServiceError(new TypeError('x is undefined'));
    expect(e.details).toMatch(/^\[KINDLING_INTERNAL_ERROR\] internal error in Kindling's Spark Connect server: TypeError: x is undefined/);
    expect(new ConnectError(e.code!, 'org.apache.spark.SparkException', 'X', 'y').message).toBe('[X] y');
  });
});

describe('clients newer than Spark Connect 4.0', () => {
  it('refuses a field 4.0 does not define in a message Kindling translates, rather than ignoring it', () => {
    const read = create(RelationSchema, textStream);
    // Read.DataSource.source_name (field 6) exists only in newer Spark: a length-delimited "src".
    const ds = (read.relType.value as { readType: { value: { $unknown?: unknown[] } } }).readType.value;
    ds.$unknown = [{ no: 6, wireType: 2, data: new Uint8Array([3, 115, 114, 99]) }];
    expect(() => translateRelation(read)).toThrow('[KINDLING_NEWER_PROTOCOL] spark.readStream carries field(s) 6 that Spark Connect 4.0 does not define');
  });

  it('still names a refused kind, whose payload Kindling never reads', () => {
    const range = create(RelationSchema, { relType: { case: 'range', value: {} } });
    range.relType.value!.$unknown = [{ no: 2, wireType: 0, data: new Uint8Array([3]) }];
    expect(() => translateRelation(range)).toThrow('Not supported by Kindling: spark.range(...).');
  });
});
