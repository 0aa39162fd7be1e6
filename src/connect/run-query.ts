// Runs a query writeStream.start() asked for on Kindling's engine: the script's source and sink as Kindling's, the `kindling run` flags over them.
import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import type { Writable } from 'node:stream';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { CheckpointStore } from '../checkpoint/store.js';
import { SPLIT_BYTES } from '../engine/build.js';
import { runQueryPlan } from '../engine/run.js';
import { parseDurationUs } from '../plan/duration.js';
import { explainQuery } from '../plan/explain.js';
import { JsonlSink } from '../sink/jsonl.js';
import type { Sink } from '../sink/sink.js';
import { FileSource } from '../source/file.js';
import { parseBrokerList } from '../source/kafka-address.js';
import { KafkaSource } from '../source/kafka.js';
import { onceSource } from '../source/once.js';
import { RateSource } from '../source/rate.js';
import type { Source } from '../source/source.js';
import { KindlingError } from '../errors.js';
import type { QueryObservers } from '../metrics/observe-queries.js';
import { describeRun } from '../metrics/run-info.js';
import { SparkConsoleSink } from './console-sink.js';
import { ConnectError, unsupported } from './errors.js';
import { intOption, option, rateOptions } from './source-options.js';
import type { QueryToStart } from './execute.js';
import type { PreparedQuery, QueryRunner } from './server.js';

/** What `kindling run` flags put over a script's settings (each absent: the script's, or Kindling's default). */
export interface RunOverrides {
  /** --brokers: replaces kafka.bootstrap.servers (the lab's scripts say kafka:9092, a Docker host name). */
  readonly brokers?: string;
  /** --sink jsonl:DIR or console: replaces the script's sink. */
  readonly sink?: { readonly kind: 'console' } | { readonly kind: 'jsonl'; readonly dir: string };
  readonly cores?: number;
  readonly partitions?: number;
  /** --checkpoint-dir: replaces checkpointLocation. */
  readonly checkpointDir?: string;
  /** --available-now: reads what the source holds at start, then the query ends (awaitTermination returns). */
  readonly availableNow?: boolean;
  /** --explain: each start() prints the plan the query became and how Kindling would run it; no batch runs. */
  readonly explainOnly?: boolean;
}

/** Spark's rate source; it has no rows at the start (0 seconds have passed), so availableNow and once run its empty batch 0 and end, as in Spark. */
function rateSource(options: Readonly<Record<string, string>>, availableNow: boolean): Source<unknown> {
  return new RateSource({ rowsPerSecond: rateOptions(options).rowsPerSecond, splitRows: 10_000, availableNow }) as Source<unknown>;
}

async function openSource(q: QueryToStart, overrides: RunOverrides, log: (line: string) => void): Promise<Source<unknown>> {
  const { format, options, paths } = q.source;
  // trigger(once=True) reads all that is available in one batch: Spark drops the read limits (maxFilesPerTrigger, maxOffsetsPerTrigger).
  const once = q.write.trigger.kind === 'once' && overrides.availableNow !== true;
  const availableNow = overrides.availableNow === true || q.write.trigger.kind === 'availableNow' || once;
  const limit = (key: string, what: string): number | null => {
    const n = intOption(options, key, what);
    return once ? null : n;
  };
  if (format === 'rate') return rateSource(options, availableNow);
  if (format === 'kafka') {
    const topic = option(options, 'subscribe');
    if (!topic || topic.includes(',')) throw unsupported(`The kafka source's subscribe=${JSON.stringify(topic ?? '')}`, 'subscribe to one topic.');
    const starting = option(options, 'startingoffsets') ?? 'latest';
    if (starting !== 'earliest' && starting !== 'latest') throw unsupported(`startingOffsets ${starting}`, 'use "earliest" or "latest".');
    const isolation = option(options, 'kafka.isolation.level') ?? 'read_uncommitted';
    if (isolation !== 'read_uncommitted' && isolation !== 'read_committed') throw unsupported(`kafka.isolation.level ${isolation}`, 'use read_uncommitted or read_committed.');
    const brokers = overrides.brokers ?? option(options, 'kafka.bootstrap.servers');
    return new KafkaSource({
      brokers: parseBrokerList(brokers, 'the kafka source (kafka.bootstrap.servers, or kindling run --brokers)'),
      topic,
      groupId: `kindling-${q.query.name}`,
      startingOffsets: starting,
      maxOffsetsPerTrigger: limit('maxoffsetspertrigger', 'The kafka source'),
      availableNow,
      isolationLevel: isolation,
      failOnDataLoss: (option(options, 'failondataloss') ?? 'true').toLowerCase() !== 'false',
      splitBytes: SPLIT_BYTES,
      log,
    }) as Source<unknown>;
  }
  const path = paths[0] ?? option(options, 'path');
  if (!path || paths.length > 1) throw unsupported(`A ${format} source with ${paths.length} paths`, 'read one directory: spark.readStream...load(DIR).');
  return (await FileSource.open({ path, maxFilesPerBatch: limit('maxfilespertrigger', `The ${format} source`), maxEventsPerBatch: null, maxBytesPerBatch: once ? Number.POSITIVE_INFINITY : 16 * 1_048_576, splitBytes: SPLIT_BYTES, allowEmpty: true, log })) as Source<unknown>;
}

