// The built-in generator source: the lab's stream, rate-limited or as fast as possible; workers generate the events.
import type { GeneratorSpec } from './lab-events.js';
import { KindlingError } from '../errors.js';
import type { PollResult, ResumableSource, Split } from './source.js';

/** Generator source settings. */
export interface GeneratorSourceOptions {
  readonly spec: GeneratorSpec;
  /** Events per second of wall-clock time; 0: as fast as the engine takes them. */
  readonly rate: number;
  /** Stop after this many events; null: run until stopped. */
  readonly events: number | null;
  readonly maxEventsPerBatch: number;
  /** Events per stage-1 task. */
  readonly splitEvents: number;
  /** Cut a batch into at least this many splits (the worker count) when it is large enough. */
  readonly minSplits?: number;
  /** Wall clock, injectable for tests. */
  readonly nowMs?: () => number;
}

/** Events below which a split is not worth a task of its own (a round trip costs ~80 µs). */
const MIN_SPLIT_EVENTS = 1000;

/** Where the generator stands: the index of the next event in its stream. */
export interface GeneratorOffsets {
  readonly index: number;
}

/**
 * The lab's load generator as a source. Events are a pure function of (spec, index), so a split
 * is only an index range: the workers generate its text and scan it, and the main thread does no
 * per-event work. With a rate, events become available as wall-clock time passes.
 */
export class GeneratorSource implements ResumableSource<GeneratorOffsets> {
  readonly name = 'generator';
  private produced = 0;
  private startedAtMs: number | null = null;
  private readonly now: () => number;

  constructor(private readonly options: GeneratorSourceOptions) {
    this.now = options.nowMs ?? Date.now;
  }

  describe(): string {
    const { rate, events, spec } = this.options;
    return (
      `generator (seed ${spec.seed}, ${rate === 0 ? 'as fast as possible' : `${rate.toLocaleString('en-US')} events/s`}` +
      `${events === null ? ', until stopped' : `, ${events.toLocaleString('en-US')} events`}, ${spec.users} users, "crash" in 1 of ${spec.crashOneIn} events, "vulnerability" in 1 of ${spec.vulnerabilityOneIn})`
    );
  }

  /** Events produced so far (the source's offset). */
  get offset(): number {
    return this.produced;
  }

  /** The settings that make the stream: offsets are event indexes in it. */
  identity(): unknown {
    return { ...this.options.spec };
  }

  /** Moves the source to `{index}` (restores); the rate clock restarts from there. */
  async seek(offsets: GeneratorOffsets): Promise<void> {
    this.produced = offsets.index;
    this.startedAtMs = null;
  }

  /** Cuts events [offset, endOffsets.index) as one batch (a replay), ignoring the rate and batch limits. */
  async pollUntil(endOffsets: GeneratorOffsets): Promise<PollResult<GeneratorOffsets>> {
    const end = endOffsets.index;
    if (end <= this.produced) return { kind: 'end' };
    return this.cut(end - this.produced);
  }

  /** Reads a checkpoint's `{index}`: a user error if it is not one. */
  parseOffsets(offsets: unknown): GeneratorOffsets {
    const index = (offsets as { index?: unknown } | null)?.index;
    if (typeof index !== 'number' || !Number.isSafeInteger(index) || index < 0) {
      throw new KindlingError('BAD_OFFSETS', `generator: cannot resume at ${JSON.stringify(offsets)}: not a generator position {index}`, { domain: 'user' });
    }
    return { index };
  }

  async poll(): Promise<PollResult<GeneratorOffsets>> {
    const { rate, events, maxEventsPerBatch } = this.options;
    if (events !== null && this.produced >= events) return { kind: 'end' };
    const now = this.now();
    if (this.startedAtMs === null) this.startedAtMs = now - (rate > 0 ? (this.produced * 1000) / rate : 0);
    let available = rate === 0 ? Number.POSITIVE_INFINITY : Math.floor(((now - this.startedAtMs) * rate) / 1000) - this.produced;
    if (events !== null) available = Math.min(available, events - this.produced);
    const count = Math.min(available, maxEventsPerBatch);
    if (count <= 0) return { kind: 'idle', retryInMs: Math.max(1, Math.ceil(1000 / rate)) };
    return this.cut(count);
  }

  private cut(count: number): PollResult<GeneratorOffsets> {
    const { spec } = this.options;
    // At least one split per worker once a batch has a few thousand events, so a small live batch
    // (5,000 events at 20,000/s with a 250 ms trigger) does not leave all but one worker idle.
    const splitCount = Math.max(Math.ceil(count / this.options.splitEvents), Math.min(this.options.minSplits ?? 1, Math.floor(count / MIN_SPLIT_EVENTS)));
    const splitEvents = Math.ceil(count / Math.max(1, splitCount));
    const first = this.produced;
    const splits: Split[] = [];
    for (let at = first; at < first + count; at += splitEvents) {
      const n = Math.min(splitEvents, first + count - at);
      splits.push({ payload: { kind: 'generated', spec, firstIndex: at, count: n }, origin: { label: 'generator', firstIndex: at } });
    }
    this.produced += count;
    return { kind: 'batch', batch: { splits, records: count, startOffsets: { index: first }, endOffsets: { index: this.produced } } };
  }

  async close(): Promise<void> {}
}
