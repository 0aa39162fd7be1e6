// Time types: event time, watermark and wall time are kept apart by brand so one cannot be passed as another.

/** Event time: epoch milliseconds taken from an event's `timestamp` field. */
export type EventTimeMs = number & { readonly __brand: 'EventTimeMs' };
/** Watermark: epoch milliseconds; windows whose end is at or before it are complete. */
export type WatermarkMs = number & { readonly __brand: 'WatermarkMs' };

/** Brands a number as event time (no conversion). */
export const eventTimeMs = (ms: number): EventTimeMs => ms as EventTimeMs;
/** Brands a number as a watermark (no conversion). */
export const watermarkMs = (ms: number): WatermarkMs => ms as WatermarkMs;

/** Formats epoch milliseconds as Spark's JSON sink does (UTC, millisecond precision, `Z`). */
export function isoMs(ms: number): string {
  return new Date(ms).toISOString();
}
