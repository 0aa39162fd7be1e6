// The Kafka source's background fetch loop: bounded per-partition buffers, back-pressure, retries with backoff, and what a Fetch response means.
import { backoffDelayMs } from '../backoff.js';
import { KindlingError } from '../errors.js';
import { groupBy, KafkaCluster } from './kafka-cluster.js';
import { offsetOutOfRange, startingOffset, checkpointPartitionGone, type StartingOffsets } from './kafka-offsets.js';
import { decodeFetch, EARLIEST, encodeFetch, isRetriableKafkaError, kafkaError, kafkaErrorName, KafkaErrorCode, LATEST, type IsolationLevel, type Reader } from './kafka-protocol.js';
import { AbortedTransactionFilter, decodeRecordSet, MAX_BATCH_BYTES, PartitionBuffer } from './kafka-records.js';
import type { CutPartition } from './kafka-cut.js';

/** Sizes and timings of the fetch path; the defaults suit a laptop broker and the lab's event size. */
export interface KafkaTuning {
  /** Bytes one Fetch response may hold (Kafka's fetch.max.bytes); bounds one decode step on the main thread. */
  fetchMaxBytes: number;
  /** Bytes per topic partition in one Fetch (max.partition.fetch.bytes). */
  partitionFetchMaxBytes: number;
  /** How long the broker may hold a Fetch while it has less than fetchMinBytes of new data. */
  fetchMaxWaitMs: number;
  /**
   * Bytes the broker gathers before answering a Fetch (Kafka's fetch.min.bytes), up to fetchMaxWaitMs:
   * a live topic then arrives in chunks of a few hundred records, not one send's worth, so batches run
   * at trigger 0 are not tiny (docs/kafka.md, "Batch size on a live topic"). A backlog fills it at once.
   */
  fetchMinBytes: number;
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
  fetchMaxWaitMs: 100,
  fetchMinBytes: 64 << 10,
  bufferBytes: 64 << 20,
  connectTimeoutMs: 3000,
  requestTimeoutMs: 15_000,
  retryInitialMs: 250,
  retryMaxMs: 5000,
  commitIntervalMs: 1000,
  metadataMaxAgeMs: 30_000,
  stillWaitingLogMs: 30_000,
};

/** What the source is doing, for the log and for anyone watching. */
export type KafkaSourceState =
  | { readonly kind: 'starting' }
  | { readonly kind: 'reading' }
  | { readonly kind: 'waiting'; readonly reason: string; readonly sinceMs: number }
  | { readonly kind: 'failed'; readonly reason: string }
  | { readonly kind: 'closed' };

/** One topic partition being fetched. */
export interface FetchedPartition extends CutPartition {
  leader: number;
  highWatermark: number;
  /** Raised when a record batch does not fit (the broker cuts it). */
  maxBytes: number;
  /** Its records come compressed (fetched in smaller pieces, see COMPRESSED_FETCH_DIVISOR); undefined until the first batches arrive. */
  compressed?: boolean;
}

/**
 * A topic partition whose batches are compressed is fetched this many times smaller than
 * partitionFetchMaxBytes (from its second fetch on, once its first batches show it): a 2 MiB
 * fetch of zstd-compressed lab events holds ~100,000 records, which the workers then decompress at
 * once (docs/kafka.md, "Memory of a compressed drain", has the measurements).
 */
const COMPRESSED_FETCH_DIVISOR = 4;

/** A compressed partition's fetch size (never below 64 KiB, nor above the configured size); a batch larger than it still doubles it, as for any partition. */
function compressedFetchBytes(partitionFetchMaxBytes: number): number {
  return Math.max(Math.min(64 << 10, partitionFetchMaxBytes), Math.floor(partitionFetchMaxBytes / COMPRESSED_FETCH_DIVISOR));
}

