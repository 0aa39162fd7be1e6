// Cutting a Kafka micro-batch from what is buffered: where each topic partition's batch ends, and the batch itself (no I/O).
import type { PartitionBuffer } from './kafka-records.js';
import type { KafkaOffsets } from './kafka-offsets.js';
import type { TimestampRun } from '../metrics/record-latency.js';
import type { SourceBatch, Split } from './source.js';

/** What the cut needs to know of one topic partition. */
export interface CutPartition {
  readonly partitionId: number;
  /** `topic-partitionId`, for the log. */
  readonly label: string;
  readonly buffer: PartitionBuffer;
  /** The end offset the broker last reported (-1 before the first answer). */
  readonly highWatermark: number;
  /** Available-now: the latest offset at start, never read past; null when not set. */
  readonly target: number | null;
}

/** The cut options: Spark's Trigger.AvailableNow and maxOffsetsPerTrigger. */
export interface CutLimits {
  readonly availableNow: boolean;
  /** null: no limit. */
  readonly maxOffsetsPerTrigger: number | null;
}

/** True when some topic partition has fetched records (or skipped offsets) a batch may take. */
export function hasData(parts: Iterable<CutPartition>, limits: CutLimits): boolean {
  const all = [...parts];
  for (const p of all) if (batchEnd(p, all, limits) > p.buffer.startOffset) return true;
  return false;
}

/** Available-now: every topic partition has been read to its target. */
export function caughtUp(parts: readonly CutPartition[]): boolean {
  if (parts.length === 0) return false;
  for (const p of parts) if (p.target === null || p.buffer.startOffset < p.target) return false;
  return true;
}

/** Where the next batch of topic partition `p` ends: all fetched, capped by available-now and maxOffsetsPerTrigger. */
export function batchEnd(p: CutPartition, all: readonly CutPartition[], limits: CutLimits): number {
  let end = p.buffer.endOffset;
  if (p.target !== null && limits.availableNow) end = Math.min(end, Math.max(p.target, p.buffer.startOffset));
  if (limits.maxOffsetsPerTrigger !== null) end = Math.min(end, rateLimitedEnd(p, all, limits.maxOffsetsPerTrigger, limits.availableNow));
  return end;
}

/**
 * Spark's KafkaMicroBatchStream.rateLimit: the limit is split across topic partitions in
 * proportion to each one's backlog (latest - start), floored, but at least 1 for a partition with
 * any backlog so small ones are not starved.
 */
export function rateLimitedEnd(p: CutPartition, all: readonly CutPartition[], limit: number, availableNow: boolean): number {
  const latest = (q: CutPartition): number => {
    const hw = Math.max(q.highWatermark, q.buffer.endOffset);
    return q.target !== null && availableNow ? Math.min(hw, Math.max(q.target, q.buffer.startOffset)) : hw;
  };
  let total = 0;
  for (const q of all) total += Math.max(0, latest(q) - q.buffer.startOffset);
  const size = latest(p) - p.buffer.startOffset;
  if (total < 1 || size <= 0) return latest(p);
  const prorate = limit * (size / total);
  return Math.min(latest(p), p.buffer.startOffset + (prorate < 1 ? Math.ceil(prorate) : Math.floor(prorate)));
}

/**
 * Takes each topic partition's records up to `ends` (partitionId -> end offset; missing: nothing)
 * as one batch. `compressedBy` says who compressed the topic's batches, for a worker's message
 * when one cannot be decoded.
 */
export function cutBatch(topic: string, parts: readonly CutPartition[], ends: ReadonlyMap<number, number>, compressedBy: string): SourceBatch<KafkaOffsets> {
  const startOffsets: KafkaOffsets = { [topic]: {} };
  const endOffsets: KafkaOffsets = { [topic]: {} };
  const latestOffset: KafkaOffsets = { [topic]: {} };
  const splits: Split[] = [];
  const recordTimestamps: TimestampRun[] = [];
  let records = 0;
  const behind: number[] = [];
  for (const p of [...parts].sort((a, b) => a.partitionId - b.partitionId)) {
    const key = String(p.partitionId);
    startOffsets[topic]![key] = p.buffer.startOffset;
    const end = ends.get(p.partitionId) ?? p.buffer.startOffset;
    recordTimestamps.push(...p.buffer.timestamps.take(p.buffer.startOffset, end));
    for (const chunk of p.buffer.take(end)) {
      if (chunk.kind === 'batches') {
        const { startOffset, endOffset } = chunk;
        splits.push({ payload: { kind: 'kafka-batches', bytes: chunk.bytes, startOffset, endOffset, label: p.label, compressedBy }, origin: { label: p.label, samplesAtOffsets: true } });
        records += chunk.records;
        continue;
      }
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
  const sum = behind.reduce((a, b) => a + b, 0);
  return {
    splits,
    records,
    startOffsets,
    endOffsets,
    recordTimestamps,
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
