// The Source interface: a source hands the coordinator record-aligned splits, batch by batch.
import type { SplitPayload } from '../engine/protocol.js';
import type { TimestampRun } from '../metrics/record-latency.js';

/** Where a split's records came from, kept on the main thread to name a rejected record's position. */
export interface SplitOrigin {
  /** A file path, or `topic-partition` for Kafka, or `generator`. */
  readonly label: string;
  /** Record numbering: `line` (1-based line of a file, counted by the coordinator) or explicit offsets. */
  readonly recordOffsets?: readonly number[];
  /** For generated splits: the index of the first event. */
  readonly firstIndex?: number;
  /** Records decoded on the worker (compressed Kafka batches): a rejected sample's recordIndex is already its offset. */
  readonly samplesAtOffsets?: boolean;
}

/** One unit of stage-1 work: a payload for a worker and its origin for the log. */
export interface Split {
  readonly payload: SplitPayload;
  readonly origin: SplitOrigin;
}

/**
 * One micro-batch cut by a source. `O` is the source's offsets type (file: FilePosition,
 * generator: GeneratorOffsets, Kafka: KafkaOffsets), JSON data; `endOffsets` is where the source
 * stands after the batch. The engine never looks inside offsets: it logs, compares and hands them back.
 */
export interface SourceBatch<O> {
  readonly splits: Split[];
  /** Records in the batch when the source knows it cheaply (generator, Kafka); otherwise null. */
  readonly records: number | null;
  readonly startOffsets: O;
  readonly endOffsets: O;
  /**
   * What Spark's SourceProgress adds for this batch, when the source knows it: `latestOffset` (where
   * the input stood) and `metrics` (Kafka: offsets behind latest, i.e. consumer lag), string values.
   */
  readonly progress?: { readonly latestOffset?: O; readonly metrics?: Readonly<Record<string, string>> };
  /**
   * What the offsets are positions in beyond identity(), when it can change under the same name
   * (Kafka: the topic's id, new when the topic is deleted and recreated). JSON data, logged with
   * the batch's offsets and handed back to seek on a restart, so the source can tell.
   */
  readonly sourceMetadata?: unknown;
  /** Kafka: the records' timestamps (from record-batch headers), for the progress record's record latency. */
  readonly recordTimestamps?: readonly TimestampRun[];
  /**
   * How long the poll that cut this batch waited for input to arrive (Kafka: the fetch it waited
   * for), in ms: counted in the batch's source phase, but not in its processing time.
   */
  readonly inputWaitMs?: number;
}

/** What a poll finds: a batch, nothing yet (try again in a while), or the end of a finite input. */
export type PollResult<O> =
  | { readonly kind: 'batch'; readonly batch: SourceBatch<O> }
  | { readonly kind: 'idle'; readonly retryInMs: number }
  | { readonly kind: 'end' };

/** A source of micro-batches. Polls are sequential: the coordinator never calls poll twice at once. */
export interface Source<O> {
  readonly name: string;
  /**
   * True when poll() may be called for the next batch while the current one runs: the cut does
   * not depend on when the poll happens (files), only its timing does.
   */
  readonly readAhead?: boolean;
  /** One line for the banner: what is read, from where. */
  describe(): string;
  poll(): Promise<PollResult<O>>;
  close(): Promise<void>;
}

/**
 * What a source adds to resume from a checkpoint. Offsets are the JSON data the source puts in
 * SourceBatch.startOffsets/endOffsets (file: {fileIndex, file, byteOffset}; generator: {index};
 * Kafka: per topicPartition). A replay does not re-apply the cut options: it cuts exactly to the
 * logged end, so a batch re-runs with the boundaries it had.
 */
export interface ResumableSource<O> extends Source<O> {
  /** What the offsets are positions in (a path, generator settings, a topic): a checkpoint refuses another input. */
  identity(): unknown;
  /** Reads offsets from a checkpoint (JSON data) as this source's, or a user error saying why they do not fit this input. */
  parseOffsets(json: unknown): O;
  /** Moves to offsets a batch logged; `metadata` is the sourceMetadata logged with them, if any. */
  seek(offsets: O, metadata?: unknown): Promise<void>;
  /** Cuts the next batch so that it ends exactly at `endOffsets`; 'end' if the input stops short of them. */
  pollUntil(endOffsets: O): Promise<PollResult<O>>;
}

/** True when a source can resume from a checkpoint. */
export function isResumable<O>(source: Source<O>): source is ResumableSource<O> {
  const s = source as Partial<ResumableSource<O>>;
  return typeof s.identity === 'function' && typeof s.parseOffsets === 'function' && typeof s.seek === 'function' && typeof s.pollUntil === 'function';
}
