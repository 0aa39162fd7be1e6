// Test helpers: a Source that replays given batches of records as byte splits, and a Sink that keeps what it gets.
import { Buffer } from 'node:buffer';
import type { EmittedBatch, Sink } from '../../src/sink/sink.js';
import type { PollResult, ResumableSource, Split } from '../../src/source/source.js';

/**
 * Replays `batches` (lists of raw records), cutting each into `splitsPerBatch` byte splits at record
 * boundaries. Its offsets are batch indexes, so it can resume from a checkpoint like the real sources.
 */
export class MemorySource implements ResumableSource<number> {
  readonly name = 'memory';
  private next = 0;
  /** With `idleBetween`: the next poll answers idle (nothing arrived yet), as a file dropped in after each batch. */
  private idleNext = false;

  constructor(
    private readonly batches: readonly (readonly string[])[],
    private readonly splitsPerBatch = 3,
    private readonly useRecordEnds = false,
    private readonly idleBetween = false,
  ) {}

  describe(): string {
    return `memory (${this.batches.length} batches)`;
  }

  async poll(): Promise<PollResult<number>> {
    if (this.idleNext) {
      this.idleNext = false;
      return { kind: 'idle', retryInMs: 0 };
    }
    this.idleNext = this.idleBetween;
    const records = this.batches[this.next];
    if (records === undefined) return { kind: 'end' };
    const batchIndex = this.next++;
    const per = Math.max(1, Math.ceil(records.length / this.splitsPerBatch));
    const splits: Split[] = [];
    for (let at = 0; at < records.length; at += per) {
      const chunk = records.slice(at, at + per);
      if (this.useRecordEnds) {
        const parts = chunk.map((r) => Buffer.from(r));
        const ends = new Uint32Array(parts.length);
        let end = 0;
        parts.forEach((p, i) => (ends[i] = end += p.length));
        const bytes = Buffer.from(Buffer.concat(parts));
        splits.push({ payload: { kind: 'bytes', bytes, recordEnds: ends }, origin: { label: `memory-${batchIndex}`, recordOffsets: chunk.map((_, i) => at + i) } });
      } else {
        const bytes = Buffer.from(chunk.join('\n') + '\n');
        splits.push({ payload: { kind: 'bytes', bytes }, origin: { label: `memory-${batchIndex}` } });
      }
    }
    return { kind: 'batch', batch: { splits, records: records.length, startOffsets: batchIndex, endOffsets: batchIndex + 1 } };
  }

  identity(): unknown {
    return { batches: this.batches.length };
  }

  parseOffsets(json: unknown): number {
    if (!Number.isSafeInteger(json) || (json as number) < 0 || (json as number) > this.batches.length) throw new Error(`memory source: ${JSON.stringify(json)} is no batch index`);
    return json as number;
  }

  async seek(offsets: number): Promise<void> {
    this.next = offsets;
  }

  async pollUntil(endOffsets: number): Promise<PollResult<number>> {
    if (endOffsets !== this.next + 1) throw new Error(`memory source: cannot cut batch ${this.next} to end at ${endOffsets}`);
    return this.poll();
  }

  async close(): Promise<void> {}
}

/** Keeps every emitted batch. */
export class CollectingSink implements Sink {
  readonly name = 'collect';
  readonly batches: EmittedBatch[] = [];

  async emit(batch: EmittedBatch): Promise<void> {
    this.batches.push({ ...batch, rows: [...batch.rows] });
  }

  async close(): Promise<void> {}
}
