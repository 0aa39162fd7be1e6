// The Kafka source: reads every partition of a topic through a background fetch loop and cuts micro-batches by offset.
import { KindlingError } from '../errors.js';
import { AdvisoryCommitter, type CommitOffsets } from './kafka-commit.js';
import { KafkaCluster } from './kafka-cluster.js';
import { parseBrokerAddress } from './kafka-address.js';
import { openBrokerConnection, type ConnectionFactory } from './kafka-connection.js';
import { batchEnd, caughtUp, cutBatch, hasData, type CutLimits } from './kafka-cut.js';
import { DEFAULT_KAFKA_TUNING, KafkaFetchLoop, type KafkaSourceState, type KafkaTuning } from './kafka-fetch.js';
import { noSuchPartition, parseKafkaOffsets, type KafkaOffsets, type StartingOffsets } from './kafka-offsets.js';
import type { KafkaSecurity } from './kafka-security.js';
import type { PollResult, ResumableSource, SourceBatch } from './source.js';

export { DEFAULT_KAFKA_TUNING, type KafkaSourceState, type KafkaTuning } from './kafka-fetch.js';
export type { KafkaOffsets, StartingOffsets } from './kafka-offsets.js';

/** Spark's kafka.isolation.level values. */
export type KafkaIsolationLevel = 'read_uncommitted' | 'read_committed';

/** Kafka source settings (RunConfig's `kafka` source plus what the engine adds). */
export interface KafkaSourceOptions {
  /** Bootstrap brokers, `host:port` each. */
  readonly brokers: readonly string[];
  readonly topic: string;
  /** Consumer group the offsets are committed to, as advice for Kafka tools only. */
  readonly groupId: string;
  readonly startingOffsets: StartingOffsets;
  /** Spark's maxOffsetsPerTrigger: offsets per batch, split across topic partitions by their backlog; null: no limit. */
  readonly maxOffsetsPerTrigger: number | null;
  /** Spark's Trigger.AvailableNow: read up to the latest offsets found at start, then end. */
  readonly availableNow: boolean;
  /** Value bytes per stage-1 split (a split never mixes topic partitions). */
  readonly splitBytes: number;
  /** State changes (waiting for broker, back again) and warnings. */
  readonly log: (line: string) => void;
  readonly tuning?: Partial<KafkaTuning>;
  /**
   * Spark's kafka.isolation.level (default read_uncommitted, as Spark): read_committed reads up to
   * the last stable offset and drops the records of aborted transactions.
   */
  readonly isolationLevel?: KafkaIsolationLevel;
  /**
   * Spark's failOnDataLoss (default true): a topic deleted and recreated stops the run; false reads
   * the new topic from its earliest offsets, with a warning and the count in the progress metrics.
   */
  readonly failOnDataLoss?: boolean;
  /** TLS and SASL (Spark's kafka.security.protocol and friends); absent: PLAINTEXT. */
  readonly security?: KafkaSecurity;
  /** How broker connections are opened (default: TCP); tests replay recorded bytes through it. */
  readonly connect?: ConnectionFactory;
}

/**
 * Reads one topic from Kafka with the Fetch API directly, every topic partition, no consumer group
 * membership (like Spark's Kafka source, which assigns partitions itself): offsets come from the
 * caller (a checkpoint through seek) or --starting-offsets, and the group commit is only advice.
 * The jobs live apart: brokers and leaders (kafka-cluster.ts), the fetch loop and back-pressure
 * (kafka-fetch.ts), cutting batches (kafka-cut.ts), offsets (kafka-offsets.ts), commits (kafka-commit.ts).
 */
export class KafkaSource implements ResumableSource<KafkaOffsets> {
  readonly name = 'kafka';
  private readonly cluster: KafkaCluster;
  private readonly fetcher: KafkaFetchLoop;
  private readonly committer: AdvisoryCommitter;
  private readonly limits: CutLimits;
  private closed = false;
  /** The last poll found the input ended (available-now): every batch cut has run, so close commits the final offsets. */
  private endReached = false;

