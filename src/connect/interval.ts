// Spark's interval strings as milliseconds: "30 seconds", "1 minute 30 seconds", "interval 10 seconds" (watermark delays, window lengths, triggers).
import { analysisError } from './errors.js';

const UNIT_MS: Readonly<Record<string, number>> = {
  week: 604_800_000, day: 86_400_000, hour: 3_600_000, minute: 60_000, second: 1_000, millisecond: 1, microsecond: 0.001,
};

/** Milliseconds in `text`, or an error naming what was given and where (`context`). */
export function parseIntervalMs(text: string, context: string): number {
  const words = text.trim().toLowerCase().replace(/^interval\s+/, '').split(/\s+/);
  let totalMs = 0;
  for (let i = 0; i < words.length; i += 2) {
    const amount = Number(words[i]);
    const unit = words[i + 1]?.replace(/s$/, '');
    const ms = unit === undefined ? undefined : UNIT_MS[unit];
    if (!Number.isFinite(amount) || ms === undefined || words[i] === '') {
      throw analysisError('INVALID_INTERVAL_FORMAT', `Invalid interval ${JSON.stringify(text)} in ${context}: write a number and a unit, e.g. "30 seconds" or "1 minute".`);
    }
    totalMs += amount * ms;
  }
  return totalMs;
}
