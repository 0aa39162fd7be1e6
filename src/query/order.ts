// The stable order of emitted rows: by window start then key, or by count descending then key.
import type { Query } from './query.js';
import type { ResultRow } from './window-state.js';

const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Sorts rows in place into the query's output order (deterministic, locale-independent). */
export function sortRows(rows: ResultRow[], orderBy: Query['orderBy']): ResultRow[] {
  if (orderBy === 'count-desc') {
    return rows.sort((a, b) => b.count - a.count || a.windowStartMs - b.windowStartMs || compareStrings(a.key, b.key));
  }
  return rows.sort((a, b) => a.windowStartMs - b.windowStartMs || compareStrings(a.key, b.key));
}
