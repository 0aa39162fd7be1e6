// Spark's rate source: `value` 0, 1, 2, … at rowsPerSecond, each with Spark's timestamp, cut into batches of whole seconds.
import { timestampToJson } from '../plan/timestamp.js';
import { KindlingError } from '../errors.js';
import type { PollResult, ResumableSource, Split } from './source.js';

/** Rate source settings (Spark's `rate` options). */
export interface RateSourceOptions {
  readonly rowsPerSecond: number;
  /** Values per split (stage-1 task). */
  readonly splitRows: number;
  /** Wall clock, injectable for tests. */
  readonly nowMs?: () => number;
  /** trigger availableNow or once: batch 0 (what the source has at the start: nothing), then the end. */
  readonly availableNow?: boolean;
}

/** Where the rate source stands: whole seconds since it started (Spark's LongOffset), and when it started (Spark keeps that in its own log). */
export interface RateOffsets {
  readonly seconds: number;
  readonly startMs: number;
}

/**
 * Spark's offsets are seconds since the source was created (RateStreamMicroBatchStream.latestOffset),
 * so a batch holds the values of the whole seconds elapsed: [rowsPerSecond * from, rowsPerSecond * to).
 * A value's timestamp is start + from * 1000 + round((value - first) * msPerValue) ms, as Spark's reader
 * computes it. Records are JSON lines the plan parses with the fixed schema (timestamp, value).
 * Batch 0 comes at once and is empty, as in Spark: its range is [initial offset 0, latest offset 0), run
 * because nothing is committed yet.
 */
export class RateSource implements ResumableSource<RateOffsets> {
  readonly name = 'rate';
  private seconds = 0;
  private startedAtMs: number | null = null;
  /** False until batch 0 was cut (or a checkpoint said where to go on). */
  private started = false;
  private readonly now: () => number;

  constructor(private readonly options: RateSourceOptions) {
    this.now = options.nowMs ?? Date.now;
  }

  describe(): string {
    return `rate (${this.options.rowsPerSecond.toLocaleString('en-US')} rows/s)`;
  }

  /** Offsets are seconds at this rate: a checkpoint taken at another rate names other values. */
  identity(): unknown {
    return { rowsPerSecond: this.options.rowsPerSecond };
  }

  parseOffsets(json: unknown): RateOffsets {
    const { seconds, startMs } = (json ?? {}) as Partial<RateOffsets>;
    if (!Number.isSafeInteger(seconds) || seconds! < 0 || !Number.isSafeInteger(startMs)) {
      throw new KindlingError('BAD_OFFSETS', `rate: cannot resume at ${JSON.stringify(json)}: not a rate position {seconds, startMs}`, { domain: 'user' });
    }
    return { seconds: seconds!, startMs: startMs! };
  }

  /** Resumes where a batch ended, with the start time the values' timestamps count from. */
  async seek(offsets: RateOffsets): Promise<void> {
    this.seconds = offsets.seconds;
    this.startedAtMs = offsets.startMs;
    this.started = true;
  }

  async pollUntil(endOffsets: RateOffsets): Promise<PollResult<RateOffsets>> {
    if (endOffsets.seconds <= this.seconds) return { kind: 'end' };
    this.startedAtMs = endOffsets.startMs;
    return { kind: 'batch', batch: this.cut(this.seconds, endOffsets.seconds) };
  }

  async poll(): Promise<PollResult<RateOffsets>> {
    const now = this.now();
    this.startedAtMs ??= now;
    const seconds = Math.floor((now - this.startedAtMs) / 1000);
    if (!this.started) return { kind: 'batch', batch: this.cut(this.seconds, seconds) };
    if (this.options.availableNow === true) return { kind: 'end' };
    if (seconds <= this.seconds) return { kind: 'idle', retryInMs: Math.max(1, this.startedAtMs + (this.seconds + 1) * 1000 - now) };
    return { kind: 'batch', batch: this.cut(this.seconds, seconds) };
  }

  /** The batch of seconds [from, to): its values as JSON-line splits. */
  private cut(from: number, to: number) {
    const { rowsPerSecond, splitRows } = this.options;
    const first = from * rowsPerSecond;
    const end = to * rowsPerSecond;
    const baseMs = this.startedAtMs! + from * 1000;
    const msPerValue = ((to - from) * 1000) / (end - first);
    const encoder = new TextEncoder();
    const splits: Split[] = [];
    for (let at = first; at < end; at += splitRows) {
      let text = '';
      for (let value = at; value < Math.min(end, at + splitRows); value++) {
        const timestampMs = baseMs + Math.round((value - first) * msPerValue);
        text += `{"timestamp":"${timestampToJson(timestampMs * 1000)}","value":${value}}\n`;
      }
      splits.push({ payload: { kind: 'bytes', bytes: encoder.encode(text) }, origin: { label: 'rate', firstIndex: at } });
    }
    this.seconds = to;
    this.started = true;
    const startMs = this.startedAtMs!;
    // A batch reads every second elapsed when it was cut: it stands at the latest offset (processAllAvailable waits for that).
    const endOffsets = { seconds: to, startMs };
    return { splits, records: end - first, startOffsets: { seconds: from, startMs }, endOffsets, progress: { latestOffset: endOffsets } };
  }

  async close(): Promise<void> {}
}