  constructor(private readonly options: KafkaSourceOptions) {
    if (options.brokers.length === 0) throw new KindlingError('BAD_BROKERS', '--brokers needs at least one host:port', { domain: 'user' });
    for (const b of options.brokers) parseBrokerAddress(b);
    const tuning = { ...DEFAULT_KAFKA_TUNING, ...options.tuning };
    const isolationLevel = options.isolationLevel === 'read_committed' ? 1 : 0;
    this.cluster = new KafkaCluster({
      brokers: options.brokers,
      topic: options.topic,
      clientId: `kindling-${options.groupId}`,
      connect: options.connect ?? openBrokerConnection,
      connectTimeoutMs: tuning.connectTimeoutMs,
      requestTimeoutMs: tuning.requestTimeoutMs,
      isolationLevel,
      ...(options.security ? { security: options.security } : {}),
    });
    this.fetcher = new KafkaFetchLoop({ ...options, tuning, isolationLevel, failOnDataLoss: options.failOnDataLoss ?? true }, this.cluster);
    this.committer = new AdvisoryCommitter(this.cluster, {
      groupId: options.groupId,
      topic: options.topic,
      intervalMs: tuning.commitIntervalMs,
      requestTimeoutMs: tuning.requestTimeoutMs,
      log: options.log,
    });
    this.limits = { availableNow: options.availableNow, maxOffsetsPerTrigger: options.maxOffsetsPerTrigger };
  }

  describe(): string {
    const o = this.options;
    const limit = o.maxOffsetsPerTrigger === null ? '' : `, at most ${o.maxOffsetsPerTrigger.toLocaleString('en-US')} offsets per batch`;
    const committed = o.isolationLevel === 'read_committed' ? ', read_committed' : '';
    const secured = o.security ? ` over ${o.security.protocol}${o.security.sasl ? ` as ${o.security.sasl.username} (${o.security.sasl.mechanism})` : ''}` : '';
    return `kafka topic ${o.topic} on ${o.brokers.join(',')}${secured} (starting at ${o.startingOffsets}${limit}${committed}${o.availableNow ? ', available now then stop' : ''}; group ${o.groupId}, commits advisory)`;
  }

  /** What the source is doing now. */
  get state(): KafkaSourceState {
    return this.fetcher.state;
  }

  /** The topic: offsets are positions in its partitions. */
  identity(): unknown {
    return { kind: 'kafka', topic: this.options.topic };
  }

  /**
   * Moves every topic partition to `offsets` (a checkpoint's); partitions it does not name start at
   * earliest, as new ones do in Spark. `metadata` is what the batch logged with them: the topic id,
   * so a topic recreated while Kindling was stopped is noticed as one recreated mid-run is.
   */
  async seek(offsets: KafkaOffsets, metadata?: unknown): Promise<void> {
    this.fetcher.seek(parseKafkaOffsets(this.options.topic, offsets), loggedTopicId(metadata));
  }

  /** Checks a checkpoint's offsets are this topic's (a user error if not). */
  parseOffsets(json: unknown): KafkaOffsets {
    parseKafkaOffsets(this.options.topic, json);
    return json as KafkaOffsets;
  }

  async poll(): Promise<PollResult<KafkaOffsets>> {
    this.fetcher.start();
    // A failure (lost data, a corrupt batch) stops the run only once the records fetched before it have gone out as batches.
    if (!this.hasData()) this.throwIfFailed();
    void this.commitAdvisory(false);
    let inputWaitMs = 0;
    if (!this.hasData()) {
      if (this.caughtUp()) return this.end();
      const waitStarted = performance.now();
      await this.fetcher.waitForData(100);
      inputWaitMs = performance.now() - waitStarted;
      if (!this.hasData()) this.throwIfFailed();
      if (!this.hasData()) return this.caughtUp() ? this.end() : { kind: 'idle', retryInMs: 1 };
    }
    const parts = [...this.fetcher.parts.values()];
    const ends = new Map<number, number>();
    for (const p of parts) ends.set(p.partitionId, batchEnd(p, parts, this.limits));
    return { kind: 'batch', batch: { ...this.cut(ends), inputWaitMs } };
  }

