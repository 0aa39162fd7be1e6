// Runs a compiled plan the way the engine will: stage 1 per split, partial groups routed to P stage-2 states by key, watermark between batches.
import { compileQuery } from '../../src/plan/compile-plan.js';
import type { QueryPlan } from '../../src/plan/plan.js';
import type { PlanBatch } from '../../src/plan/reference.js';
import { emptyPartialGroups, type DedupInput, type PartialGroups } from '../../src/plan/state.js';
import type { Row } from '../../src/plan/types.js';
import { partitionIdOf } from '../../src/partition.js';

/** How a compiled run cuts each batch: split sizes come from `cuts` (fractions), stage 2 has `partitions` states. */
export interface CompiledRunLayout {
  readonly cuts: readonly number[];
  readonly partitions: number;
  readonly precheck: boolean;
  readonly drain?: boolean;
}

function split<T>(items: readonly T[], cuts: readonly number[]): T[][] {
  const out: T[][] = [];
  let from = 0;
  for (const c of cuts) {
    const to = Math.min(items.length, from + Math.floor(c * items.length));
    out.push(items.slice(from, to));
    from = to;
  }
  out.push(items.slice(from));
  return out;
}

function routeGroups(parts: readonly PartialGroups[], partitions: number): PartialGroups[][] {
  const routed = Array.from({ length: partitions }, () => parts.map(() => emptyPartialGroups()));
  parts.forEach((p, task) => {
    for (let i = 0; i < p.ids.length; i++) {
      const target = routed[partitionIdOf(p.ids[i]!, partitions)]![task]!;
      target.ids.push(p.ids[i]!);
      target.values.push(p.values[i]!);
      target.states.push(p.states[i]!);
      target.endsUs.push(p.endsUs[i]!);
      target.counts.push(p.counts[i]!);
    }
  });
  return routed;
}

function routeDedup(parts: readonly DedupInput[], partitions: number): DedupInput[][] {
  const routed = Array.from({ length: partitions }, () => parts.map((): DedupInput => ({ keys: [], eventTimesUs: [], rows: [] })));
  parts.forEach((p, task) => {
    for (let i = 0; i < p.keys.length; i++) {
      const target = routed[partitionIdOf(p.keys[i]!, partitions)]![task]!;
      target.keys.push(p.keys[i]!);
      target.eventTimesUs.push(p.eventTimesUs[i]!);
      target.rows.push(p.rows[i]!);
    }
  });
  return routed;
}

/** The compiled path over `batches`, in the oracle's output shape. */
export function runCompiled(query: QueryPlan, batches: readonly (readonly string[])[], layout: CompiledRunLayout): { batches: PlanBatch[]; filteredRows: number; finalWatermarkMs: number } {
  const compiled = compileQuery(query);
  const { plan } = compiled;
  const P = layout.partitions;
  const aggStates = Array.from({ length: P }, () => compiled.newAggregationState());
  const dedupStates = Array.from({ length: P }, () => compiled.newDedupState());
  const out: PlanBatch[] = [];
  let watermarkMs = 0;
  let previousEvictionMs = 0;
  let filteredRows = 0;
  const delayMs = plan.watermark?.delayMs ?? 0;

  const runBatch = (records: readonly string[], noData: boolean): void => {
    const w = { lateWatermarkMs: previousEvictionMs, evictionWatermarkMs: watermarkMs };
    const scans = split(records, layout.cuts).map((chunk) => compiled.scan(chunk, layout.precheck));
    let maxMs: number | null = null;
    for (const s of scans) {
      filteredRows += s.filteredRows;
      if (s.maxEventTimeMs !== null && (maxMs === null || s.maxEventTimeMs > maxMs)) maxMs = s.maxEventTimeMs;
    }
    let rows: Row[] = [];
    let lateRows = 0;
    let lateGroups = 0;
    let partials: PartialGroups[] = scans.flatMap((s) => (s.partial ? [s.partial] : []));
    if (plan.dedup) {
      const routed = routeDedup(scans.map((s) => s.dedup!), P);
      const afterParts: PartialGroups[] = [];
      routed.forEach((inputs, p) => {
        const r = dedupStates[p]!.step(inputs, w);
        lateRows += r.lateRows;
        const after = compiled.afterDedup(r.rows);
        filteredRows += after.filteredRows;
        if (after.partial) afterParts.push(after.partial);
        else rows.push(...after.rows);
      });
      partials = afterParts;
    } else if (!plan.aggregate) rows = scans.flatMap((s) => s.rows);
    if (plan.aggregate) {
      routeGroups(partials, P).forEach((inputs, p) => {
        const r = aggStates[p]!.step(inputs, w);
        rows.push(...r.rows);
        lateRows += r.lateRows;
        lateGroups += r.lateGroups;
      });
    }
    out.push({ batchId: out.length, rows: compiled.finish(rows), noData, watermarkMs: w.evictionWatermarkMs, lateRows, lateGroups });
    previousEvictionMs = w.evictionWatermarkMs;
    if (plan.watermark && maxMs !== null) watermarkMs = Math.max(watermarkMs, maxMs - delayMs);
  };
  for (const b of batches) runBatch(b, false);
  if (plan.watermark && (plan.aggregate || plan.dedup) && watermarkMs > previousEvictionMs) runBatch([], true);
  if (layout.drain && plan.aggregate && query.outputMode !== 'complete') {
    const open = aggStates.reduce((n, s) => n + s.size, 0);
    const rows = aggStates.flatMap((s) => s.drain());
    if (open > 0) out.push({ batchId: out.length, rows: compiled.finish(rows), noData: true, drained: true, watermarkMs, lateRows: 0, lateGroups: 0 });
  }
  return { batches: out, filteredRows, finalWatermarkMs: watermarkMs };
}