/** What one Fetch response did to the buffers. */
export interface FetchOutcome {
  /** Some topic partition got records (or skipped offsets). */
  readonly got: boolean;
  /** A retriable error for some topic partition (refresh metadata, then fetch again). */
  readonly retry: KindlingError | null;
  /** The topic partition whose offset the broker no longer has. */
  readonly outOfRange: FetchedPartition | null;
  /** Topic partitions whose next batch is larger than their fetch size: it was doubled. */
  readonly grown: readonly FetchedPartition[];
}

/**
 * Applies a Fetch response to the topic partitions it answers: decodes each record set into its
 * buffer, raises the fetch size of a partition whose next batch did not fit, and sorts the errors
 * into retriable (a leader moved), lost data (offset out of range) and fatal. `requested` holds
 * the offset each partition was fetched at: an answer for a partition that moved since is dropped.
 */
export function applyFetchResponse(
  reader: Reader,
  parts: ReadonlyMap<number, FetchedPartition>,
  requested: ReadonlyMap<number, number>,
  address: string,
  isolationLevel: IsolationLevel = 0,
  partitionFetchMaxBytes: number = DEFAULT_KAFKA_TUNING.partitionFetchMaxBytes,
): FetchOutcome {
  let retry: KindlingError | null = null;
  let got = false;
  const grown: FetchedPartition[] = [];
  for (const r of decodeFetch(reader)) {
    const p = parts.get(r.partition);
    if (!p || requested.get(r.partition) !== p.buffer.endOffset) continue;
    if (r.errorCode === KafkaErrorCode.NONE) {
      // At read_committed the end of what can be read is the last stable offset: the lag counts from there.
      p.highWatermark = isolationLevel === 1 && r.lastStableOffset >= 0 ? r.lastStableOffset : r.highWatermark;
      if (r.records && r.records.end > r.records.start) {
        const before = p.buffer.endOffset;
        const aborted = isolationLevel === 1 ? new AbortedTransactionFilter(r.abortedTransactions) : null;
        const decoded = decodeRecordSet(reader.buf, r.records.start, r.records.end, p.buffer, p.label, aborted);
        if (p.compressed === undefined && decoded.batches > 0) {
          // Once a partition's batches show compressed, it is fetched in smaller pieces (an uncompressed one fetches as before).
          p.compressed = decoded.compressed;
          if (decoded.compressed) p.maxBytes = compressedFetchBytes(partitionFetchMaxBytes);
        }
        if (decoded.batches === 0 && p.buffer.endOffset === before) {
          // One record batch is larger than the fetch size: ask for more next time.
          p.maxBytes = Math.min(p.maxBytes * 2, MAX_BATCH_BYTES);
          grown.push(p);
        }
        got = true;
      }
    } else if (r.errorCode === KafkaErrorCode.OFFSET_OUT_OF_RANGE) {
      return { got, retry, outOfRange: p, grown };
    } else if (isRetriableKafkaError(r.errorCode)) {
      retry = kafkaError(r.errorCode, `fetch of ${p.label} from ${address}`);
    } else {
      throw new KindlingError(`KAFKA_FETCH`, `fetch of ${p.label} from ${address}: broker answered ${kafkaErrorName(r.errorCode)}`, { domain: 'external' });
    }
  }
  return { got, retry, outOfRange: null, grown };
}

/** Settings of the fetch loop. */
export interface FetchLoopOptions {
  readonly brokers: readonly string[];
  readonly topic: string;
  readonly startingOffsets: StartingOffsets;
  readonly availableNow: boolean;
  readonly splitBytes: number;
  readonly log: (line: string) => void;
  readonly tuning: KafkaTuning;
  readonly isolationLevel: IsolationLevel;
  /** Spark's failOnDataLoss: a recreated topic stops the run (true) or is read from its earliest offsets. */
  readonly failOnDataLoss: boolean;
}

/** Callbacks waiting for a moment (data arrived, room freed, backoff cut short), each with a timeout. */
class Waiters {
  private list: Array<() => void> = [];

