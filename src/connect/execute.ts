// The ExecutePlan RPC's work: a DataFrame action or a command (writeStream.start(), query and query-manager calls) to the responses Spark would send.
import type { MessageInitShape } from '@bufbuild/protobuf';
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { ExecutePlanRequest, ExecutePlanResponseSchema } from './gen/spark/connect/base_pb.js';
import type { StreamingQueryCommand, StreamingQueryCommandResultSchema, StreamingQueryManagerCommand, StreamingQueryManagerCommandResultSchema, WriteStreamOperationStart } from './gen/spark/connect/commands_pb.js';
import { analysisError, ConnectError, unsupported } from './errors.js';
import { explainWrite } from './explain.js';
import { explainPlan } from '../plan/explain.js';
import { toQuery, type SourceSpec } from './to-plan.js';
import type { QueryPlan } from '../plan/plan.js';
import type { StreamingQueries, StreamingQuery } from './streaming-queries.js';
import { isStreaming, type StreamingWrite } from './logical.js';
import { resolveSchema } from './resolve.js';
import { translateRelation } from './translate-relation.js';
import { refuseNewerFields } from './newer-fields.js';

/** The body of one ExecutePlanResponse (the server adds the session, operation and response ids). */
export type ResponseBody = MessageInitShape<typeof ExecutePlanResponseSchema>['responseType'];

/** A query writeStream.start() asks for, checked and mapped onto Kindling's plan. */
export interface QueryToStart {
  readonly write: StreamingWrite;
  readonly source: SourceSpec;
  readonly query: QueryPlan;
  /** checkpointLocation, from the writer's options or the session's spark.sql.streaming.checkpointLocation. */
  readonly checkpoint: string | undefined;
  /** What query.explain() prints. */
  readonly explain: string;
}

/** What execution needs from the server: where to log, the session's config and queries, and how to start one. */
export interface ExecuteContext {
  readonly log: (line: string) => void;
  readonly conf: (key: string) => string | undefined;
  /** Aborted when the client interrupts the operation or goes away. */
  readonly signal: AbortSignal;
  readonly queries: StreamingQueries;
  /** Starts a query on the engine (it runs in the background); throws a ConnectError for what cannot start. */
  readonly startQuery: (q: QueryToStart) => Promise<StreamingQuery>;
}

const STREAMING_ONLY = 'Kindling runs streaming queries: start one with df.writeStream...start()';

/** Command kinds Kindling refuses, as a PySpark user writes them, and what to use instead. */
const REFUSED_COMMANDS: Readonly<Record<string, readonly [string, string?]>> = {
  registerFunction: ['spark.udf.register(...)', 'write the logic with built-in functions from pyspark.sql.functions.'],
  writeOperation: ['Batch writes (df.write...)', 'write a stream with df.writeStream...start().'],
  createDataframeView: ['Temporary views (df.createOrReplaceTempView)', 'Kindling has no catalog.'],
  writeOperationV2: ['df.writeTo(...)', 'write a stream with df.writeStream...start().'],
  sqlCommand: ['spark.sql(...)', 'use SQL expressions with expr(...), selectExpr(...) or filter("...").'],
  getResourcesCommand: ['SparkContext resources'],
  registerTableFunction: ['spark.udtf.register(...)'],
  streamingQueryListenerBusCommand: ['Streaming query listeners (spark.streams.addListener)', "read query.lastProgress, or Kindling's --progress-json records."],
  registerDataSource: ['Python data sources (spark.dataSource.register)'],
  createResourceProfileCommand: ['Resource profiles'],
  checkpointCommand: ['df.checkpoint()/localCheckpoint()', 'set a checkpointLocation on writeStream for a streaming checkpoint.'],
  removeCachedRemoteRelationCommand: ['Removing a cached DataFrame'],
  mergeIntoTableCommand: ['MERGE INTO'],
  mlCommand: ['pyspark.ml'],
  executeExternalCommand: ['External commands'],
  extension: ['Command extensions'],
};

/** Sink formats Kindling writes and the options each takes (lower-cased); other formats and options are refused. */
const SINK_OPTIONS: Readonly<Record<string, readonly string[]>> = {
  console: ['numrows', 'truncate', 'checkpointlocation'],
  json: ['path', 'checkpointlocation'],
};
const SINK_FORMATS = Object.keys(SINK_OPTIONS);

