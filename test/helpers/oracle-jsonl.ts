// The plan oracle's answer as the jsonl sink writes it: file name -> content, the drain batch's rows tagged forced.
import type { QueryPlan } from '../../src/plan/plan.js';
import { runPlanReference, type PlanRunOptions } from '../../src/plan/reference.js';
import { jsonLine } from '../../src/sink/sink.js';

/** The oracle's rows for `batches`, per `batch-<id>.jsonl` file (batch ids from `firstBatchId`). */
export function expectedJsonl(plan: QueryPlan, batches: Iterable<readonly string[]>, firstBatchId = 0, options: PlanRunOptions = {}): Record<string, string> {
  const oracle = runPlanReference(plan, batches, options);
  const out: Record<string, string> = {};
  for (const b of oracle.batches) {
    const emitted = { batchId: b.batchId, rows: b.rows, columns: oracle.columns, drained: b.drained === true };
    if (b.rows.length > 0) out[`batch-${b.batchId + firstBatchId}.jsonl`] = b.rows.map((row) => jsonLine(emitted, row)).join('\n') + '\n';
  }
  return out;
}
