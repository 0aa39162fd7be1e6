// Spark's interval strings for windows and watermarks ("10 seconds", "1 minute 30 seconds") to microseconds.
import { PlanError } from './types.js';

const UNIT_US: Readonly<Record<string, number>> = {
  microsecond: 1, millisecond: 1_000, second: 1_000_000, minute: 60_000_000, hour: 3_600_000_000, day: 86_400_000_000, week: 604_800_000_000,
};

/** `"10 seconds"`, `"1 minute 30 seconds"`, `"interval 500 milliseconds"` → microseconds. Throws naming the bad part. */
export function parseDurationUs(text: string, what: string): number {
  const parts = text.trim().replace(/^interval\s+/i, '').split(/\s+/);
  if (parts.length === 0 || parts.length % 2 === 1 || parts[0] === '') {
    throw new PlanError(`${what}: "${text}" is not a duration; write it as Spark does, e.g. "10 seconds" or "1 minute 30 seconds"`);
  }
  let us = 0;
  for (let i = 0; i < parts.length; i += 2) {
    const n = Number(parts[i]);
    const unit = parts[i + 1]!.toLowerCase().replace(/s$/, '');
    const scale = UNIT_US[unit];
    if (!Number.isFinite(n) || scale === undefined) {
      throw new PlanError(`${what}: "${text}" is not a duration; expected a number and a unit (microseconds, milliseconds, seconds, minutes, hours, days, weeks) at "${parts[i]} ${parts[i + 1]}"`);
    }
    us += n * scale;
  }
  return Math.round(us);
}
