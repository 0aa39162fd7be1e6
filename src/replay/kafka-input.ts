// Replaying a Kafka run: which logged batches the topic still holds (its retention deletes old records), and their records again, offset for offset.
import { Buffer } from 'node:buffer';
import type { CheckpointMetadata, OffsetsEntry } from '../checkpoint/log.js';
import { SPLIT_BYTES } from '../engine/build.js';
import { KindlingError } from '../errors.js';
import { decodeCompressedChunk } from '../source/kafka-records.js';
import { KafkaSource, type KafkaOffsets } from '../source/kafka.js';
import type { Split } from '../source/source.js';
import type { KafkaReach, ReplayInput } from './input.js';
import type { ReplayBatch } from './trace.js';

/** The earliest offset each topic partition still holds (Kafka's log start offset). */
async function earliestOffsets(topic: string, brokers: readonly string[]): Promise<Map<number, number>> {
  const { Kafka, logLevel } = await import('kafkajs');
  const admin = new Kafka({ clientId: 'kindling-replay', brokers: [...brokers], logLevel: logLevel.NOTHING, retry: { retries: 2 } }).admin();
  try {
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(offsets.map((o) => [o.partition, Number(o.low)]));
  } catch (err) {
    throw new KindlingError('CHECKPOINT_INPUT', `cannot read Kafka topic ${topic} on ${brokers.join(',')} to replay it: ${(err as Error).message}`, { domain: 'user', cause: err });
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** A logged batch whose records the topic no longer holds, and the first topic partition that says so. */
interface LostBatch {
  readonly batchId: number;
  readonly partitionId: number;
  readonly startOffset: number;
  readonly earliest: number;
}

/** The logged batches with records before a topic partition's earliest offset: Kafka deleted them. */
export function lostBatches(topic: string, entries: readonly OffsetsEntry[], earliest: ReadonlyMap<number, number>): LostBatch[] {
  const lost: LostBatch[] = [];
  for (const e of entries) {
    if (e.noData || e.startOffsets === null || e.endOffsets === null) continue;
    const start = (e.startOffsets as KafkaOffsets)[topic] ?? {};
    const end = (e.endOffsets as KafkaOffsets)[topic] ?? {};
    for (const [key, from] of Object.entries(start)) {
      const partitionId = Number(key);
      const low = earliest.get(partitionId) ?? 0;
      if (from < low && (end[key] ?? from) > from) {
        lost.push({ batchId: e.batchId, partitionId, startOffset: from, earliest: low });
        break;
      }
    }
  }
  return lost;
}

/** The records of a Kafka batch's splits, decoded as the workers decode them, with their topic-partition and offset. */
async function recordsOf(splits: readonly Split[]): Promise<ReplayBatch> {
  const records: string[] = [];
  const positions: string[] = [];
  for (const split of splits) {
    const p = split.payload;
    let bytes: Buffer;
    let ends: ArrayLike<number>;
    let offsets: ArrayLike<number>;
    if (p.kind === 'kafka-batches') {
      const decoded = await decodeCompressedChunk(Buffer.from(p.bytes.buffer, p.bytes.byteOffset, p.bytes.byteLength), p.startOffset, p.endOffset, p.label, p.compressedBy);
      ({ bytes, recordEnds: ends, offsets } = decoded);
    } else if (p.kind === 'bytes' && p.recordEnds) {
      bytes = Buffer.from(p.bytes.buffer, p.bytes.byteOffset, p.bytes.byteLength);
      ends = p.recordEnds;
      offsets = split.origin.recordOffsets ?? [];
    } else throw new Error('a Kafka split holds record values with their ends');
    for (let i = 0; i < ends.length; i++) {
      records.push(bytes.toString('utf8', i === 0 ? 0 : ends[i - 1]!, ends[i]!));
      positions.push(`${split.origin.label} offset ${offsets[i]}`);
    }
  }
  return { records, position: (index) => positions[index] ?? '' };
}

/**
 * Reads a Kafka run's logged batches again: first checks that the topic still holds every one of
 * them (a replay needs all from batch 0) and names those Kafka's retention deleted; then seeks to
 * batch 0's offsets and cuts each batch to its logged end, as a restart does.
 */
export async function replayKafka(dir: string, topic: string, reach: KafkaReach, metadata: CheckpointMetadata, entries: readonly OffsetsEntry[], drain: boolean): Promise<ReplayInput> {
  const lost = lostBatches(topic, entries, await earliestOffsets(topic, reach.brokers));
  if (lost.length > 0) {
    const first = lost[0]!;
    const last = lost[lost.length - 1]!;
    const range = first.batchId === last.batchId ? `batch ${first.batchId}` : `batches ${first.batchId}-${last.batchId}`;
    throw new KindlingError(
      'CHECKPOINT_INPUT',
      `Kafka topic ${topic} no longer holds the records of ${range} (${lost.length} of the ${entries.length} logged): ` +
        `partition ${first.partitionId} now starts at offset ${first.earliest}, but batch ${first.batchId} starts at ${first.startOffset}. ` +
        "Kafka's retention (retention.ms, retention.bytes) or a records deletion removed them; a replay needs every batch from 0, so this run can no longer be replayed. " +
        'Keep the topic longer, or write it to files while it lasts and replay those with --source file.',
      { domain: 'user' },
    );
  }
  const source = new KafkaSource({
    brokers: reach.brokers,
    topic,
    groupId: 'kindling-replay',
    startingOffsets: 'earliest',
    maxOffsetsPerTrigger: null,
    availableNow: false,
    splitBytes: SPLIT_BYTES,
    log: () => {},
    isolationLevel: reach.isolationLevel,
    failOnDataLoss: true,
  });
  const batches: ReplayBatch[] = [];
  try {
    const firstData = entries.find((e) => !e.noData && e.startOffsets !== null);
    if (firstData) await source.seek(source.parseOffsets(firstData.startOffsets), firstData.sourceMetadata);
    for (const entry of entries) {
      if (entry.noData || entry.endOffsets === null) {
        batches.push({ records: [], position: () => '' });
        continue;
      }
      const polled = await source.pollUntil(source.parseOffsets(entry.endOffsets));
      if (polled.kind !== 'batch') {
        throw new KindlingError('CHECKPOINT_INPUT', `Kafka topic ${topic} ends before batch ${entry.batchId}'s logged end ${JSON.stringify(entry.endOffsets)}: it is not the topic the run read`, { domain: 'user' });
      }
      batches.push(await recordsOf(polled.batch.splits));
    }
  } finally {
    await source.close();
  }
  return { batches, drain, describe: `the offsets log of ${dir}: batches 0-${entries.length - 1} over Kafka topic ${topic} on ${reach.brokers.join(',')}`, logged: entries, problems: [], metadata };
}
