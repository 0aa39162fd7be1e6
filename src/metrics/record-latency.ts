// Record latency: from each record's Kafka timestamp to the end of the batch that processed it, from record-batch headers only.

/** Records of a batch that carry one Kafka timestamp (a record batch's, or a slice of it). */
export interface TimestampRun {
  readonly timestampMs: number;
  readonly records: number;
}

/** A batch's record latency in ms (p50, p99, max over its records); `records`: how many the figures cover. */
export interface RecordLatency {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly records: number;
}

/** Slices a record batch whose first and max timestamps differ is spread over (see `take`). */
const SPREAD_SLICES = 8;

/**
 * The timestamps of one topic partition's fetched records, by offset range, as Kafka's record-batch
 * headers give them (firstTimestamp, maxTimestamp): the main thread reads headers only, never each
 * record. A batch written by one producer call has every record at its first timestamp (Kindling's
 * producer stamps them all alike); when first and max differ, its records are taken as spread evenly
 * between them, in offset order, which is the order a producer stamped them in.
 */
export class RecordTimestamps {
  /** [fromOffset, toOffset, firstTimestampMs, maxTimestampMs] per record batch, in offset order. */
  private entries: Array<[number, number, number, number]> = [];

  /** Records [fromOffset, toOffset) of a record batch whose header says firstTimestampMs .. maxTimestampMs. */
  note(fromOffset: number, toOffset: number, firstTimestampMs: number, maxTimestampMs: number): void {
    if (toOffset > fromOffset) this.entries.push([fromOffset, toOffset, firstTimestampMs, Math.max(firstTimestampMs, maxTimestampMs)]);
  }

  /** Forgets everything (a seek). */
  clear(): void {
    this.entries = [];
  }

  /** The runs of the records in [startOffset, endOffset), forgetting every entry that ends by endOffset. */
  take(startOffset: number, endOffset: number): TimestampRun[] {
    const runs: TimestampRun[] = [];
    let keep = 0;
    for (const [from, to, first, max] of this.entries) {
      if (to <= endOffset) keep++;
      const lo = Math.max(from, startOffset);
      const hi = Math.min(to, endOffset);
      if (hi <= lo) continue;
      if (first === max) {
        runs.push({ timestampMs: first, records: hi - lo });
        continue;
      }
      // Spread evenly: offset o of [from, to) is stamped first + (max - first) * (o - from) / (to - from - 1).
      const span = Math.max(1, to - from - 1);
      const step = Math.max(1, Math.ceil((hi - lo) / SPREAD_SLICES));
      for (let o = lo; o < hi; o += step) {
        const n = Math.min(step, hi - o);
        runs.push({ timestampMs: first + ((max - first) * (o + (n - 1) / 2 - from)) / span, records: n });
      }
    }
    this.entries = this.entries.slice(keep);
    return runs;
  }
}

/** The latency of each run's records at `endMs` (the batch's end), as weighted quantiles; null when no record carries a timestamp. */
export function recordLatency(runs: readonly TimestampRun[], endMs: number): RecordLatency | null {
  let records = 0;
  for (const r of runs) records += r.records;
  if (records === 0) return null;
  const byLatency = runs.filter((r) => r.records > 0).map((r) => ({ latencyMs: Math.max(0, endMs - r.timestampMs), records: r.records })).sort((a, b) => a.latencyMs - b.latencyMs);
  const at = (q: number): number => {
    const rank = Math.min(records - 1, Math.floor(q * records));
    let seen = 0;
    for (const r of byLatency) {
      seen += r.records;
      if (seen > rank) return r.latencyMs;
    }
    return byLatency.at(-1)!.latencyMs;
  };
  return { p50: round(at(0.5)), p99: round(at(0.99)), max: round(byLatency.at(-1)!.latencyMs), records };
}

const round = (ms: number): number => Math.round(ms * 10) / 10;
