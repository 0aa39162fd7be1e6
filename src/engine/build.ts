// Assembles a run from a RunConfig: query, source, sinks, pool and coordinator.
import { ConsoleSink } from '../sink/console.js';
import { JsonlSink } from '../sink/jsonl.js';
import type { Sink } from '../sink/sink.js';
import { FileSource, type FilePosition } from '../source/file.js';
import { GeneratorSource, type GeneratorOffsets } from '../source/generator.js';
import type { KafkaOffsets } from '../source/kafka.js';
import type { Source } from '../source/source.js';
import { loadQuery, normalizeQueryRef } from '../query/queries.js';
import type { Query } from '../query/query.js';
import type { RunConfig } from '../config.js';
import { KindlingError } from '../errors.js';
import { Coordinator, type CheckpointSettings } from './coordinator.js';
import { WorkerPool } from './pool.js';
import type { WorkerFaults } from './protocol.js';

/** Bytes per stage-1 task: thousands of events, so a task's round trip (~80 µs) is noise. */
export const SPLIT_BYTES = 1 << 20;
/** Generated events per stage-1 task. */
export const SPLIT_EVENTS = 8192;

/** The offsets of the sources a run can read: each source's own type, never inspected by the engine. */
export type SourceOffsets = FilePosition | GeneratorOffsets | KafkaOffsets;

/** A run ready to start, and everything to close after it. */
export interface AssembledRun {
  readonly query: Query;
  readonly coordinator: Coordinator<SourceOffsets>;
  readonly source: Source<SourceOffsets>;
  readonly sinks: readonly Sink[];
  readonly pool: WorkerPool;
  close(): Promise<void>;
}

/** Loads the query (a user error if the module is bad) and builds the source, sinks, pool and batch loop (with `checkpoint`, checkpointed). */
export async function assembleRun(
  config: RunConfig,
  log: (line: string) => void,
  options: { readonly checkpoint?: CheckpointSettings | null; readonly extraSinks?: readonly Sink[]; readonly faults?: WorkerFaults } = {},
): Promise<AssembledRun> {
  const queryRef = normalizeQueryRef(config.queryRef);
  let query: Query;
  try {
    query = await loadQuery(queryRef);
  } catch (err) {
    throw new KindlingError('BAD_QUERY', `--query ${config.queryRef}: ${(err as Error).message}`, { domain: 'user', cause: err });
  }
  let source: Source<SourceOffsets>;
  if (config.source.kind === 'file') {
    source = await FileSource.open({ ...config.source, splitBytes: SPLIT_BYTES, log });
  } else if (config.source.kind === 'kafka') {
    // Connects in the background on the first poll: building the run never waits for a broker.
    // Imported only for a Kafka run: the Kafka modules are a start-up cost a file run need not pay.
    const { KafkaSource } = await import('../source/kafka.js');
    source = new KafkaSource({ ...config.source, splitBytes: SPLIT_BYTES, log });
  } else {
    source = new GeneratorSource({ ...config.source, splitEvents: SPLIT_EVENTS, minSplits: config.cores });
  }
  const sinks: Sink[] = [];
  // With --progress-json - stdout carries JSON lines only (for `| jq`), so the console sink's tables go to stderr.
  const tables = config.progressJson === '-' ? process.stderr : process.stdout;
  for (const s of config.sinks) {
    if (s.kind === 'console') sinks.push(new ConsoleSink(query, tables));
    else if (s.kind === 'jsonl') sinks.push(await JsonlSink.open(s.dir, query));
    else {
      // Imported only when used: kafkajs is a start-up cost other runs need not pay.
      const { KafkaSink } = await import('../sink/kafka.js');
      sinks.push(new KafkaSink({ ...s, checkpoint: options.checkpoint?.log ?? null, log }, query));
    }
  }
  sinks.push(...(options.extraSinks ?? []));
  const pool = new WorkerPool(config.cores, options.faults ? { faults: options.faults } : {});
  let coordinator: Coordinator<SourceOffsets>;
  try {
    coordinator = new Coordinator(
      {
        queryRef,
        query,
        outputMode: config.outputMode ?? query.outputMode,
        partitions: config.partitions,
        triggerMs: config.triggerMs,
        drain: config.drain,
        maxRecordBytes: config.maxRecordBytes,
        maxLoggedRejects: 20,
        log,
        checkpoint: options.checkpoint ?? null,
      },
      source,
      sinks,
      pool,
    );
  } catch (err) {
    await pool.close();
    await source.close();
    throw err;
  }
  return {
    query,
    coordinator,
    source,
    sinks,
    pool,
    async close() {
      await Promise.allSettled([source.close(), ...sinks.map((s) => s.close())]);
      await pool.close();
    },
  };
}
