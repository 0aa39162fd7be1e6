// The plan as the engine runs it, operator by operator (Spark's SQL-tab graph): where each runs, and each one's rows in and out for a batch.
import { derivePrecheck } from '../plan/precheck.js';
import type { AnalyzedPlan, RowStep } from '../plan/plan.js';

/** Where an operator runs: stage 1 (a task per split), the shuffle, stage 2 (a task per partitionId), or the main thread. */
export type OperatorPlace = 'stage 1' | 'shuffle' | 'stage 2' | 'main thread';

/** One operator of the graph. */
export interface GraphOperator {
  readonly name: string;
  readonly place: OperatorPlace;
  /** What it does, in a phrase (its condition, keys, terms). */
  readonly detail: string;
}

/** Rows into and out of one operator in one batch (aligned with the graph's operators). */
export interface OperatorRows {
  readonly rowsIn: number;
  readonly rowsOut: number;
}

/** What a batch counted, from which every operator's rows follow. */
export interface BatchFlow {
  /** Records read. */
  readonly records: number;
  /** Records the pre-check ruled out unparsed. */
  readonly skipped: number;
  /** Rows left after stage 1's filters. */
  readonly matched: number;
  /** dropDuplicates: rows kept, and rows left after the steps behind it. */
  readonly deduplicated: number;
  readonly afterDedup: number;
  /** Aggregation: partial groups shuffled to stage 2, and the groups it emitted (before HAVING). */
  readonly partialGroups: number;
  readonly emitted: number;
  readonly rowsOut: number;
}

const stepsText = (steps: readonly RowStep[]): string =>
  steps.map((s) => (s.kind === 'project' ? `Project [${s.columns.map((c) => c.name).join(', ')}]` : s.kind === 'filter' ? 'Filter' : 'EventTimeWatermark')).join(', ');

/**
 * Walks the plan's operators in order, calling `visit` with each and its rows (from `flow`; all
 * zero without one). The one place the graph's shape lives, so operators and rows never disagree.
 */
function walk(plan: AnalyzedPlan, flow: BatchFlow | null, visit: (op: GraphOperator, rows: OperatorRows) => void): void {
  const f = flow ?? { records: 0, skipped: 0, matched: 0, deduplicated: 0, afterDedup: 0, partialGroups: 0, emitted: 0, rowsOut: 0 };
  const parsed = f.records - f.skipped;
  visit({ name: 'Scan', place: 'stage 1', detail: 'records of the split' }, { rowsIn: f.records, rowsOut: f.records });
  const terms = derivePrecheck(plan);
  if (terms.length > 0) visit({ name: 'Pre-check', place: 'stage 1', detail: `raw text holds ${terms.map((g) => g.map((t) => `'${t}'`).join(' or ')).join(' and ')}` }, { rowsIn: f.records, rowsOut: parsed });
  visit({ name: 'FromJson', place: 'stage 1', detail: plan.schema.fields.map((x) => x.name).join(', ') }, { rowsIn: parsed, rowsOut: parsed });
  if (plan.pre.length > 0) visit({ name: 'Filter / Project', place: 'stage 1', detail: stepsText(plan.pre) }, { rowsIn: parsed, rowsOut: f.matched });
  let rows = f.matched;
  if (plan.dedup) {
    visit({ name: 'Exchange', place: 'shuffle', detail: 'by the dropDuplicates key' }, { rowsIn: rows, rowsOut: rows });
    visit({ name: 'Deduplicate', place: 'stage 2', detail: plan.dedup.eventTimeOrdinal === null ? 'keys kept forever' : 'late and evicted by the watermark' }, { rowsIn: rows, rowsOut: f.deduplicated });
    rows = f.deduplicated;
    if (plan.mid.length > 0) {
      visit({ name: 'Filter / Project', place: 'main thread', detail: stepsText(plan.mid) }, { rowsIn: rows, rowsOut: f.afterDedup });
      rows = f.afterDedup;
    }
  }
  if (plan.aggregate) {
    const keys = plan.aggregate.columns.slice(0, plan.aggregate.keys.length).map((c) => c.name).join(', ');
    visit({ name: 'Partial aggregate', place: plan.dedup ? 'main thread' : 'stage 1', detail: `by ${keys || 'nothing'}` }, { rowsIn: rows, rowsOut: f.partialGroups });
    visit({ name: 'Exchange', place: 'shuffle', detail: 'by the group key' }, { rowsIn: f.partialGroups, rowsOut: f.partialGroups });
    visit({ name: 'Stateful aggregate', place: 'stage 2', detail: plan.aggregate.aggregates.map((a) => a.fn.name).join(', ') }, { rowsIn: f.partialGroups, rowsOut: f.emitted });
    rows = f.emitted;
    if (plan.post.length > 0) {
      visit({ name: plan.post.some((s) => s.kind === 'filter') ? 'Filter (HAVING)' : 'Project', place: 'main thread', detail: stepsText(plan.post) }, { rowsIn: rows, rowsOut: f.rowsOut });
      rows = f.rowsOut;
    }
    if (plan.sort) visit({ name: 'Sort', place: 'main thread', detail: 'the whole result' }, { rowsIn: rows, rowsOut: rows });
  }
  visit({ name: 'Sink', place: 'main thread', detail: 'the output rows of the batch' }, { rowsIn: f.rowsOut, rowsOut: f.rowsOut });
}

/** The plan's operators in the order a row meets them. */
export function planGraph(plan: AnalyzedPlan): GraphOperator[] {
  const ops: GraphOperator[] = [];
  walk(plan, null, (op) => ops.push(op));
  return ops;
}

/** Each operator's rows in and out for a batch, aligned with planGraph(plan). */
export function operatorRows(plan: AnalyzedPlan, flow: BatchFlow): OperatorRows[] {
  const rows: OperatorRows[] = [];
  walk(plan, flow, (_op, r) => rows.push(r));
  return rows;
}