  /** Cuts the next batch to end exactly at `endOffsets` (a replay), waiting for the records; 'end' if a topic partition now ends before them. */
  async pollUntil(endOffsets: KafkaOffsets): Promise<PollResult<KafkaOffsets>> {
    const target = parseKafkaOffsets(this.options.topic, endOffsets);
    const { fetcher } = this;
    fetcher.start();
    for (const [partitionId, end] of target) fetcher.required.set(partitionId, end);
    fetcher.wakeRoom();
    try {
      for (;;) {
        this.throwIfFailed();
        if (this.closed) return { kind: 'end' };
        if (fetcher.recreatedSinceSeek) throw this.replayOfOldTopic(endOffsets);
        if (!fetcher.needMetadata && fetcher.parts.size > 0) {
          let ready = true;
          for (const [partitionId, end] of target) {
            const p = fetcher.parts.get(partitionId);
            if (!p) throw noSuchPartition(this.options.topic, endOffsets, partitionId);
            if (p.buffer.endOffset < end) {
              ready = false;
              // Fetched up to the high watermark and still short: the input stops before the logged end.
              if (p.buffer.endOffset >= p.highWatermark && p.highWatermark >= 0 && p.highWatermark < end) return { kind: 'end' };
            }
          }
          if (ready) break;
        }
        await fetcher.waitForData(1000);
      }
    } finally {
      fetcher.required.clear();
    }
    const ends = new Map<number, number>();
    for (const p of fetcher.parts.values()) ends.set(p.partitionId, Math.max(p.buffer.startOffset, target.get(p.partitionId) ?? p.buffer.startOffset));
    return { kind: 'batch', batch: this.cut(ends) };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.endReached) {
      // The final advisory commit, briefly: it must never hold up the exit.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.commitAdvisory(true), new Promise<void>((resolve) => (timer = setTimeout(resolve, 2000)))]);
      clearTimeout(timer);
      const inFlight = this.committer.inFlight;
      if (inFlight) await Promise.race([inFlight, new Promise<void>((resolve) => (timer = setTimeout(resolve, 2000)))]);
      clearTimeout(timer);
    }
    this.closed = true;
    this.committer.close();
    // The loop learns it is closing before its connections fail, so it does not log them as an outage.
    const stopped = this.fetcher.close();
    this.cluster.close();
    await stopped;
  }

  private end(): PollResult<KafkaOffsets> {
    this.endReached = true;
    void this.commitAdvisory(true);
    return { kind: 'end' };
  }

  private hasData(): boolean {
    if (this.fetcher.needMetadata && this.fetcher.parts.size === 0) return false;
    return hasData(this.fetcher.parts.values(), this.limits);
  }

  private caughtUp(): boolean {
    return this.options.availableNow && this.fetcher.everReady && caughtUp([...this.fetcher.parts.values()]);
  }

  private cut(ends: ReadonlyMap<number, number>): SourceBatch<KafkaOffsets> {
    const cut = cutBatch(this.options.topic, [...this.fetcher.parts.values()], ends, this.fetcher.compressedBy);
    this.fetcher.wakeRoom();
    // The offsets log keeps the topic id with the offsets: a restart onto a recreated topic is then noticed too.
    const { topicId } = this.fetcher;
    const batch = topicId === null ? cut : { ...cut, sourceMetadata: { topicId } };
    const recreated = this.fetcher.topicRecreations;
    if (recreated === 0 || !batch.progress) return batch;
    // The counter of --fail-on-data-loss false: how often the topic was found recreated and read again from its start.
    return { ...batch, progress: { ...batch.progress, metrics: { ...batch.progress.metrics, topicRecreations: String(recreated) } } };
  }

  /** A logged batch to run again after a restart found the topic recreated: its range is in the old topic, which is gone. */
  private replayOfOldTopic(endOffsets: KafkaOffsets): KindlingError {
    return new KindlingError(
      'KAFKA_DATA_LOSS',
      `topic ${this.options.topic} was recreated, but the checkpoint holds a batch logged before the restart and not finished (ending at ${JSON.stringify(endOffsets)}): ` +
        'its records were in the old topic and cannot be read again, so its output cannot be completed. Use a new --checkpoint-dir to read the new topic',
      { domain: 'external' },
    );
  }

  private throwIfFailed(): void {
    if (this.fetcher.fatal) throw this.fetcher.fatal;
  }

  /** Commits the offsets every batch before the one being cut has finished (each partition's buffer start). */
  private commitAdvisory(force: boolean): Promise<void> {
    return this.committer.commit((): CommitOffsets | null => {
      const { parts, needMetadata } = this.fetcher;
      if (this.closed || parts.size === 0 || needMetadata) return null;
      return [...parts.values()].map((p) => ({ partition: p.partitionId, offset: p.buffer.startOffset }));
    }, force);
  }
}

/** The topic id a batch logged with its offsets (`{"topicId": "..."}`), or null (an older checkpoint, a broker without topic ids). */
function loggedTopicId(metadata: unknown): string | null {
  const id = (metadata as { topicId?: unknown } | null | undefined)?.topicId;
  return typeof id === 'string' ? id : null;
}
