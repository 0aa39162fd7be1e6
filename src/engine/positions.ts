// Where a record of a batch is, for a person: a file line, a generator event index, or a topic-partition offset.
import type { Split, SplitOrigin } from '../source/source.js';

/**
 * Names records by their position in the input. Kafka and generator splits carry their records'
 * offsets or first index; a file split does not know its line numbers, so the records of each file
 * are counted here as its batches go by (in batch and split order).
 */
export class RecordPositions {
  private readonly seen = new Map<string, number>();

  /** Counts a finished batch's records in; returns, per split, the records of its file before it. */
  advance(splits: readonly Split[], records: readonly number[]): number[] {
    return splits.map((split, i) => {
      const label = split.origin.label;
      const before = this.seen.get(label) ?? 0;
      this.seen.set(label, before + records[i]!);
      return before;
    });
  }

  /**
   * The position of record `recordIndex` of split `splitIndex` in a batch not counted in yet;
   * `earlier` holds the record counts of the splits before it.
   */
  where(splits: readonly Split[], earlier: readonly number[], splitIndex: number, recordIndex: number): string {
    const origin = splits[splitIndex]!.origin;
    let before = this.seen.get(origin.label) ?? 0;
    for (let i = 0; i < splitIndex; i++) if (splits[i]!.origin.label === origin.label) before += earlier[i]!;
    return describePosition(origin, recordIndex, before);
  }
}

/** "part-000.ndjson line 12", "generator event 8191", "events-3 offset 1042". */
export function describePosition(origin: SplitOrigin, recordIndex: number, recordsBefore: number): string {
  if (origin.recordOffsets) return `${origin.label} offset ${origin.recordOffsets[recordIndex]}`;
  if (origin.samplesAtOffsets) return `${origin.label} offset ${recordIndex}`;
  if (origin.firstIndex !== undefined) return `${origin.label} event ${origin.firstIndex + recordIndex}`;
  return `${origin.label} line ${recordsBefore + recordIndex + 1}`;
}
