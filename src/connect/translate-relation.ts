// Spark Connect relations (protobuf) to Kindling's plain relation tree: one function per relation kind; refused kinds name themselves and what to use instead.
import type { Read_DataSource, Relation } from './gen/spark/connect/relations_pb.js';
import { Aggregate_GroupType } from './gen/spark/connect/relations_pb.js';
import { Expression_SortOrder_NullOrdering, Expression_SortOrder_SortDirection } from './gen/spark/connect/expressions_pb.js';
import type { ConnectRelation, Origin, SortKey } from './logical.js';
import { analysisError, unsupported } from './errors.js';
import { parseSchema } from './sql-types.js';
import { originOf, translateExpression, where } from './translate-expression.js';
import { refuseNewerFields } from './newer-fields.js';

const STREAMING_ONLY = 'Kindling runs streaming queries: read with spark.readStream.format("kafka" | "json" | "text" | "rate") and write with writeStream.start()';

/** Relation kinds Kindling refuses, as a PySpark user writes them, and what to use instead. */
const REFUSED_RELATIONS: Readonly<Record<string, readonly [string, string?]>> = {
  join: ['Joins (df.join)', 'Kindling runs one stream through filters and aggregations.'],
  setOp: ['union/intersect/exceptAll', 'Kindling runs one stream through filters and aggregations.'],
  limit: ['df.limit(...)', 'the console sink shows numRows rows: writeStream.format("console").option("numRows", N).'],
  sql: ['spark.sql(...)', 'use SQL expressions with expr(...), selectExpr(...) or filter("...").'],
  localRelation: ['spark.createDataFrame(...)', STREAMING_ONLY],
  cachedLocalRelation: ['spark.createDataFrame(...)', STREAMING_ONLY],
  sample: ['df.sample(...)'],
  offset: ['df.offset(...)'],
  range: ['spark.range(...)', 'for a generated stream use spark.readStream.format("rate").'],
  repartition: ['df.repartition(...)/coalesce(...)', 'Kindling places data by itself (kindling --partitions).'],
  repartitionByExpression: ['df.repartition(cols)', 'Kindling places data by itself (kindling --partitions).'],
  withColumnsRenamed: ['df.withColumnRenamed(...)', 'use select(col("old").alias("new"), ...).'],
  showString: ['df.show()', 'show a stream with writeStream.format("console").'],
  htmlString: ['Showing a DataFrame as HTML', 'show a stream with writeStream.format("console").'],
  drop: ['df.drop(...)', 'use select(...) with the columns to keep.'],
  tail: ['df.tail(...)'],
  hint: ['df.hint(...)'],
  unpivot: ['df.unpivot/melt(...)'],
  toSchema: ['df.to(schema)', 'use select(col(...).cast(...)).'],
  mapPartitions: ['mapInPandas/mapInArrow', 'write the logic with built-in functions from pyspark.sql.functions.'],
  collectMetrics: ['df.observe(...)'],
  parse: ['Parsing a DataFrame of strings (spark.read.json(df))', 'use from_json(col, schema).'],
  groupMap: ['applyInPandas/applyInPandasWithState/transformWithState', 'use groupBy(...).agg(...).'],
  coGroupMap: ['cogroup(...).applyInPandas'],
  applyInPandasWithState: ['applyInPandasWithState'],
  cachedRemoteRelation: ['A cached or checkpointed DataFrame'],
  commonInlineUserDefinedTableFunction: ['User-defined table functions (udtf)'],
  asOfJoin: ['df.join_asof(...)'],
  commonInlineUserDefinedDataSource: ['Python data sources (spark.dataSource.register)'],
  withRelations: ['SQL with DataFrame arguments'],
  transpose: ['df.transpose()'],
  unresolvedTableValuedFunction: ['Table-valued functions (spark.tvf)'],
  lateralJoin: ['df.lateralJoin(...)'],
  fillNa: ['df.fillna/na.fill(...)', 'use coalesce-like logic with when(col.isNull(), value).otherwise(col).'],
  dropNa: ['df.dropna/na.drop(...)', 'use filter(col("c").isNotNull()).'],
  replace: ['df.replace/na.replace(...)', 'use when(...).otherwise(...).'],
  summary: ['df.summary()'],
  crosstab: ['df.crosstab(...)'],
  describe: ['df.describe()'],
  cov: ['df.cov(...)'],
  corr: ['df.corr(...)'],
  approxQuantile: ['df.approxQuantile(...)'],
  freqItems: ['df.freqItems(...)'],
  sampleBy: ['df.sampleBy(...)'],
  catalog: ['spark.catalog', 'Kindling has no catalog: read streams with spark.readStream.'],
  mlRelation: ['pyspark.ml'],
  extension: ['Relation extensions'],
  unknown: ['An unknown relation'],
};