function translateWrite(w: WriteStreamOperationStart): StreamingWrite {
  refuseNewerFields(w, 'writeStream...start()');
  if (w.foreachBatch) throw unsupported('writeStream.foreachBatch(...)', 'use a sink: writeStream.format("console") or format("json").option("path", DIR).');
  if (w.foreachWriter) throw unsupported('writeStream.foreach(...)', 'use a sink: writeStream.format("console") or format("json").option("path", DIR).');
  if (w.partitioningColumnNames.length > 0) throw unsupported('writeStream.partitionBy(...)');
  if (w.clusteringColumnNames.length > 0) throw unsupported('writeStream.clusterBy(...)');
  if (w.sinkDestination.case === 'tableName') throw unsupported('writeStream.toTable(...)', 'Kindling has no catalog: use format("json").option("path", DIR).');
  const format = w.format.toLowerCase() || 'parquet';
  if (!SINK_FORMATS.includes(format)) throw unsupported(`writeStream.format(${JSON.stringify(format)})`, `Kindling writes these formats: ${SINK_FORMATS.join(', ')}.`);
  for (const key of Object.keys(w.options)) {
    if (!SINK_OPTIONS[format]!.includes(key.toLowerCase())) throw unsupported(`The ${format} sink option ${JSON.stringify(key)}`, `Kindling's ${format} sink takes: ${SINK_OPTIONS[format]!.join(', ')}.`);
  }
  const t = w.trigger;
  if (t.case === 'continuousCheckpointInterval') throw unsupported('trigger(continuous=...)', 'use trigger(processingTime=...) or trigger(availableNow=True).');
  const trigger: StreamingWrite['trigger'] =
    t.case === 'processingTimeInterval' ? { kind: 'processingTime', interval: t.value } : t.case === 'availableNow' ? { kind: 'availableNow' } : t.case === 'once' ? { kind: 'once' } : { kind: 'default' };
  const outputMode = (w.outputMode || 'append').toLowerCase();
  if (!['append', 'update', 'complete'].includes(outputMode)) throw analysisError('STREAMING_OUTPUT_MODE.INVALID', `Unknown output mode ${w.outputMode}. Accepted output modes are 'append', 'complete', 'update'.`);
  const input = translateRelation(w.input);
  if (!isStreaming(input)) throw analysisError('WRITE_STREAM_NOT_ALLOWED', "'writeStream' can be called only on streaming Dataset/DataFrame.");
  return { input, format, outputMode, options: { ...w.options }, queryName: w.queryName, trigger, path: w.sinkDestination.case === 'path' ? w.sinkDestination.value : undefined };
}

type ManagerResult = MessageInitShape<typeof StreamingQueryManagerCommandResultSchema>['resultType'];
type QueryResult = MessageInitShape<typeof StreamingQueryCommandResultSchema>['resultType'];

const instance = (q: StreamingQuery): { id: { id: string; runId: string }; name?: string } => ({ id: { id: q.id, runId: q.runId }, ...(q.name !== null ? { name: q.name } : {}) });

async function queryManager(cmd: StreamingQueryManagerCommand, ctx: ExecuteContext): Promise<ResponseBody> {
  const c = cmd.command;
  const result = (resultType: ManagerResult): ResponseBody => ({ case: 'streamingQueryManagerCommandResult', value: { resultType } });
  switch (c.case) {
    case 'active':
      return result({ case: 'active', value: { activeQueries: ctx.queries.active().map(instance) } });
    case 'getQuery': {
      // Spark answers an id that is not an active query with no query (Python gets None).
      const q = ctx.queries.get(c.value);
      return q ? result({ case: 'query', value: instance(q) }) : result(undefined);
    }
    case 'resetTerminated':
      ctx.queries.resetTerminated();
      return result({ case: 'resetTerminated', value: true });
    case 'listListeners':
      return result({ case: 'listListeners', value: { listenerIds: [] } });
    case 'awaitAnyTermination': {
      const timeoutMs = c.value.timeoutMs === undefined ? undefined : Number(c.value.timeoutMs);
      const terminated = await ctx.queries.awaitAnyTermination(timeoutMs, ctx.signal);
      return result({ case: 'awaitAnyTermination', value: { terminated } });
    }
    case 'addListener': case 'removeListener':
      throw unsupported('Streaming query listeners (spark.streams.addListener)', "read query.lastProgress, or Kindling's --progress-json records.");
    default:
      throw analysisError('INVALID_PLAN', 'A StreamingQueryManagerCommand of a kind this protocol version does not define.');
  }
}

