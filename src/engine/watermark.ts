// The global event-time watermark and the two values each batch runs with (Spark's WatermarkTracker).

/** The two watermarks one batch runs with, epoch ms. */
export interface BatchWatermarks {
  /** Rows whose window ends at or before it are late: the previous batch's eviction watermark, W(N-1). */
  readonly lateWatermarkMs: number;
  /** Windows that end at or before it are complete and evicted: W(N). */
  readonly evictionWatermarkMs: number;
}

/**
 * Tracks the global watermark: after each batch, `W = max(W, maxEventTime - delay)`; a batch with
 * no matched rows leaves it unchanged; it never decreases and starts at 0.
 * Batch N evicts with W(N) (computed at the end of batch N-1) and drops late rows with W(N-1), the
 * previous batch's eviction watermark — Spark keeps the two apart on purpose (SPARK-40925).
 */
export class WatermarkTracker {
  private currentMs = 0;
  private lastEvictionMs = 0;

  constructor(private readonly delayMs: number) {}

  /** The watermark the next batch will evict with. */
  get watermarkMs(): number {
    return this.currentMs;
  }

  /** The eviction watermark the last started batch used (the next batch's late watermark). */
  get lastEvictionWatermarkMs(): number {
    return this.lastEvictionMs;
  }

  /** Watermarks for the batch about to run; call once per batch, before it runs. */
  beginBatch(): BatchWatermarks {
    const late = this.lastEvictionMs;
    this.lastEvictionMs = this.currentMs;
    return { lateWatermarkMs: late, evictionWatermarkMs: this.currentMs };
  }

  /** Feeds the batch's max event time over matched rows (null: none) once the batch finished. */
  endBatch(maxEventTimeMs: number | null): void {
    if (maxEventTimeMs === null) return;
    const candidate = maxEventTimeMs - this.delayMs;
    if (candidate > this.currentMs) this.currentMs = candidate;
  }

  /** True when the watermark moved past the last batch's eviction watermark: a no-data batch would evict. */
  get advancedSinceLastBatch(): boolean {
    return this.currentMs > this.lastEvictionMs;
  }

  /** The tracker's state, for snapshots. */
  toJSON(): { watermarkMs: number; lastEvictionWatermarkMs: number } {
    return { watermarkMs: this.currentMs, lastEvictionWatermarkMs: this.lastEvictionMs };
  }

  /** Restores the state written by toJSON. */
  restore(saved: { watermarkMs: number; lastEvictionWatermarkMs: number }): void {
    this.currentMs = saved.watermarkMs;
    this.lastEvictionMs = saved.lastEvictionWatermarkMs;
  }
}