/** Options each streaming source takes (lower-cased, as Spark compares them); any other option is refused, not ignored. */
const SOURCE_OPTIONS: Readonly<Record<string, readonly string[]>> = {
  kafka: ['kafka.bootstrap.servers', 'subscribe', 'startingoffsets', 'maxoffsetspertrigger', 'failondataloss', 'kafka.isolation.level'],
  json: ['maxfilespertrigger', 'path'],
  text: ['maxfilespertrigger', 'path'],
  rate: ['rowspersecond', 'numpartitions', 'rampuptime'],
};

function read(rel: Relation & { relType: { case: 'read' } }, planId: number | undefined, origin: Origin): ConnectRelation {
  const r = rel.relType.value;
  if (r.readType.case !== 'dataSource') {
    throw unsupported(`Reading a table (${r.isStreaming ? 'spark.readStream' : 'spark.read'}.table(...))${where(origin)}`, 'read with spark.readStream.format("kafka" | "json" | "text" | "rate").');
  }
  if (!r.isStreaming) throw unsupported(`Batch reads (spark.read...)${where(origin)}`, STREAMING_ONLY);
  return dataSource(r.readType.value, planId, origin);
}

function dataSource(ds: Read_DataSource, planId: number | undefined, origin: Origin): ConnectRelation {
  refuseNewerFields(ds, `spark.readStream${where(origin)}`);
  const format = (ds.format ?? '').toLowerCase();
  const allowed = SOURCE_OPTIONS[format];
  if (!allowed) {
    throw unsupported(`spark.readStream.format(${JSON.stringify(ds.format ?? '')})${where(origin)}`, `Kindling reads these formats: ${Object.keys(SOURCE_OPTIONS).join(', ')}.`);
  }
  for (const key of Object.keys(ds.options)) {
    if (!allowed.includes(key.toLowerCase())) {
      throw unsupported(`The ${format} source option ${JSON.stringify(key)}${where(origin)}`, `Kindling's ${format} source takes: ${allowed.join(', ')}.`);
    }
  }
  const fileSource = format === 'json' || format === 'text';
  if (ds.schema !== undefined && ds.schema !== '' && !fileSource) {
    throw analysisError('STREAMING_SOURCE_FIXED_SCHEMA', `The ${format} source has a fixed schema and cannot be set with a custom one${where(origin)}.`);
  }
  const schema = ds.schema ? parseSchema(ds.schema, `spark.readStream.schema(...)${where(origin)}`) : null;
  if (format === 'json' && !schema) {
    throw analysisError('STREAMING_SCHEMA_REQUIRED', `Schema must be specified when creating a streaming source DataFrame${where(origin)}: add .schema("field TYPE, ...") before .json(path).`);
  }
  return { kind: 'read', format, options: { ...ds.options }, schema, paths: [...ds.paths], streaming: true, planId };
}

