// The recent progress records, kept for the web UI (a bounded ring, oldest dropped first).
import type { ProgressRecord } from './progress.js';

/** The last `capacity` progress records, oldest first. */
export class ProgressHistory {
  private readonly records: ProgressRecord[] = [];

  constructor(readonly capacity = 300) {}

  /** Adds the newest record, dropping the oldest beyond capacity. */
  add(p: ProgressRecord): void {
    this.records.push(p);
    if (this.records.length > this.capacity) this.records.shift();
  }

  /** The newest `limit` records (all by default), oldest first. */
  recent(limit = this.capacity): readonly ProgressRecord[] {
    return limit >= this.records.length ? this.records : this.records.slice(this.records.length - limit);
  }

  /** How many records are kept now. */
  get size(): number {
    return this.records.length;
  }
}
