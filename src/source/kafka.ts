// The Kafka source: fetches every partition of a topic in the background, bounded and back-pressured, and cuts micro-batches by offset.
import { KindlingError } from '../errors.js';
import { BrokerConnection, parseBrokerAddress } from './kafka-connection.js';
import {
  decodeFetch,
  decodeFindCoordinator,
  decodeListOffsets,
  decodeMetadata,
  decodeOffsetCommit,
  EARLIEST,
  encodeFetch,
  encodeFindCoordinator,
  encodeListOffsets,
  encodeMetadata,
  encodeOffsetCommit,
  isRetriableKafkaError,
  kafkaError,
  kafkaErrorName,
  KafkaErrorCode,
  LATEST,
  type ApiName,
} from './kafka-protocol.js';
import { decodeRecordSet, PartitionBuffer } from './kafka-records.js';
import type { PollResult, ResumableSource, SourceBatch, Split } from './source.js';

/** Where a fresh run starts when no checkpoint gives offsets. */
export type StartingOffsets = 'earliest' | 'latest';

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
}

/** Sizes and timings of the fetch path; the defaults suit a laptop broker and the lab's event size. */
export interface KafkaTuning {
  /** Bytes one Fetch response may hold (Kafka's fetch.max.bytes); bounds one decode step on the main thread. */
  fetchMaxBytes: number;
  /** Bytes per topic partition in one Fetch (max.partition.fetch.bytes). */
  partitionFetchMaxBytes: number;
  /** How long the broker may hold a Fetch when there is no new data. */
  fetchMaxWaitMs: number;
  /**
   * Decoded bytes buffered over all topic partitions (each gets an equal share, at least two
   * fetches' worth); fetching a topic partition pauses while its share is full (back-pressure).
   */
  bufferBytes: number;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  /** Retry backoff: doubles from the first to the last. */
  retryInitialMs: number;
  retryMaxMs: number;
  /** Advisory commits at most this often. */
  commitIntervalMs: number;
  /** Metadata is refreshed this often to find new topic partitions (Spark checks every trigger). */
  metadataMaxAgeMs: number;
  /** While waiting, a reminder line this often. */
  stillWaitingLogMs: number;
}

/** The defaults of {@link KafkaTuning}. */
export const DEFAULT_KAFKA_TUNING: Readonly<KafkaTuning> = {
  fetchMaxBytes: 8 << 20,
  partitionFetchMaxBytes: 2 << 20,
  fetchMaxWaitMs: 500,
  bufferBytes: 64 << 20,
  connectTimeoutMs: 3000,
  requestTimeoutMs: 15_000,
  retryInitialMs: 250,
  retryMaxMs: 5000,
  commitIntervalMs: 1000,
  metadataMaxAgeMs: 30_000,
  stillWaitingLogMs: 30_000,
};

/** Offsets per topic partition in Spark's JSON shape: `{"logs": {"0": 1234, "1": 5678}}`. */
export type KafkaOffsets = Record<string, Record<string, number>>;

/** What the source is doing, for the log and for anyone watching. */
export type KafkaSourceState =
  | { readonly kind: 'starting' }
  | { readonly kind: 'reading' }
  | { readonly kind: 'waiting'; readonly reason: string; readonly sinceMs: number }
  | { readonly kind: 'failed'; readonly reason: string }
  | { readonly kind: 'closed' };

/** The requests a broker must support for this source. */
const NEEDED_APIS: readonly ApiName[] = ['Metadata', 'ListOffsets', 'Fetch'];

interface TopicPartitionState {
  readonly partition: number;
  readonly label: string;
  leader: number;
  readonly buffer: PartitionBuffer;
  highWatermark: number;
  /** Available-now: the latest offset at start; never fetched past. */
  target: number | null;
  /** Raised when a record batch does not fit (the broker cuts it). */
  maxBytes: number;
}

/**
 * Reads one topic from Kafka with the Fetch API directly, every topic partition, no consumer group
 * membership (like Spark's Kafka source, which assigns partitions itself): offsets come from the
 * caller (a checkpoint through seek) or --starting-offsets, and the group commit is only advice.
 *
 * A background loop fetches whole record sets (bounded by fetchMaxBytes) and decodes them into
 * per-partition buffers; it stops fetching a topic partition while its buffer is full, which is
 * back-pressure: the buffer drains only as fast as the engine takes batches. Network failures,
 * a missing topic and moving leaders are retried with backoff and logged as "waiting"; only
 * unrecoverable ones (lost data, an unsupported broker) fail the next poll.
 */