  wait(ms: number, closed: boolean): Promise<void> {
    if (closed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        const i = this.list.indexOf(done);
        if (i >= 0) this.list.splice(i, 1);
        resolve();
      }, ms);
      this.list.push(done);
    });
  }

  wake(): void {
    for (const w of this.list.splice(0)) w();
  }
}

/**
 * Fetches every topic partition of one topic in the background into per-partition buffers. It
 * stops fetching a topic partition while its buffer is full, which is back-pressure: the buffer
 * drains only as fast as the source cuts batches. Network failures, a missing topic and moving
 * leaders are retried with backoff and logged as "waiting"; only unrecoverable ones (lost data, an
 * unsupported broker, corrupt bytes) end the loop, as `fatal`.
 */
export class KafkaFetchLoop {
  /** The topic partitions by partitionId; cleared by a seek. */
  readonly parts = new Map<number, FetchedPartition>();
  /** True until the first metadata after start or a seek has set the partitions up. */
  needMetadata = true;
  /** Set once the first partitions are set up: partitions appearing later start at earliest. */
  everReady = false;
  fatal: KindlingError | null = null;
  /** Who compresses the topic's batches (read once, from the topic's compression.type), for decode errors. */
  compressedBy = "the producer or the broker (the topic's compression.type is not read yet)";
  private compressedByRead = false;
  private closed = false;
  private loop: Promise<void> | null = null;
  private lastMetadataMs = 0;
  private lastLatestRefreshMs = 0;
  private resumeAt: Map<number, number> | null = null;
  /** Bumped by seek: fetch responses sent before it are dropped. */
  private generation = 0;
  /** pollUntil's targets: these topic partitions are fetched up to here whatever the buffer holds. */
  readonly required = new Map<number, number>();
  private readonly data = new Waiters();
  private readonly room = new Waiters();
  private readonly backoff = new Waiters();
  private stateNow: KafkaSourceState = { kind: 'starting' };
  private lastWaitLogMs = 0;
  private waitingReason = '';
  private fetchRotation = 0;
  /** The id of the topic being read (Metadata v12), once known: its offsets are logged with it. */
  topicId: string | null = null;
  /** The id a checkpoint's offsets were logged with (seek), for the message when it differs. */
  private checkpointTopicId: string | null = null;
  /** The topic was found recreated since the last seek: a checkpoint's logged ranges are of the old one. */
  recreatedSinceSeek = false;
  /** After a recreation, every topic partition starts at its earliest offset (not --starting-offsets). */
  private fromEarliest = false;
  /** Times the topic was found recreated and reading started over (failOnDataLoss false). */
  topicRecreations = 0;
  /** Fetches that got no complete batch because one was larger than the fetch size. */
  private oversizedBatches = 0;

  constructor(
    private readonly o: FetchLoopOptions,
    private readonly cluster: KafkaCluster,
  ) {}

  get state(): KafkaSourceState {
    return this.stateNow;
  }

  /** Starts the loop once. */
  start(): void {
    this.loop ??= this.run().catch((err: unknown) => {
      // Anything escaping the loop is a bug; it still fails the next poll rather than the process.
      this.fail(err instanceof KindlingError ? err : new KindlingError('KAFKA_INTERNAL', `kafka source: ${(err as Error).message}`, { cause: err }));
    });
  }

  /**
   * Starts over at `offsets` (partitionId -> offset): buffers are dropped and the partitions set up
   * again. `topicId` is the id the checkpoint logged with them: a topic now holding another id was
   * deleted and recreated while Kindling was stopped, which the first metadata reports.
   */
  seek(offsets: Map<number, number>, topicId: string | null): void {
    this.resumeAt = offsets;
    if (topicId !== null) this.topicId = topicId;
    this.checkpointTopicId = topicId;
    this.recreatedSinceSeek = false;
    this.generation++;
    this.parts.clear();
    this.needMetadata = true;
    this.required.clear();
    this.room.wake();
    this.backoff.wake();
  }

  waitForData(ms: number): Promise<void> {
    return this.data.wait(ms, this.closed);
  }