/** query.status, lastProgress, stop(), awaitTermination(), ... on a query this session started. */
async function queryCommand(cmd: StreamingQueryCommand, ctx: ExecuteContext): Promise<ResponseBody> {
  const q = ctx.queries.byId(cmd.queryId?.id ?? '');
  const result = (resultType: QueryResult): ResponseBody => ({ case: 'streamingQueryCommandResult', value: { queryId: { id: q.id, runId: q.runId }, resultType } });
  const c = cmd.command;
  switch (c.case) {
    case 'status':
      return result({ case: 'status', value: q.status() });
    case 'lastProgress':
      return result({ case: 'recentProgress', value: { recentProgressJson: q.lastProgress() } });
    case 'recentProgress':
      return result({ case: 'recentProgress', value: { recentProgressJson: q.recentProgress() } });
    case 'stop':
      await q.stop();
      return result(undefined);
    case 'processAllAvailable':
      await q.processAllAvailable(ctx.signal);
      return result(undefined);
    case 'explain':
      return result({ case: 'explain', value: { result: q.explain() } });
    case 'exception': {
      const e = q.exception();
      return result({ case: 'exception', value: e ?? {} });
    }
    case 'awaitTermination': {
      const timeoutMs = c.value.timeoutMs === undefined ? undefined : Number(c.value.timeoutMs);
      return result({ case: 'awaitTermination', value: { terminated: await q.awaitTermination(timeoutMs, ctx.signal) } });
    }
    default:
      throw analysisError('INVALID_PLAN', 'A StreamingQueryCommand of a kind this protocol version does not define.');
  }
}

/** Runs one ExecutePlan request; returns the response bodies before result_complete, or throws a ConnectError. */
export async function execute(req: ExecutePlanRequest, ctx: ExecuteContext): Promise<ResponseBody[]> {
  const op = req.plan?.opType;
  if (op?.case === 'root') {
    // Translating first names an unsupported relation (spark.range, createDataFrame) before the action itself.
    const relation = translateRelation(op.value);
    resolveSchema(relation);
    if (isStreaming(relation)) {
      throw analysisError('QUERY_WITH_STREAMING_SOURCES_MUST_BE_EXECUTED_WITH_WRITESTREAM', 'Queries with streaming sources must be executed with writeStream.start(); use writeStream.format("console") to see the rows.');
    }
    throw unsupported('Batch actions (collect, show, count, toPandas, first, take)', STREAMING_ONLY);
  }
  if (op?.case !== 'command') throw analysisError('INVALID_PLAN', 'ExecutePlan without a plan.');
  const c = op.value.commandType;
  switch (c.case) {
    case 'writeStreamOperationStart': {
      const write = translateWrite(c.value);
      resolveSchema(write.input);
      // Mapped onto Kindling's plan and checked as Spark checks at start(): a query that could not run is refused here.
      const { source, query } = toQuery(write, ctx.conf('spark.sql.ansi.enabled') !== 'false');
      const checkpoint = write.options.checkpointLocation ?? ctx.conf('spark.sql.streaming.checkpointLocation');
      const explain = `${explainWrite(write)}\n${explainPlan(query.root, 'Kindling plan')}`;
      ctx.log(
        `writeStream.start() asked to run:\n${explainWrite(write)}${checkpoint ? `\n  checkpoint: ${checkpoint}` : ''}\n` +
          `as Kindling's plan (${query.outputMode} mode) over the ${source.format} source:\n${explainPlan(query.root, 'Kindling plan')}`,
      );
      const started = await ctx.startQuery({ write, source, query, checkpoint, explain });
      return [{ case: 'writeStreamOperationStartResult', value: { queryId: { id: started.id, runId: started.runId }, name: started.name ?? '' } }];
    }
    case 'streamingQueryCommand':
      return [await queryCommand(c.value, ctx)];
    case 'streamingQueryManagerCommand':
      return [await queryManager(c.value, ctx)];
    case undefined:
      throw analysisError('INVALID_PLAN', 'A command of a kind this protocol version does not define: is the client newer than Spark Connect 4.0?');
    default: {
      const refused = REFUSED_COMMANDS[c.case];
      throw unsupported(refused?.[0] ?? `Command kind ${c.case}`, refused?.[1]);
    }
  }
}