export class KafkaSource implements ResumableSource {
  readonly name = 'kafka';
  private readonly tuning: KafkaTuning;
  private readonly parts = new Map<number, TopicPartitionState>();
  private brokersById = new Map<number, string>();
  private readonly connections = new Map<string, BrokerConnection>();
  private readonly opening = new Map<string, Promise<BrokerConnection>>();
  private loop: Promise<void> | null = null;
  private closed = false;
  private fatal: KindlingError | null = null;
  private needMetadata = true;
  private lastMetadataMs = 0;
  private lastLatestRefreshMs = 0;
  private everReady = false;
  private seekOffsets: Map<number, number> | null = null;
  /** Bumped by seek: fetch responses sent before it are dropped. */
  private generation = 0;
  /** pollUntil's targets: these topic partitions are fetched up to here whatever the buffer holds. */
  private readonly required = new Map<number, number>();
  private dataWaiters: Array<() => void> = [];
  private roomWaiters: Array<() => void> = [];
  private sleepWaiters: Array<() => void> = [];
  /** Aborted by close: cancels connection attempts at once. */
  private readonly closing = new AbortController();
  private stateNow: KafkaSourceState = { kind: 'starting' };
  private lastWaitLogMs = 0;
  private waitingReason = '';
  private fetchRotation = 0;
  private coordinator: string | null = null;
  private committing: Promise<void> | null = null;
  private commitAgain = false;
  /** The last poll found the input ended (available-now): every batch cut has run, so close commits the final offsets. */
  private endReached = false;
  private lastCommitMs = 0;
  private lastCommitKey = '';
  private readonly commitErrorsLogged = new Set<string>();
  /** Fetches that got no complete batch because one was larger than the fetch size. */
  private oversizedBatches = 0;

  constructor(private readonly options: KafkaSourceOptions) {
    if (options.brokers.length === 0) throw new KindlingError('BAD_BROKERS', '--brokers needs at least one host:port', { domain: 'user' });
    for (const b of options.brokers) parseBrokerAddress(b);
    this.tuning = { ...DEFAULT_KAFKA_TUNING, ...options.tuning };
  }

  describe(): string {
    const o = this.options;
    const limit = o.maxOffsetsPerTrigger === null ? '' : `, at most ${o.maxOffsetsPerTrigger.toLocaleString('en-US')} offsets per batch`;
    return `kafka topic ${o.topic} on ${o.brokers.join(',')} (starting at ${o.startingOffsets}${limit}${o.availableNow ? ', available now then stop' : ''}; group ${o.groupId}, commits advisory)`;
  }

  /** What the source is doing now. */
  get state(): KafkaSourceState {
    return this.stateNow;
  }

  /** The topic: offsets are positions in its partitions. */
  identity(): unknown {
    return { kind: 'kafka', topic: this.options.topic };
  }

  /** Moves every topic partition to `offsets` (a checkpoint's); partitions it does not name start at earliest, as new ones do in Spark. */
  async seek(offsets: unknown): Promise<void> {
    const map = this.checkOffsets(offsets);
    this.seekOffsets = map;
    this.generation++;
    this.parts.clear();
    this.needMetadata = true;
    this.required.clear();
    this.wakeRoom();
    for (const w of this.sleepWaiters.splice(0)) w();
  }

  async poll(): Promise<PollResult> {
    this.start();
    this.throwIfFailed();
    void this.commitAdvisory(false);
    if (!this.hasData()) {
      if (this.caughtUp()) return this.end();
      await this.waitForData(100);
      this.throwIfFailed();
      if (!this.hasData()) return this.caughtUp() ? this.end() : { kind: 'idle', retryInMs: 1 };
    }
    const ends = new Map<number, number>();
    for (const p of this.parts.values()) ends.set(p.partition, this.batchEnd(p));
    return { kind: 'batch', batch: this.cut(ends) };
  }