function sortKey(order: { child?: Parameters<typeof translateExpression>[0]; direction: Expression_SortOrder_SortDirection; nullOrdering: Expression_SortOrder_NullOrdering }): SortKey {
  const descending = order.direction === Expression_SortOrder_SortDirection.DESCENDING;
  const nullsFirst = order.nullOrdering === Expression_SortOrder_NullOrdering.SORT_NULLS_UNSPECIFIED ? !descending : order.nullOrdering === Expression_SortOrder_NullOrdering.SORT_NULLS_FIRST;
  return { expr: translateExpression(order.child), descending, nullsFirst };
}

/** Translates a relation tree; throws a ConnectError naming the first kind Kindling refuses. */
export function translateRelation(rel: Relation | undefined): ConnectRelation {
  if (!rel) throw analysisError('INVALID_PLAN', 'A relation is missing from the plan.');
  const planId = rel.common?.planId === undefined ? undefined : Number(rel.common.planId);
  const origin = originOf(rel.common?.origin);
  const r = rel.relType;
  refuseNewerFields(rel, 'A relation');
  refuseNewerFields(r.value, `The relation ${r.case ?? ''}${where(origin)}`);
  switch (r.case) {
    case 'read':
      return read(rel as Relation & { relType: { case: 'read' } }, planId, origin);
    case 'project':
      return { kind: 'project', input: translateRelation(r.value.input), expressions: r.value.expressions.map(translateExpression), planId };
    case 'filter':
      return { kind: 'filter', input: translateRelation(r.value.input), condition: translateExpression(r.value.condition), planId };
    case 'withColumns':
      return {
        kind: 'withColumns',
        input: translateRelation(r.value.input),
        columns: r.value.aliases.map((a) => {
          if (a.name.length !== 1) throw unsupported(`withColumn with ${a.name.length} names${where(origin)}`, 'give one name per column.');
          return { name: a.name[0]!, expr: translateExpression(a.expr) };
        }),
        planId,
      };
    case 'withWatermark':
      return { kind: 'withWatermark', input: translateRelation(r.value.input), eventTime: r.value.eventTime, delay: r.value.delayThreshold, planId };
    case 'aggregate': {
      if (r.value.groupType !== Aggregate_GroupType.GROUPBY) {
        const how = Aggregate_GroupType[r.value.groupType]?.toLowerCase().replace('_', ' ') ?? String(r.value.groupType);
        throw unsupported(`Aggregation by ${how}${where(origin)}`, 'use groupBy(...).agg(...).');
      }
      return { kind: 'aggregate', input: translateRelation(r.value.input), groupBy: r.value.groupingExpressions.map(translateExpression), aggregates: r.value.aggregateExpressions.map(translateExpression), planId };
    }
    case 'deduplicate':
      if (r.value.withinWatermark) throw unsupported(`dropDuplicatesWithinWatermark(...)${where(origin)}`, 'use dropDuplicates([...]) with the event-time column among the keys.');
      return { kind: 'deduplicate', input: translateRelation(r.value.input), columns: r.value.allColumnsAsKeys ? 'all' : [...r.value.columnNames], withinWatermark: false, planId };
    case 'sort':
      if (r.value.isGlobal === false) throw unsupported(`df.sortWithinPartitions(...)${where(origin)}`, 'use orderBy(...) (complete output mode).');
      return { kind: 'sort', input: translateRelation(r.value.input), order: r.value.order.map(sortKey), planId };
    case 'toDf':
      return { kind: 'toDF', input: translateRelation(r.value.input), names: [...r.value.columnNames], planId };
    case 'subqueryAlias':
      if (r.value.qualifier.length > 0) throw unsupported(`A qualified alias (${[...r.value.qualifier, r.value.alias].join('.')})${where(origin)}`);
      return { kind: 'alias', input: translateRelation(r.value.input), alias: r.value.alias, planId };
    case undefined:
      throw analysisError('INVALID_PLAN', 'A relation of a kind this protocol version does not define: is the client newer than Spark Connect 4.0?');
    default: {
      const refused = REFUSED_RELATIONS[r.case];
      throw unsupported(`${refused?.[0] ?? `Relation kind ${r.case}`}${where(origin)}`, refused?.[1]);
    }
  }
}
