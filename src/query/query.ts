// A Query is data: filter, key, window, watermark, aggregate, HAVING and output mode in one definition.
import type { LogEvent } from './event.js';
import type { WindowSpec } from './window.js';

/** Spark's output modes for a streaming aggregation. */
export type OutputMode = 'append' | 'update' | 'complete';
export const OUTPUT_MODES: readonly OutputMode[] = ['append', 'update', 'complete'];

/** The one aggregate Kindling computes: count(*) per group, named as the output column. */
export interface CountAggregate {
  readonly kind: 'count';
  readonly column: string;
}

/**
 * A streaming aggregation query: `filter` then group by (`window`, `key`) and count, keep groups
 * passing `having`. Functions cannot cross threads, so workers load a Query from a module path.
 */
export interface Query {
  readonly name: string;
  /** Rows that pass are counted; the others are "filtered". Must be pure. */
  readonly filter: (event: LogEvent) => boolean;
  /** Output column of the grouping key, e.g. `user_id`. */
  readonly keyColumn: string;
  /** The grouping key of an event. */
  readonly key: (event: LogEvent) => string;
  /** Event-time window; absent for a plain group-by. */
  readonly window?: WindowSpec;
  /** Watermark delay in ms (Spark's withWatermark); absent: no watermark, no eviction, no late rows. */
  readonly watermarkDelayMs?: number;
  readonly aggregate: CountAggregate;
  /** Filter on the aggregated count (HAVING); absent: keep every group. */
  readonly having?: (count: number) => boolean;
  readonly outputMode: OutputMode;
  /** Row order in each emitted batch: by window start then key, or by count descending then key. */
  readonly orderBy: 'window-key' | 'count-desc';
  /**
   * Byte pre-check: the query can only accept a record whose raw text contains one of these
   * ASCII terms in any letter case. Records without them (and without a `\` escape) are not parsed.
   * Absent: every record is parsed.
   */
  readonly precheckTerms?: readonly string[];
  /** Human-readable description (shown by --help and the UI). */
  readonly description?: string;
}

/** A reference to a query that can cross threads: a built-in name or a module path. */
export type QueryRef = string;

/**
 * Checks a Query definition and returns it, or throws with the rule it breaks.
 * Used on the main thread when loading a user's module, so a bad query fails before any batch.
 */
export function checkQuery(value: unknown, origin: string): Query {
  const fail = (rule: string): never => {
    throw new Error(`${origin}: not a valid Query: ${rule}`);
  };
  if (typeof value !== 'object' || value === null) fail('expected an object');
  const q = value as Record<string, unknown>;
  if (typeof q['name'] !== 'string' || q['name'] === '') fail('"name" must be a non-empty string');
  if (typeof q['filter'] !== 'function') fail('"filter" must be a function (event) => boolean');
  if (typeof q['key'] !== 'function') fail('"key" must be a function (event) => string');
  if (typeof q['keyColumn'] !== 'string') fail('"keyColumn" must be a string');
  const agg = q['aggregate'] as Record<string, unknown> | undefined;
  if (!agg || agg['kind'] !== 'count' || typeof agg['column'] !== 'string') {
    fail('"aggregate" must be { kind: "count", column: string }');
  }
  if (!OUTPUT_MODES.includes(q['outputMode'] as OutputMode)) fail('"outputMode" must be append, update or complete');
  if (q['orderBy'] !== 'window-key' && q['orderBy'] !== 'count-desc') fail('"orderBy" must be "window-key" or "count-desc"');
  if (q['having'] !== undefined && typeof q['having'] !== 'function') fail('"having" must be a function (count) => boolean');
  const w = q['window'] as Record<string, unknown> | undefined;
  if (w !== undefined) {
    const size = w['sizeMs'];
    const slide = w['slideMs'];
    if (!Number.isSafeInteger(size) || (size as number) <= 0) fail('"window.sizeMs" must be a positive integer');
    if (!Number.isSafeInteger(slide) || (slide as number) <= 0 || (slide as number) > (size as number)) {
      fail('"window.slideMs" must be a positive integer <= sizeMs');
    }
  }
  const delay = q['watermarkDelayMs'];
  if (delay !== undefined && (!Number.isSafeInteger(delay) || (delay as number) < 0)) {
    fail('"watermarkDelayMs" must be an integer >= 0');
  }
  if (delay !== undefined && w === undefined) fail('a watermark needs a window (Kindling windows the watermarked column)');
  const terms = q['precheckTerms'];
  if (terms !== undefined) {
    if (!Array.isArray(terms) || terms.length === 0 || !terms.every((t) => typeof t === 'string' && /^[\x20-\x7e]+$/.test(t) && !t.includes('\\'))) {
      fail('"precheckTerms" must be a non-empty array of printable ASCII strings without backslashes');
    }
  }
  return value as Query;
}

/**
 * Checks that `mode` is allowed for `query`, as Spark's UnsupportedOperationChecker does:
 * append needs a watermark on a windowed aggregation (otherwise no row is ever final).
 * Returns an error message, or null when allowed.
 */
export function outputModeProblem(query: Query, mode: OutputMode): string | null {
  if (mode === 'append' && (query.window === undefined || query.watermarkDelayMs === undefined)) {
    return `append output mode needs a windowed aggregation with a watermark; query "${query.name}" has none (use update or complete)`;
  }
  return null;
}

/**
 * A fingerprint of everything that shapes a query's state and results, so a checkpoint written by
 * one query is never restored into another. Function bodies are included as source text.
 */
export function queryFingerprint(query: Query): string {
  return JSON.stringify({
    name: query.name,
    filter: query.filter.toString(),
    key: query.key.toString(),
    keyColumn: query.keyColumn,
    window: query.window ?? null,
    watermarkDelayMs: query.watermarkDelayMs ?? null,
    aggregate: query.aggregate,
    having: query.having?.toString() ?? null,
  });
}