  /** A batch was cut: buffers have room again. */
  wakeRoom(): void {
    this.room.wake();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stateNow = { kind: 'closed' };
    this.data.wake();
    this.room.wake();
    this.backoff.wake();
    await this.loop;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.closed && !this.fatal) {
      try {
        if (this.needMetadata || Date.now() - this.lastMetadataMs > this.o.tuning.metadataMaxAgeMs) await this.refreshMetadata();
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
        const { retryInitialMs, retryMaxMs } = this.o.tuning;
        const delay = backoffDelayMs(failures, { initialMs: retryInitialMs, maxMs: retryMaxMs, jitter: 0.2 });
        this.nowWaiting(e, delay);
        await this.backoff.wait(delay, this.closed);
      }
    }
  }

  private fail(err: KindlingError): void {
    this.fatal = err;
    this.stateNow = { kind: 'failed', reason: err.message };
    this.data.wake();
  }

  private nowWaiting(err: KindlingError, delayMs: number): void {
    const { brokers, topic } = this.o;
    const now = Date.now();
    const what = err.code === 'KAFKA_NO_TOPIC' ? `topic ${topic}` : `broker ${brokers.join(',')}`;
    // With one bootstrap broker its name is already in `what`.
    const reason = brokers.length === 1 ? err.message.replace(`broker ${brokers[0]}: `, '').replace(`broker ${brokers[0]} `, '') : err.message;
    const retry = `retrying in ${(delayMs / 1000).toFixed(1)} s; Ctrl-C stops`;
    if (this.stateNow.kind !== 'waiting') {
      this.stateNow = { kind: 'waiting', reason: err.message, sinceMs: now };
      this.o.log(`kafka: waiting for ${what}: ${reason} (${retry})`);
      this.lastWaitLogMs = now;
    } else if (err.message !== this.waitingReason || now - this.lastWaitLogMs >= this.o.tuning.stillWaitingLogMs) {
      this.o.log(`kafka: still waiting for ${what} after ${((now - this.stateNow.sinceMs) / 1000).toFixed(0)} s: ${reason} (${retry})`);
      this.stateNow = { kind: 'waiting', reason: err.message, sinceMs: this.stateNow.sinceMs };
      this.lastWaitLogMs = now;
    }
    this.waitingReason = err.message;
  }

  private nowReading(): void {
    const positions = [...this.parts.values()]
      .sort((a, b) => a.partitionId - b.partitionId)
      .map((p) => `${p.label} at offset ${p.buffer.endOffset}`)
      .join(', ');
    if (this.stateNow.kind === 'waiting') {
      this.o.log(`kafka: reading again after ${((Date.now() - this.stateNow.sinceMs) / 1000).toFixed(1)} s (${positions})`);
    }
    this.stateNow = { kind: 'reading' };
  }

  /** Finds the topic's partitions and leaders; sets up partitions seen for the first time. */
  private async refreshMetadata(): Promise<void> {
    const leaders = await this.cluster.leaders();
    if (this.cluster.topicId !== null && !this.sameTopic(this.cluster.topicId)) return;
    if (!this.compressedByRead) {
      this.compressedBy = await this.cluster.compressedBy();
      this.compressedByRead = true;
    }
    const generation = this.generation;
    const fresh = leaders.filter((p) => !this.parts.has(p.partitionId));
    if (fresh.length > 0) await this.addPartitions(fresh);
    if (generation !== this.generation) return; // a seek came in meanwhile: set up again
    for (const p of leaders) this.parts.get(p.partitionId)!.leader = p.leader;
    this.needMetadata = false;
    this.lastMetadataMs = Date.now();
  }

  /** Starting positions: the checkpoint's (seek), else --starting-offsets the first time, else earliest (a partition added later). */
  private async addPartitions(fresh: ReadonlyArray<{ partitionId: number; leader: number }>): Promise<void> {
    const { topic } = this.o;
    const generation = this.generation;
    const earliest = await this.cluster.listOffsets(fresh, EARLIEST);
    const latest = await this.cluster.listOffsets(fresh, LATEST);
    if (generation !== this.generation) return;
    const origin = this.resumeAt
      ? 'from the checkpoint'
      : this.fromEarliest
        ? 'earliest: the topic was recreated'
        : this.everReady
          ? 'earliest: new partition'
          : `--starting-offsets ${this.o.startingOffsets}`;
    for (const { partitionId, leader } of fresh) {
      const high = latest.get(partitionId)!;
      const offset = startingOffset({
        topic,
        partitionId,
        earliest: earliest.get(partitionId)!,
        latest: high,
        resumeAt: this.resumeAt,
        afterStart: this.everReady || this.fromEarliest,
        startingOffsets: this.o.startingOffsets,
      });
      this.parts.set(partitionId, {
        partitionId,
        label: `${topic}-${partitionId}`,
        leader,
        buffer: new PartitionBuffer(offset, this.o.splitBytes),
        highWatermark: high,
        target: high,
        maxBytes: this.o.tuning.partitionFetchMaxBytes,
      });
    }
    if (this.resumeAt) for (const partitionId of this.resumeAt.keys()) if (!this.parts.has(partitionId)) throw checkpointPartitionGone(topic, partitionId);
    const where = fresh.map(({ partitionId }) => `${topic}-${partitionId} from offset ${this.parts.get(partitionId)!.buffer.startOffset}`).join(', ');
    this.o.log(`kafka: reading ${where} (${origin})${this.o.availableNow ? `; stopping at the latest offsets ${fresh.map(({ partitionId }) => latest.get(partitionId)).join(', ')}` : ''}`);
    this.everReady = true;
  }

  /** True when this topic partition should be fetched now. */
  private wantsData(p: FetchedPartition): boolean {
    const required = this.required.get(p.partitionId);
    if (required !== undefined && p.buffer.endOffset < required) return true;
    if (this.o.availableNow && p.target !== null && p.buffer.endOffset >= p.target) return false;
    const share = Math.max(2 * this.o.tuning.partitionFetchMaxBytes, this.o.tuning.bufferBytes / Math.max(1, this.parts.size));
    return p.buffer.bytes < share;
  }

  /** One Fetch to every leader that has a topic partition wanting data; false if none does (paused). */
  private async fetchRound(): Promise<boolean> {
    const wanting = [...this.parts.values()].filter((p) => this.wantsData(p));
    if (wanting.length === 0) return false;
    // Rotate the order: the broker fills partitions in request order up to fetchMaxBytes.
    const rotation = this.fetchRotation++ % wanting.length;
    const ordered = [...wanting.slice(rotation), ...wanting.slice(0, rotation)];
    const byLeader = groupBy(ordered, (p) => this.cluster.leaderAddress(p));
    await Promise.all([...byLeader].map(([address, ps]) => this.fetchFrom(address, ps)));
    return true;
  }

  private async fetchFrom(address: string, parts: readonly FetchedPartition[]): Promise<void> {
    const { tuning } = this.o;
    const conn = await this.cluster.connection(address);
    const generation = this.generation;
    const requested = new Map(parts.map((p) => [p.partitionId, p.buffer.endOffset]));
    const maxBytes = Math.max(tuning.fetchMaxBytes, ...parts.map((p) => p.maxBytes));
    const body = encodeFetch(this.o.topic, parts.map((p) => ({ partition: p.partitionId, fetchOffset: p.buffer.endOffset, maxBytes: p.maxBytes })), {
      maxWaitMs: tuning.fetchMaxWaitMs,
      minBytes: tuning.fetchMinBytes,
      maxBytes,
      isolationLevel: this.o.isolationLevel,
    });
    const fetching = conn.send('Fetch', body, tuning.requestTimeoutMs + tuning.fetchMaxWaitMs);
    // The topic's id asked right behind the fetch: a topic deleted and recreated (with any number of records) is caught before its records are taken as the old topic's.
    const identity = this.topicId !== null && KafkaCluster.knowsTopicIds(conn) ? this.cluster.topicIdOn(conn) : null;
    identity?.catch(() => undefined); // a failed fetch fails both; its error is the one reported
    const reader = await fetching;
    const topicId = identity ? await identity : null;
    if (generation !== this.generation || this.closed) return;
    if (topicId !== null && !this.sameTopic(topicId)) return;
    const outcome = applyFetchResponse(reader, this.parts, requested, address, this.o.isolationLevel, tuning.partitionFetchMaxBytes);
    for (const p of outcome.grown) {
      if (this.oversizedBatches++ === 0) this.o.log(`kafka: ${p.label} offset ${p.buffer.endOffset}: a record batch exceeds ${p.maxBytes / 2} bytes; fetching up to ${p.maxBytes} bytes`);
    }
    if (outcome.got) this.data.wake();
    if (outcome.outOfRange) throw await this.outOfRange(outcome.outOfRange);
    if (outcome.retry) throw outcome.retry;
  }

  private async outOfRange(p: FetchedPartition): Promise<KindlingError> {
    let range: [number, number] | null = null;
    try {
      const part = [p];
      range = [(await this.cluster.listOffsets(part, EARLIEST)).get(p.partitionId)!, (await this.cluster.listOffsets(part, LATEST)).get(p.partitionId)!];
    } catch {
      // The range is only for the message.
    }
    return offsetOutOfRange(p.label, p.buffer.endOffset, range);
  }

  /**
   * False when `topicId` is not the topic read so far: it was deleted and recreated. That stops the
   * run (Spark's failOnDataLoss=true) or, with failOnDataLoss false, starts over at the new topic's
   * earliest offsets with a warning and a count; what was buffered of the old topic is dropped.
   */
  private sameTopic(topicId: string): boolean {
    if (this.topicId === null) this.topicId = topicId;
    if (topicId === this.topicId) return true;
    const { topic } = this.o;
    // Noticed before anything was read since a restart: the checkpoint's offsets are the old topic's.
    const atRestart = this.checkpointTopicId === this.topicId && !this.everReady;
    const what = `topic ${topic} was deleted and recreated${atRestart ? ' since the checkpoint was written' : ''} (topic id ${this.topicId} is now ${topicId})`;
    if (this.o.failOnDataLoss) {
      throw new KindlingError(
        'KAFKA_DATA_LOSS',
        `${what}: the ${atRestart ? "checkpoint's offsets" : 'offsets read so far'} belong to the old topic; Kindling stops rather than read the new one from those offsets (as Spark does with failOnDataLoss). ` +
          'Start with a fresh checkpoint, or give --fail-on-data-loss false to continue from the new topic\'s earliest offsets',
        { domain: 'external' },
      );
    }
    this.topicRecreations++;
    this.o.log(`kafka: WARNING: ${what}; --fail-on-data-loss false: reading the new topic from its earliest offsets; records of the old topic not yet in a batch are dropped (${this.topicRecreations} time(s) so far)`);
    this.topicId = topicId;
    this.recreatedSinceSeek = true;
    this.fromEarliest = true;
    this.generation++;
    this.parts.clear();
    this.resumeAt = null;
    this.required.clear();
    this.needMetadata = true;
    return false;
  }

  /** Paused (every buffer full, or available-now done): wait for room; meanwhile keep the high watermarks fresh for the lag. */
  private async whilePaused(): Promise<void> {
    await this.room.wait(1000, this.closed);
    if (this.closed || Date.now() - this.lastLatestRefreshMs < 1000) return;
    this.lastLatestRefreshMs = Date.now();
    const parts = [...this.parts.values()];
    if (parts.length === 0) return;
    const generation = this.generation;
    const latest = await this.cluster.listOffsets(parts, LATEST);
    if (generation !== this.generation) return;
    for (const p of parts) p.highWatermark = Math.max(p.highWatermark, latest.get(p.partitionId) ?? -1);
  }
}
