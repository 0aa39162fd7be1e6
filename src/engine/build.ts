// Builds what a CLI run needs from a RunConfig: the plan (built-in or a module's), the source and the sinks.
import type { CheckpointLog } from '../checkpoint/log.js';
import type { RunConfig } from '../config.js';
import type { QueryPlan } from '../plan/plan.js';
import { ConsoleSink } from '../sink/console.js';
import { JsonlSink } from '../sink/jsonl.js';
import type { Sink } from '../sink/sink.js';
import { FileSource, type FilePosition } from '../source/file.js';
import { GeneratorSource, type GeneratorOffsets } from '../source/generator.js';
import type { KafkaOffsets } from '../source/kafka.js';
import type { Source } from '../source/source.js';
import { loadQueryPlan, withOutputMode } from './query-module.js';

/** Bytes per stage-1 task: thousands of events, so a task's round trip (~80 µs) is noise. */
export const SPLIT_BYTES = 1 << 20;
/** Generated events per stage-1 task. */
export const SPLIT_EVENTS = 8192;

/** The offsets of the sources a run can read: each source's own type, never inspected by the engine. */
export type SourceOffsets = FilePosition | GeneratorOffsets | KafkaOffsets;

/** The plan `--query` names, in the `--output-mode` given (a user error, exit code 2, when either is refused). */
export async function planOf(config: RunConfig): Promise<QueryPlan> {
  return withOutputMode(await loadQueryPlan(config.queryRef), config.outputMode ?? null);
}

/** The source of a run (a Kafka source connects on its first poll: building never waits for a broker). */
export async function openSource(config: RunConfig, log: (line: string) => void): Promise<Source<SourceOffsets>> {
  if (config.source.kind === 'file') return FileSource.open({ ...config.source, splitBytes: SPLIT_BYTES, log });
  if (config.source.kind === 'kafka') {
    // Imported only for a Kafka run: the Kafka modules are a start-up cost a file run need not pay.
    const { KafkaSource } = await import('../source/kafka.js');
    return new KafkaSource({ ...config.source, splitBytes: SPLIT_BYTES, log });
  }
  return new GeneratorSource({ ...config.source, splitEvents: SPLIT_EVENTS, minSplits: config.cores });
}

/** The sinks `--sink` names; a Kafka sink writes its transactions against the run's checkpoint. */
export async function openSinks(config: RunConfig, options: { readonly checkpoint?: CheckpointLog | null; readonly log: (line: string) => void }): Promise<Sink[]> {
  const sinks: Sink[] = [];
  // With --progress-json - stdout carries JSON lines only (for `| jq`), so the console sink's tables go to stderr.
  const tables = config.progressJson === '-' ? process.stderr : process.stdout;
  for (const s of config.sinks) {
    if (s.kind === 'console') sinks.push(new ConsoleSink(tables));
    else if (s.kind === 'jsonl') sinks.push(await JsonlSink.open(s.dir));
    else {
      // Imported only when used: kafkajs is a start-up cost other runs need not pay.
      const { KafkaSink } = await import('../sink/kafka.js');
      sinks.push(new KafkaSink({ ...s, checkpoint: options.checkpoint ?? null, log: options.log }));
    }
  }
  return sinks;
}
