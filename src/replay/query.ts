// The query plan a replay runs: a built-in by name, or a module exporting a QueryPlan (as a run loads them); checked against the checkpoint's query.
import type { CheckpointMetadata } from '../checkpoint/log.js';
import { loadQueryPlan } from '../engine/query-module.js';
import { UsageError } from '../errors.js';
import { planFingerprint, type QueryPlan } from '../plan/plan.js';
import { crashAlertsPlan, vulnerabilityByIpPlan } from '../plan/queries.js';

const BUILTIN_NAMES = new Set([crashAlertsPlan.name, vulnerabilityByIpPlan.name]);

/**
 * The plan to replay: `--query` (a built-in name, or the path of an ES module whose default export,
 * or export `query`, is a QueryPlan), else the checkpoint's query by name, else crash-alerts. A
 * checkpoint written by another query is refused: a replay of another query explains nothing.
 */
export async function replayQuery(ref: string | undefined, metadata: CheckpointMetadata | null): Promise<QueryPlan> {
  const name = ref ?? metadata?.query.name ?? crashAlertsPlan.name;
  if (ref === undefined && !BUILTIN_NAMES.has(name)) {
    throw new UsageError(`the checkpoint was written by query ${name}, which is not built in; give its module with --query PATH`);
  }
  const plan = await loadQueryPlan(name);
  if (metadata) {
    if (metadata.query.name !== plan.name) {
      throw new UsageError(`the checkpoint was written by query ${metadata.query.name}, not ${plan.name}; give --query for ${metadata.query.name}`);
    }
    // A checkpoint written from a plan holds the plan's fingerprint: then it must be this plan.
    const saved = metadata.query.fingerprint;
    if (saved.includes('"root"') && saved !== planFingerprint(plan)) {
      throw new UsageError(`the checkpoint was written by another version of query ${plan.name} (its plan differs); replay it with the module the run used`);
    }
  }
  return plan;
}
