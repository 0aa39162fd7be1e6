// The lab's two built-in queries, and loading a user's Query module by path.
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { checkQuery, type Query, type QueryRef } from './query.js';

/** Activity 3: crash alerts per user per 10 s window with a 30 s watermark, count > 2, append mode. */
export const crashAlerts: Query = {
  name: 'crash-alerts',
  description:
    'content contains "crash" (any case) and severity is High or Critical; 30 s watermark; ' +
    'count per 10 s tumbling window and user_id; emit counts > 2 when the window completes',
  filter: (e) => (e.severity === 'High' || e.severity === 'Critical') && e.content.toLowerCase().includes('crash'),
  keyColumn: 'user_id',
  key: (e) => e.user_id,
  window: { sizeMs: 10_000, slideMs: 10_000 },
  watermarkDelayMs: 30_000,
  aggregate: { kind: 'count', column: 'crash_count' },
  having: (count) => count > 2,
  outputMode: 'append',
  orderBy: 'window-key',
  precheckTerms: ['crash'],
};

/** Activities 1-2: High-severity "vulnerability" rows counted per source_ip, complete mode, by count. */
export const vulnerabilityByIp: Query = {
  name: 'vulnerability-by-ip',
  description: 'content contains "vulnerability" (any case) and severity is High; count per source_ip; complete mode, sorted by count',
  filter: (e) => e.severity === 'High' && e.content.toLowerCase().includes('vulnerability'),
  keyColumn: 'source_ip',
  key: (e) => e.source_ip,
  aggregate: { kind: 'count', column: 'count' },
  outputMode: 'complete',
  orderBy: 'count-desc',
  precheckTerms: ['vulnerability'],
};

/** Built-in queries by name. */
export const BUILTIN_QUERIES: Readonly<Record<string, Query>> = {
  [crashAlerts.name]: crashAlerts,
  [vulnerabilityByIp.name]: vulnerabilityByIp,
};

/**
 * Resolves a QueryRef: a built-in name, or a path to an ES module whose default export (or export
 * named `query`) is a Query. Paths resolve against the working directory into an absolute file
 * URL, so the main thread and every worker load the same module.
 */
export function normalizeQueryRef(ref: string): QueryRef {
  if (ref in BUILTIN_QUERIES) return ref;
  return pathToFileURL(resolve(ref)).href;
}

const loaded = new Map<QueryRef, Promise<Query>>();

/** Loads (once per thread) the Query a QueryRef names; throws a clear error for a bad module. */
export function loadQuery(ref: QueryRef): Promise<Query> {
  const builtin = BUILTIN_QUERIES[ref];
  if (builtin) return Promise.resolve(builtin);
  let pending = loaded.get(ref);
  if (!pending) {
    pending = import(ref).then(
      (mod: Record<string, unknown>) => checkQuery(mod['default'] ?? mod['query'], ref),
      (err: unknown) => {
        throw new Error(`cannot load query module ${ref}: ${(err as Error).message}`, { cause: err });
      },
    );
    loaded.set(ref, pending);
  }
  return pending;
}
