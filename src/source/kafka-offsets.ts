// Kafka offsets: checking a checkpoint's offsets, choosing where each topic partition starts, and the data-loss errors.
import { KindlingError } from '../errors.js';

/** Where a fresh run starts when no checkpoint gives offsets. */
export type StartingOffsets = 'earliest' | 'latest';

/** Offsets per topic partition in Spark's JSON shape: `{"logs": {"0": 1234, "1": 5678}}`. */
export type KafkaOffsets = Record<string, Record<string, number>>;

/** A user error for offsets that cannot be this topic's. */
function badOffsets(topic: string, offsets: unknown, why: string): KindlingError {
  return new KindlingError('BAD_OFFSETS', `kafka source (topic ${topic}): cannot resume at ${JSON.stringify(offsets)}: ${why}`, { domain: 'user' });
}

/** Reads `{"topic": {"partition": offset}}` (a checkpoint's) into partitionId -> offset; a user error when it is not this topic's. */
export function parseKafkaOffsets(topic: string, offsets: unknown): Map<number, number> {
  const o = offsets as Record<string, unknown> | null;
  if (typeof o !== 'object' || o === null) throw badOffsets(topic, offsets, 'not Kafka offsets {"topic": {"partition": offset}}');
  const topics = Object.keys(o);
  const mine = o[topic] as Record<string, unknown> | undefined;
  if (typeof mine !== 'object' || mine === null || topics.length !== 1) {
    throw badOffsets(topic, offsets, `they are offsets of topic(s) ${topics.join(', ') || '(none)'}, not of ${topic}`);
  }
  const map = new Map<number, number>();
  for (const [key, value] of Object.entries(mine)) {
    const partitionId = Number(key);
    if (!Number.isSafeInteger(partitionId) || partitionId < 0 || typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      throw badOffsets(topic, offsets, `'${key}': ${JSON.stringify(value)} is not a topic partition and offset`);
    }
    map.set(partitionId, value);
  }
  return map;
}

/** A replay target naming a partition the topic does not have. */
export function noSuchPartition(topic: string, offsets: unknown, partitionId: number): KindlingError {
  return badOffsets(topic, offsets, `the topic has no partition ${partitionId}`);
}

/** What decides a topic partition's first offset. */
export interface StartingPoint {
  readonly topic: string;
  readonly partitionId: number;
  /** The offsets the topic partition holds now: [earliest, latest). */
  readonly earliest: number;
  readonly latest: number;
  /** A checkpoint's offsets (after seek), or null on a fresh run. */
  readonly resumeAt: ReadonlyMap<number, number> | null;
  /** True once the first metadata was handled: a partition seen later is new and read from earliest. */
  readonly afterStart: boolean;
  readonly startingOffsets: StartingOffsets;
}

/**
 * The checkpoint's offset, else --starting-offsets the first time, else earliest (a partition
 * added later or missing from the checkpoint, as Spark does). A checkpoint offset outside what the
 * topic partition holds stops the run: Spark's failOnDataLoss.
 */
export function startingOffset(s: StartingPoint): number {
  const logged = s.resumeAt?.get(s.partitionId);
  if (logged !== undefined) {
    if (logged < s.earliest || logged > s.latest) {
      throw new KindlingError(
        'KAFKA_DATA_LOSS',
        `${s.topic}-${s.partitionId}: the checkpoint resumes at offset ${logged}, but the topic partition now holds offsets [${s.earliest}, ${s.latest}) ` +
          `(records deleted by retention, or the topic was deleted and recreated); Kindling stops rather than skip or re-read data. Start with a fresh checkpoint to read it again`,
        { domain: 'external' },
      );
    }
    return logged;
  }
  if (s.resumeAt || s.afterStart) return s.earliest;
  return s.startingOffsets === 'earliest' ? s.earliest : s.latest;
}

/** The checkpoint names a topic partition the topic no longer has. */
export function checkpointPartitionGone(topic: string, partitionId: number): KindlingError {
  return new KindlingError('KAFKA_DATA_LOSS', `${topic}-${partitionId}: the checkpoint has offsets for it but the topic has no such partition (was it recreated?)`, { domain: 'external' });
}

/** The broker answered OFFSET_OUT_OF_RANGE: the records to read next are gone. `range` is what it holds now, when known. */
export function offsetOutOfRange(label: string, offset: number, range: readonly [number, number] | null): KindlingError {
  const holds = range ? ` (it now holds [${range[0]}, ${range[1]}))` : '';
  return new KindlingError(
    'KAFKA_DATA_LOSS',
    `${label}: offset ${offset} is out of range${holds}: records were deleted by retention or the topic was recreated; Kindling stops rather than skip data (as Spark does with failOnDataLoss)`,
    { domain: 'external' },
  );
}
