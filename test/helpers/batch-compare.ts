// Compares the rows of two runs of one query batch by batch: the same rows (as a multiset, or in order), doubles
// equal within a relative tolerance, everything else exactly.
export type Row = Record<string, unknown>;

/** Spark and Kindling may sum doubles in another order: a relative difference this small is the same value. */
const RELATIVE_TOLERANCE = 1e-9;

function sameValue(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') {
    if (Number.isInteger(a) && Number.isInteger(b) && Math.abs(a) < 2 ** 53) return a === b;
    return a === b || Math.abs(a - b) <= RELATIVE_TOLERANCE * Math.max(Math.abs(a), Math.abs(b));
  }
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a).sort();
    const kb = Object.keys(b).sort();
    return ka.join() === kb.join() && ka.every((k) => sameValue((a as Row)[k], (b as Row)[k]));
  }
  return a === b;
}

/** A row's sort key: its JSON with keys sorted and non-integer numbers to 8 significant digits (ties fall within the tolerance). */
function sortKey(row: unknown): string {
  return JSON.stringify(row, (_, v: unknown) => {
    if (typeof v === 'number' && !Number.isInteger(v)) return Number(v.toPrecision(8));
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) return Object.fromEntries(Object.entries(v).sort(([x], [y]) => (x < y ? -1 : 1)));
    return v;
  });
}

/**
 * What differs between our rows and theirs (empty when they match): row counts, each differing row pair of the rows
 * as multisets, and, for a sorted query, where the values of its sort columns (`orderedBy`) come in another order
 * (rows equal in those columns may come in any order, as in Spark).
 */
export function rowDifferences(ours: readonly Row[], theirs: readonly Row[], orderedBy: readonly string[]): string[] {
  const sorted = (rows: readonly Row[]): Row[] => [...rows].sort((x, y) => (sortKey(x) < sortKey(y) ? -1 : sortKey(x) > sortKey(y) ? 1 : 0));
  const a = sorted(ours);
  const b = sorted(theirs);
  const out: string[] = [];
  if (a.length !== b.length) out.push(`${a.length} rows, Spark ${b.length}`);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (!sameValue(a[i], b[i])) out.push(`row ${i}: ${JSON.stringify(a[i])} | Spark ${JSON.stringify(b[i])}`);
  }
  if (orderedBy.length > 0) {
    const keys = (rows: readonly Row[]): Row[] => rows.map((r) => Object.fromEntries(orderedBy.map((c) => [c, r[c] ?? null])));
    const ka = keys(ours);
    const kb = keys(theirs);
    for (let i = 0; i < Math.min(ka.length, kb.length); i++) {
      if (!sameValue(ka[i], kb[i])) out.push(`order at row ${i}: ${JSON.stringify(ka[i])} | Spark ${JSON.stringify(kb[i])}`);
    }
  }
  return out;
}