/** Where the query writes: --sink, else the script's sink; a json sink without a path is refused at start(), as in Spark. */
function sinkTarget(q: QueryToStart, overrides: RunOverrides): NonNullable<RunOverrides['sink']> {
  const sink = overrides.sink ?? (q.write.format === 'json' ? { kind: 'jsonl' as const, dir: q.write.path ?? option(q.write.options, 'path') ?? '' } : { kind: 'console' as const });
  if (sink.kind === 'jsonl' && sink.dir === '') throw unsupported('writeStream.format("json") without a path', 'give one: .option("path", DIR) or .start(DIR).');
  return sink;
}

async function openSink(q: QueryToStart, overrides: RunOverrides, consoleOut: Writable): Promise<Sink> {
  const sink = sinkTarget(q, overrides);
  if (sink.kind === 'jsonl') return JsonlSink.open(sink.dir);
  const numRows = intOption(q.write.options, 'numrows', 'The console sink') ?? 20;
  const truncate = (option(q.write.options, 'truncate') ?? 'true').toLowerCase() !== 'false';
  return new SparkConsoleSink(consoleOut, numRows, truncate);
}

/**
 * The checkpoint directory, locked for this query, and the query id it keeps; one that cannot be used (or whose
 * metadata is unreadable) is refused at start(), as Spark refuses a checkpoint whose metadata it cannot read.
 */
async function openCheckpoint(dir: string): Promise<{ store: CheckpointStore; queryId: string | undefined }> {
  try {
    const store = await CheckpointStore.open(dir);
    return { store, queryId: (await store.readMetadata())?.queryId };
  } catch (err) {
    if (err instanceof KindlingError) throw new ConnectError(GrpcStatus.INVALID_ARGUMENT, 'java.lang.IllegalArgumentException', `KINDLING_${err.code}`, err.message);
    throw err;
  }
}

/** The settings the web UI's Config tab shows for a query a script started; option values that may be secrets are masked. */
function settingsOf(q: QueryToStart, overrides: RunOverrides, checkpointDir: string | undefined): object {
  const mask = (options: Readonly<Record<string, string>>): Record<string, string> =>
    Object.fromEntries(Object.entries(options).map(([k, v]) => [k, /password|secret|jaas|token/i.test(k) ? '***' : v]));
  return {
    source: { format: q.source.format, options: mask(q.source.options) },
    sink: { format: q.write.format, options: mask(q.write.options) },
    trigger: q.write.trigger,
    checkpointLocation: checkpointDir ?? null,
    overrides,
  };
}

/** Where a runner's queries are watched: the web UI and --progress-json (absent: nowhere), and where console tables go. */
export interface RunnerObservers {
  readonly observers: QueryObservers | null;
  /** stdout; stderr when --progress-json - has stdout. */
  readonly consoleOut: Writable;
}

/**
 * The query runner `kindling connect` and `kindling run` give the server. The query's id is its checkpoint's (Spark
 * keeps it there, so a restart on the same checkpointLocation is the same query), else a new one; the runId is new.
 */
export function engineRunner(overrides: RunOverrides, log: (line: string) => void, watch: RunnerObservers = { observers: null, consoleOut: process.stdout }): QueryRunner {
  return async (q): Promise<PreparedQuery> => {
    sinkTarget(q, overrides);
    // --explain: the query is checked and described, then ends at once without a batch (nothing read, written or checkpointed).
    if (overrides.explainOnly) {
      return {
        queryId: randomUUID(),
        start: async () => {
          watch.consoleOut.write(`${explainQuery(q.query)}\n`);
          return { stop: () => undefined, done: Promise.resolve() };
        },
      };
    }
    const checkpointDir = overrides.checkpointDir ?? q.checkpoint;
    const checkpoint = checkpointDir ? await openCheckpoint(checkpointDir) : null;
    const store = checkpoint?.store ?? null;
    const queryId = checkpoint?.queryId ?? randomUUID();
    const start: PreparedQuery['start'] = async (runId, onProgress) => {
      const cores = overrides.cores ?? Math.max(1, Math.min(availableParallelism(), 4));
      const opened = await openSource(q, overrides, log);
      const source = q.write.trigger.kind === 'once' && overrides.availableNow !== true ? onceSource(opened) : opened;
      const results = watch.observers?.resultsSink() ?? null;
      const sinks = [await openSink(q, overrides, watch.consoleOut), ...(results ? [results] : [])];
      const trigger = q.write.trigger;
      const run = await runQueryPlan(q.query, {
        source,
        sinks,
        cores,
        partitions: overrides.partitions ?? cores,
        triggerMs: trigger.kind === 'processingTime' ? Math.floor(parseDurationUs(trigger.interval, 'trigger(processingTime=...)') / 1000) : 0,
        checkpoint: store ? { log: store, every: 10 } : null,
        queryId,
        runId,
        log,
        onProgress,
      });
      // The batches start after this returns (runQueryPlan defers them), so the observers see the first one.
      const coordinator = run.coordinator;
      const watched = watch.observers?.watch(coordinator, describeRun(settingsOf(q, overrides, checkpointDir), q.query, source.describe(), coordinator), results);
      if (watched) void run.done.then(watched.end, watched.end);
      return { stop: () => run.stop(), done: run.done };
    };
    return { queryId, start };
  };
}
