// The order of emitted rows: the plan's orderBy (complete mode), else every column ascending, so output never depends on task layout.
import type { AnalyzedPlan } from './plan.js';
import { evaluate } from './evaluate.js';
import type { Row } from './types.js';
import { compareNullable } from './values.js';

/** Compares rows column by column, nulls first (Spark's ascending order). */
export function compareRows(a: Row, b: Row): number {
  for (let i = 0; i < a.length; i++) {
    const c = compareNullable(a[i] ?? null, b[i] ?? null);
    if (c !== 0) return c;
  }
  return 0;
}

/**
 * Sorts emitted aggregation rows in place: by the plan's sort keys (ascending nulls first,
 * descending nulls last, as Spark), ties and unsorted plans by every column. Spark's own order
 * without orderBy is whatever its hash tables give; Kindling's is stable.
 */
export function orderRows(rows: Row[], plan: AnalyzedPlan): Row[] {
  const sort = plan.sort;
  if (!sort) return rows.sort(compareRows);
  const keyed = rows.map((row) => ({ row, keys: sort.map((s) => evaluate(s.bound, row)) }));
  keyed.sort((x, y) => {
    for (let i = 0; i < sort.length; i++) {
      const c = compareNullable(x.keys[i]!, y.keys[i]!);
      if (c !== 0) return sort[i]!.ascending ? c : -c;
    }
    return compareRows(x.row, y.row);
  });
  for (let i = 0; i < rows.length; i++) rows[i] = keyed[i]!.row;
  return rows;
}
