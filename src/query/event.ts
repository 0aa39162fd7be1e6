// The lab's log event and its validation: one raw record in, an Event or a rejection reason out.
import { eventTimeMs, type EventTimeMs } from './time.js';

/** One log event as the lab's generator writes it (field names kept as in the JSON). */
export interface LogEvent {
  readonly timestamp: EventTimeMs;
  readonly status: string;
  readonly severity: string;
  readonly source_ip: string;
  readonly user_id: string;
  readonly content: string;
}

/** Result of parsing one record: tagged by `ok`. */
export type ParseResult = { ok: true; event: LogEvent } | { ok: false; reason: string };

const STRING_FIELDS = ['status', 'severity', 'source_ip', 'user_id', 'content'] as const;

/**
 * Validates an already-parsed JSON value against the lab's schema. Every field is required;
 * `timestamp` must be an integer number of epoch milliseconds (the lab's schema is a long, so
 * strings and fractions are rejected, as Spark's from_json would null them).
 */
export function validateEvent(value: unknown): ParseResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: 'not a JSON object' };
  }
  const record = value as Record<string, unknown>;
  const ts = record['timestamp'];
  if (ts === undefined) return { ok: false, reason: 'missing field "timestamp"' };
  if (typeof ts !== 'number' || !Number.isSafeInteger(ts)) {
    return { ok: false, reason: `"timestamp" must be an integer of epoch milliseconds; got ${JSON.stringify(ts)}` };
  }
  for (const field of STRING_FIELDS) {
    const v = record[field];
    if (v === undefined) return { ok: false, reason: `missing field "${field}"` };
    if (typeof v !== 'string') return { ok: false, reason: `"${field}" must be a string; got ${typeof v === 'object' ? JSON.stringify(v) : typeof v}` };
  }
  return {
    ok: true,
    event: {
      timestamp: eventTimeMs(ts),
      status: record['status'] as string,
      severity: record['severity'] as string,
      source_ip: record['source_ip'] as string,
      user_id: record['user_id'] as string,
      content: record['content'] as string,
    },
  };
}

/** Parses one record's text (JSON) into an Event, or says why it is rejected. Never throws. */
export function parseEvent(text: string): ParseResult {
  if (text.trim() === '') return { ok: false, reason: 'empty record' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `malformed JSON (${(err as Error).message})` };
  }
  return validateEvent(value);
}