  /** Cuts the next batch to end exactly at `endOffsets` (a replay), waiting for the records; 'end' if a topic partition now ends before them. */
  async pollUntil(endOffsets: unknown): Promise<PollResult> {
    const target = this.checkOffsets(endOffsets);
    this.start();
    for (const [partition, end] of target) this.required.set(partition, end);
    this.wakeRoom();
    try {
      for (;;) {
        this.throwIfFailed();
        if (this.closed) return { kind: 'end' };
        if (!this.needMetadata && this.parts.size > 0) {
          let ready = true;
          for (const [partition, end] of target) {
            const p = this.parts.get(partition);
            if (!p) throw this.badOffsets(endOffsets, `the topic has no partition ${partition}`);
            if (p.buffer.endOffset < end) {
              ready = false;
              // Fetched up to the high watermark and still short: the input stops before the logged end.
              if (p.buffer.endOffset >= p.highWatermark && p.highWatermark >= 0 && p.highWatermark < end) return { kind: 'end' };
            }
          }
          if (ready) break;
        }
        await this.waitForData(1000);
      }
    } finally {
      this.required.clear();
    }
    const ends = new Map<number, number>();
    for (const p of this.parts.values()) ends.set(p.partition, Math.max(p.buffer.startOffset, target.get(p.partition) ?? p.buffer.startOffset));
    return { kind: 'batch', batch: this.cut(ends) };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.endReached) {
      // The final advisory commit, briefly: it must never hold up the exit.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.commitAdvisory(true), new Promise<void>((resolve) => (timer = setTimeout(resolve, 2000)))]);
      clearTimeout(timer);
      if (this.committing) await Promise.race([this.committing, new Promise<void>((resolve) => (timer = setTimeout(resolve, 2000)))]);
      clearTimeout(timer);
    }
    this.closed = true;
    this.stateNow = { kind: 'closed' };
    this.closing.abort();
    for (const c of this.connections.values()) c.close();
    this.connections.clear();
    this.wakeData();
    this.wakeRoom();
    for (const w of this.sleepWaiters.splice(0)) w();
    await this.loop;
  }

  // ---- batches

  private end(): PollResult {
    this.endReached = true;
    void this.commitAdvisory(true);
    return { kind: 'end' };
  }

  /** True when some topic partition has fetched records (or skipped offsets) a batch may take. */
  private hasData(): boolean {
    if (this.needMetadata && this.parts.size === 0) return false;
    for (const p of this.parts.values()) if (this.batchEnd(p) > p.buffer.startOffset) return true;
    return false;
  }

  /** Available-now: every topic partition has been read to its target. */
  private caughtUp(): boolean {
    if (!this.options.availableNow || !this.everReady || this.parts.size === 0) return false;
    for (const p of this.parts.values()) if (p.target === null || p.buffer.startOffset < p.target) return false;
    return true;
  }

  /** Where the next batch of a topic partition ends: all fetched, capped by available-now and maxOffsetsPerTrigger. */
  private batchEnd(p: TopicPartitionState): number {
    let end = p.buffer.endOffset;
    if (p.target !== null && this.options.availableNow) end = Math.min(end, Math.max(p.target, p.buffer.startOffset));
    const limit = this.options.maxOffsetsPerTrigger;
    if (limit !== null) end = Math.min(end, this.rateLimitedEnd(p, limit));
    return end;
  }

  /**
   * Spark's KafkaMicroBatchStream.rateLimit: the limit is split across topic partitions in
   * proportion to each one's backlog (latest - start), floored, but at least 1 for a partition with
   * any backlog so small ones are not starved.
   */
  private rateLimitedEnd(p: TopicPartitionState, limit: number): number {
    const latest = (q: TopicPartitionState): number => {
      const hw = Math.max(q.highWatermark, q.buffer.endOffset);
      return q.target !== null && this.options.availableNow ? Math.min(hw, Math.max(q.target, q.buffer.startOffset)) : hw;
    };
    let total = 0;
    for (const q of this.parts.values()) total += Math.max(0, latest(q) - q.buffer.startOffset);
    const size = latest(p) - p.buffer.startOffset;
    if (total < 1 || size <= 0) return latest(p);
    const prorate = limit * (size / total);
    return Math.min(latest(p), p.buffer.startOffset + (prorate < 1 ? Math.ceil(prorate) : Math.floor(prorate)));
  }

  /** Takes each topic partition's records up to `ends` as one batch. */
  private cut(ends: ReadonlyMap<number, number>): SourceBatch {
    const { topic } = this.options;
    const startOffsets: KafkaOffsets = { [topic]: {} };
    const endOffsets: KafkaOffsets = { [topic]: {} };
    const latestOffset: KafkaOffsets = { [topic]: {} };
    const splits: Split[] = [];
    let records = 0;
    const behind: number[] = [];
    for (const p of [...this.parts.values()].sort((a, b) => a.partition - b.partition)) {
      const key = String(p.partition);
      startOffsets[topic]![key] = p.buffer.startOffset;
      const end = ends.get(p.partition) ?? p.buffer.startOffset;
      for (const chunk of p.buffer.take(end)) {
        const { offsets } = chunk;
        let list: number[] | undefined;
        // Offsets as a plain array only when a rejected record is logged: building one per record would cost the main thread.
        const origin = { label: p.label, get recordOffsets(): readonly number[] { return (list ??= Array.from(offsets)); } };
        splits.push({ payload: { kind: 'bytes', bytes: chunk.bytes, recordEnds: chunk.recordEnds }, origin });
        records += offsets.length;
      }
      endOffsets[topic]![key] = end;
      const latest = Math.max(p.highWatermark, p.buffer.endOffset);
      latestOffset[topic]![key] = latest;
      behind.push(Math.max(0, latest - end));
    }
    this.wakeRoom();
    const sum = behind.reduce((a, b) => a + b, 0);
    return {
      splits,
      records,
      startOffsets,
      endOffsets,
      // Spark's Kafka source reports the same three metrics (KafkaMicroBatchStream.metrics).
      progress: {
        latestOffset,
        metrics: {
          minOffsetsBehindLatest: String(behind.length ? Math.min(...behind) : 0),
          maxOffsetsBehindLatest: String(behind.length ? Math.max(...behind) : 0),
          avgOffsetsBehindLatest: String(behind.length ? sum / behind.length : 0),
          offsetsBehindLatest: String(sum),
        },
      },
    };
  }

  private checkOffsets(offsets: unknown): Map<number, number> {
    const { topic } = this.options;
    const o = offsets as Record<string, unknown> | null;
    if (typeof o !== 'object' || o === null) throw this.badOffsets(offsets, 'not Kafka offsets {"topic": {"partition": offset}}');
    const topics = Object.keys(o);
    const mine = o[topic] as Record<string, unknown> | undefined;
    if (typeof mine !== 'object' || mine === null || topics.length !== 1) {
      throw this.badOffsets(offsets, `they are offsets of topic(s) ${topics.join(', ') || '(none)'}, not of ${topic}`);
    }
    const map = new Map<number, number>();
    for (const [key, value] of Object.entries(mine)) {
      const partition = Number(key);
      if (!Number.isSafeInteger(partition) || partition < 0 || typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
        throw this.badOffsets(offsets, `'${key}': ${JSON.stringify(value)} is not a topic partition and offset`);
      }
      map.set(partition, value);
    }
    return map;
  }

  private badOffsets(offsets: unknown, why: string): KindlingError {
    return new KindlingError('BAD_OFFSETS', `kafka source (topic ${this.options.topic}): cannot resume at ${JSON.stringify(offsets)}: ${why}`, { domain: 'user' });
  }

  private throwIfFailed(): void {
    if (this.fatal) throw this.fatal;
  }

  // ---- the fetch loop

  private start(): void {
    this.loop ??= this.fetchLoop().catch((err: unknown) => {
      // Anything escaping the loop is a bug; it still fails the next poll rather than the process.
      this.fail(err instanceof KindlingError ? err : new KindlingError('KAFKA_INTERNAL', `kafka source: ${(err as Error).message}`, { cause: err }));
    });
  }

  private async fetchLoop(): Promise<void> {
    let failures = 0;
    while (!this.closed && !this.fatal) {
      try {
        if (this.needMetadata || Date.now() - this.lastMetadataMs > this.tuning.metadataMaxAgeMs) await this.refreshMetadata();
        const fetched = await this.fetchRound();
        if (this.stateNow.kind !== 'reading') this.nowReading();
        failures = 0;
        if (!fetched) await this.whilePaused();
      } catch (err) {
        if (this.closed) return;
        const e = err instanceof KindlingError ? err : new KindlingError('KAFKA_ERROR', (err as Error).message, { domain: 'external', retriable: true, cause: err });
        if (!e.retriable) {
          this.fail(e);
          return;
        }
        failures++;
        this.needMetadata = true;
        const delay = Math.min(this.tuning.retryMaxMs, this.tuning.retryInitialMs * 2 ** Math.min(failures - 1, 16)) * (0.8 + 0.4 * Math.random());
        this.nowWaiting(e, delay);
        await this.sleepOrWake(delay);
      }
    }
  }

  private fail(err: KindlingError): void {
    this.fatal = err;
    this.stateNow = { kind: 'failed', reason: err.message };
    this.wakeData();
  }

  private nowWaiting(err: KindlingError, delayMs: number): void {
    const now = Date.now();
    const what = err.code === 'KAFKA_NO_TOPIC' ? `topic ${this.options.topic}` : `broker ${this.options.brokers.join(',')}`;
    // With one bootstrap broker its name is already in `what`.
    const reason = this.options.brokers.length === 1 ? err.message.replace(`broker ${this.options.brokers[0]}: `, '') : err.message;
    const retry = `retrying in ${(delayMs / 1000).toFixed(1)} s; Ctrl-C stops`;
    if (this.stateNow.kind !== 'waiting') {
      this.stateNow = { kind: 'waiting', reason: err.message, sinceMs: now };
      this.options.log(`kafka: waiting for ${what}: ${reason} (${retry})`);
      this.lastWaitLogMs = now;
    } else if (err.message !== this.waitingReason || now - this.lastWaitLogMs >= this.tuning.stillWaitingLogMs) {
      this.options.log(`kafka: still waiting for ${what} after ${((now - this.stateNow.sinceMs) / 1000).toFixed(0)} s: ${reason} (${retry})`);
      this.stateNow = { kind: 'waiting', reason: err.message, sinceMs: this.stateNow.sinceMs };
      this.lastWaitLogMs = now;
    }
    this.waitingReason = err.message;
  }

  private nowReading(): void {
    const positions = [...this.parts.values()]
      .sort((a, b) => a.partition - b.partition)
      .map((p) => `${p.label} at offset ${p.buffer.endOffset}`)
      .join(', ');
    if (this.stateNow.kind === 'waiting') {
      this.options.log(`kafka: reading again after ${((Date.now() - this.stateNow.sinceMs) / 1000).toFixed(1)} s (${positions})`);
    }
    this.stateNow = { kind: 'reading' };
  }

  /** Finds the topic's partitions and leaders; sets up partitions seen for the first time. */
  private async refreshMetadata(): Promise<void> {
    const { topic } = this.options;
    const { conn, address } = await this.anyConnection();
    const md = decodeMetadata(await conn.send('Metadata', encodeMetadata([topic]), this.tuning.requestTimeoutMs));
    this.brokersById = new Map(md.brokers.map((b) => [b.nodeId, `${b.host.includes(':') ? `[${b.host}]` : b.host}:${b.port}`]));
    const t = md.topics.find((x) => x.name === topic);
    if (!t || t.errorCode === KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION || (t.errorCode === 0 && t.partitions.length === 0)) {
      throw new KindlingError('KAFKA_NO_TOPIC', `it does not exist on ${address} (\`kindling produce --topic ${topic}\` creates it with 2 partitions)`, { domain: 'external', retriable: true });
    }
    if (t.errorCode === KafkaErrorCode.TOPIC_AUTHORIZATION_FAILED) {
      throw new KindlingError('KAFKA_NOT_AUTHORIZED', `topic ${topic}: the broker refuses access (${kafkaErrorName(t.errorCode)})`, { domain: 'external' });
    }
    if (t.errorCode !== 0) throw kafkaError(t.errorCode, `metadata of topic ${topic}`);
    for (const p of t.partitions) {
      if (p.leader < 0 || (p.errorCode !== 0 && p.errorCode !== KafkaErrorCode.REPLICA_NOT_AVAILABLE)) {
        throw new KindlingError('KAFKA_NO_LEADER', `${topic}-${p.partition} has no leader yet${p.errorCode ? ` (${kafkaErrorName(p.errorCode)})` : ''}`, { domain: 'external', retriable: true });
      }
      if (!this.brokersById.has(p.leader)) throw new KindlingError('KAFKA_NO_LEADER', `${topic}-${p.partition}: leader ${p.leader} is not among the brokers`, { domain: 'external', retriable: true });
    }
    const generation = this.generation;
    const fresh = t.partitions.filter((p) => !this.parts.has(p.partition));
    if (fresh.length > 0) await this.addPartitions(fresh.map((p) => ({ partition: p.partition, leader: p.leader })));
    if (generation !== this.generation) return; // a seek came in meanwhile: set up again
    for (const p of t.partitions) this.parts.get(p.partition)!.leader = p.leader;
    this.needMetadata = false;
    this.lastMetadataMs = Date.now();
  }

  /** Starting positions: the checkpoint's (seek), else --starting-offsets the first time, else earliest (a partition added later). */
  private async addPartitions(fresh: ReadonlyArray<{ partition: number; leader: number }>): Promise<void> {
    const { topic } = this.options;
    const generation = this.generation;
    const earliest = await this.listOffsets(fresh, EARLIEST);
    const latest = await this.listOffsets(fresh, LATEST);
    if (generation !== this.generation) return;
    const origin = this.seekOffsets ? 'from the checkpoint' : this.everReady ? 'earliest: new partition' : `--starting-offsets ${this.options.startingOffsets}`;
    for (const { partition, leader } of fresh) {
      const low = earliest.get(partition)!;
      const high = latest.get(partition)!;
      let offset: number;
      const logged = this.seekOffsets?.get(partition);
      if (logged !== undefined) {
        if (logged < low || logged > high) {
          // Spark's failOnDataLoss: stop rather than silently skip or invent records.
          throw new KindlingError(
            'KAFKA_DATA_LOSS',
            `${topic}-${partition}: the checkpoint resumes at offset ${logged}, but the topic partition now holds offsets [${low}, ${high}) ` +
              `(records deleted by retention, or the topic was deleted and recreated); Kindling stops rather than skip or re-read data. Start with a fresh checkpoint to read it again`,
            { domain: 'external' },
          );
        }
        offset = logged;
      } else if (this.seekOffsets || this.everReady) offset = low;
      else offset = this.options.startingOffsets === 'earliest' ? low : high;
      this.parts.set(partition, {
        partition,
        label: `${topic}-${partition}`,
        leader,
        buffer: new PartitionBuffer(offset, this.options.splitBytes),
        highWatermark: high,
        target: high,
        maxBytes: this.tuning.partitionFetchMaxBytes,
      });
    }
    if (this.seekOffsets) for (const partition of this.seekOffsets.keys()) if (!this.parts.has(partition)) {
      throw new KindlingError('KAFKA_DATA_LOSS', `${topic}-${partition}: the checkpoint has offsets for it but the topic has no such partition (was it recreated?)`, { domain: 'external' });
    }
    const where = fresh
      .map(({ partition }) => `${topic}-${partition} from offset ${this.parts.get(partition)!.buffer.startOffset}`)
      .join(', ');
    this.options.log(`kafka: reading ${where} (${origin})${this.options.availableNow ? `; stopping at the latest offsets ${fresh.map(({ partition }) => latest.get(partition)).join(', ')}` : ''}`);
    this.everReady = true;
  }

  private async listOffsets(parts: ReadonlyArray<{ partition: number; leader: number }>, timestamp: number): Promise<Map<number, number>> {
    const out = new Map<number, number>();
    const byLeader = groupBy(parts, (p) => this.leaderAddress(p));
    await Promise.all(
      [...byLeader].map(async ([address, ps]) => {
        const conn = await this.connection(address);
        const answer = decodeListOffsets(await conn.send('ListOffsets', encodeListOffsets(this.options.topic, ps.map((p) => p.partition), timestamp), this.tuning.requestTimeoutMs));
        for (const a of answer) {
          if (a.errorCode !== 0) throw kafkaError(a.errorCode, `offsets of ${this.options.topic}-${a.partition}`);
          out.set(a.partition, a.offset);
        }
      }),
    );
    for (const p of parts) if (!out.has(p.partition)) throw new KindlingError('KAFKA_PROTOCOL', `no offsets for ${this.options.topic}-${p.partition}`, { domain: 'external', retriable: true });
    return out;
  }

  /** Where a topic partition's leader listens (metadata is refreshed when it is not known). */
  private leaderAddress(p: { partition: number; leader: number }): string {
    const address = this.brokersById.get(p.leader);
    if (address === undefined) {
      this.needMetadata = true;
      throw new KindlingError('KAFKA_NO_LEADER', `${this.options.topic}-${p.partition}: leader ${p.leader} is not among the known brokers`, { domain: 'external', retriable: true });
    }
    return address;
  }

  /** True when this topic partition should be fetched now. */
  private wantsData(p: TopicPartitionState): boolean {
    const required = this.required.get(p.partition);
    if (required !== undefined && p.buffer.endOffset < required) return true;
    if (this.options.availableNow && p.target !== null && p.buffer.endOffset >= p.target) return false;
    const share = Math.max(2 * this.tuning.partitionFetchMaxBytes, this.tuning.bufferBytes / Math.max(1, this.parts.size));
    return p.buffer.bytes < share;
  }

  /** One Fetch to every leader that has a topic partition wanting data; false if none does (paused). */
  private async fetchRound(): Promise<boolean> {
    const wanting = [...this.parts.values()].filter((p) => this.wantsData(p));
    if (wanting.length === 0) return false;
    // Rotate the order: the broker fills partitions in request order up to fetchMaxBytes.
    const rotation = this.fetchRotation++ % wanting.length;
    const ordered = [...wanting.slice(rotation), ...wanting.slice(0, rotation)];
    const byLeader = groupBy(ordered, (p) => this.leaderAddress(p));
    await Promise.all([...byLeader].map(([address, ps]) => this.fetchFrom(address, ps)));
    return true;
  }

  private async fetchFrom(address: string, parts: readonly TopicPartitionState[]): Promise<void> {
    const { topic } = this.options;
    const conn = await this.connection(address);
    const generation = this.generation;
    const requested = new Map(parts.map((p) => [p.partition, p.buffer.endOffset]));
    const maxBytes = Math.max(this.tuning.fetchMaxBytes, ...parts.map((p) => p.maxBytes));
    const body = encodeFetch(topic, parts.map((p) => ({ partition: p.partition, fetchOffset: p.buffer.endOffset, maxBytes: p.maxBytes })), {
      maxWaitMs: this.tuning.fetchMaxWaitMs,
      minBytes: 1,
      maxBytes,
    });
    const reader = await conn.send('Fetch', body, this.tuning.requestTimeoutMs + this.tuning.fetchMaxWaitMs);
    if (generation !== this.generation || this.closed) return;
    let retry: KindlingError | null = null;
    let got = false;
    for (const r of decodeFetch(reader)) {
      const p = this.parts.get(r.partition);
      if (!p || requested.get(r.partition) !== p.buffer.endOffset) continue;
      if (r.errorCode === KafkaErrorCode.NONE) {
        p.highWatermark = r.highWatermark;
        if (r.records && r.records.end > r.records.start) {
          const before = p.buffer.endOffset;
          const decoded = decodeRecordSet(reader.buf, r.records.start, r.records.end, p.buffer, p.label);
          if (decoded.batches === 0 && p.buffer.endOffset === before) {
            // One record batch is larger than the fetch size: ask for more next time.
            p.maxBytes = Math.min(p.maxBytes * 2, 1 << 30);
            if (this.oversizedBatches++ === 0) this.options.log(`kafka: ${p.label} offset ${before}: a record batch exceeds ${p.maxBytes / 2} bytes; fetching up to ${p.maxBytes} bytes`);
          }
          got = true;
        }
      } else if (r.errorCode === KafkaErrorCode.OFFSET_OUT_OF_RANGE) {
        throw await this.outOfRange(p);
      } else if (isRetriableKafkaError(r.errorCode)) {
        retry = kafkaError(r.errorCode, `fetch of ${p.label} from ${address}`);
        this.needMetadata = true;
      } else {
        throw new KindlingError(`KAFKA_FETCH`, `fetch of ${p.label} from ${address}: broker answered ${kafkaErrorName(r.errorCode)}`, { domain: 'external' });
      }
    }
    if (got) this.wakeData();
    if (retry) throw retry;
  }

  private async outOfRange(p: TopicPartitionState): Promise<KindlingError> {
    let range = '';
    try {
      const part = [{ partition: p.partition, leader: p.leader }];
      range = ` (it now holds [${(await this.listOffsets(part, EARLIEST)).get(p.partition)}, ${(await this.listOffsets(part, LATEST)).get(p.partition)}))`;
    } catch {
      // The range is only for the message.
    }
    return new KindlingError(
      'KAFKA_DATA_LOSS',
      `${p.label}: offset ${p.buffer.endOffset} is out of range${range}: records were deleted by retention or the topic was recreated; Kindling stops rather than skip data (as Spark does with failOnDataLoss)`,
      { domain: 'external' },
    );
  }

  /** Paused (every buffer full, or available-now done): wait for room; meanwhile keep the high watermarks fresh for the lag. */
  private async whilePaused(): Promise<void> {
    await this.waitForRoom(1000);
    if (this.closed || Date.now() - this.lastLatestRefreshMs < 1000) return;
    this.lastLatestRefreshMs = Date.now();
    const parts = [...this.parts.values()];
    if (parts.length === 0) return;
    const generation = this.generation;
    const latest = await this.listOffsets(parts, LATEST);
    if (generation !== this.generation) return;
    for (const p of parts) p.highWatermark = Math.max(p.highWatermark, latest.get(p.partition) ?? -1);
  }

  // ---- connections

  private async connection(address: string): Promise<BrokerConnection> {
    const existing = this.connections.get(address);
    if (existing && !existing.closed) return existing;
    let opening = this.opening.get(address);
    if (!opening) {
      opening = BrokerConnection.open(address, NEEDED_APIS, {
        clientId: `kindling-${this.options.groupId}`,
        connectTimeoutMs: this.tuning.connectTimeoutMs,
        signal: this.closing.signal,
      }).finally(() =>
        this.opening.delete(address),
      );
      this.opening.set(address, opening);
    }
    const conn = await opening;
    if (this.closed) {
      conn.close();
      throw new KindlingError('KAFKA_CLOSED', 'kafka source closed', { domain: 'external', retriable: true });
    }
    this.connections.set(address, conn);
    return conn;
  }

  /** A live connection to any broker: an open one, else the bootstrap brokers in turn. */
  private async anyConnection(): Promise<{ conn: BrokerConnection; address: string }> {
    for (const [address, conn] of this.connections) if (!conn.closed) return { conn, address };
    const errors: string[] = [];
    for (const address of this.options.brokers) {
      try {
        return { conn: await this.connection(address), address };
      } catch (err) {
        if (!(err instanceof KindlingError) || !err.retriable) throw err;
        errors.push(err.message);
      }
    }
    throw new KindlingError('KAFKA_UNREACHABLE', errors.join('; '), { domain: 'external', retriable: true });
  }

  // ---- advisory commits

  /**
   * Commits the offsets the engine has finished (every batch before the one being cut) to the
   * group, outside any group generation, as a standalone consumer does: Kafka tools then show the
   * group's lag. Kindling never reads them back. Failures are logged once and otherwise ignored.
   */
  private commitAdvisory(force: boolean): Promise<void> {
    if (this.committing) {
      if (force) this.commitAgain = true;
      return this.committing;
    }
    if (this.closed || this.parts.size === 0 || this.needMetadata) return Promise.resolve();
    if (!force && Date.now() - this.lastCommitMs < this.tuning.commitIntervalMs) return Promise.resolve();
    const offsets = [...this.parts.values()].map((p) => ({ partition: p.partition, offset: p.buffer.startOffset }));
    const key = JSON.stringify(offsets);
    if (key === this.lastCommitKey) return Promise.resolve();
    this.lastCommitMs = Date.now();
    this.committing = this.commit(offsets)
      .then(() => {
        this.lastCommitKey = key;
      })
      .catch((err: unknown) => {
        this.coordinator = null;
        const e = err as KindlingError;
        const kind = e.code ?? 'ERROR';
        if (!this.closed && !this.commitErrorsLogged.has(kind) && e.code !== 'KAFKA_CLOSED') {
          this.commitErrorsLogged.add(kind);
          this.options.log(`kafka: advisory offset commit to group ${this.options.groupId} failed: ${e.message} (Kindling keeps its own offsets; reading is unaffected)`);
        }
      })
      .finally(() => {
        this.committing = null;
        if (this.commitAgain) {
          this.commitAgain = false;
          void this.commitAdvisory(true);
        }
      });
    return this.committing;
  }

  private async commit(offsets: ReadonlyArray<{ partition: number; offset: number }>): Promise<void> {
    const { groupId, topic } = this.options;
    if (this.coordinator === null) {
      const { conn } = await this.anyConnection();
      const found = decodeFindCoordinator(await conn.send('FindCoordinator', encodeFindCoordinator(groupId), this.tuning.requestTimeoutMs));
      if (found.errorCode !== 0) throw kafkaError(found.errorCode, `finding the coordinator of group ${groupId}`);
      const c = found.coordinator;
      this.coordinator = `${c.host.includes(':') ? `[${c.host}]` : c.host}:${c.port}`;
    }
    const conn = await this.connection(this.coordinator);
    for (const r of decodeOffsetCommit(await conn.send('OffsetCommit', encodeOffsetCommit(groupId, topic, offsets), this.tuning.requestTimeoutMs))) {
      if (r.errorCode !== 0) {
        const hint =
          r.errorCode === KafkaErrorCode.UNKNOWN_MEMBER_ID || r.errorCode === KafkaErrorCode.ILLEGAL_GENERATION || r.errorCode === KafkaErrorCode.REBALANCE_IN_PROGRESS
            ? ' (another consumer is an active member of this group; give Kindling its own --group)'
            : '';
        throw new KindlingError(`KAFKA_COMMIT`, `${topic}-${r.partition}: broker answered ${kafkaErrorName(r.errorCode)}${hint}`, { domain: 'external', retriable: true });
      }
    }
  }

  // ---- waiting

  private waitForData(ms: number): Promise<void> {
    return this.waitOn(this.dataWaiters, ms);
  }

  private waitForRoom(ms: number): Promise<void> {
    return this.waitOn(this.roomWaiters, ms);
  }

  /** The retry backoff: ends early only on close or seek. */
  private sleepOrWake(ms: number): Promise<void> {
    return this.waitOn(this.sleepWaiters, ms);
  }

  private waitOn(list: Array<() => void>, ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        const i = list.indexOf(done);
        if (i >= 0) list.splice(i, 1);
        resolve();
      }, ms);
      list.push(done);
    });
  }

  private wakeData(): void {
    for (const w of this.dataWaiters.splice(0)) w();
  }

  private wakeRoom(): void {
    for (const w of this.roomWaiters.splice(0)) w();
  }
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}
