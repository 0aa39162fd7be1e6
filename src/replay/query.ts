// The query plan a replay runs: a built-in by name, or a module exporting a QueryPlan; checked against the checkpoint's query.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CheckpointMetadata } from '../checkpoint/log.js';
import { UsageError } from '../errors.js';
import { asQueryPlan, planFingerprint, type QueryPlan } from '../plan/plan.js';
import { crashAlertsPlan, vulnerabilityByIpPlan } from '../plan/queries.js';

/** The built-in queries as plans. */
export const BUILTIN_PLANS: Readonly<Record<string, QueryPlan>> = {
  [crashAlertsPlan.name]: crashAlertsPlan,
  [vulnerabilityByIpPlan.name]: vulnerabilityByIpPlan,
};

/**
 * The plan to replay: `--query` (a built-in name, or the path of an ES module whose default export,
 * or export `query`, is a QueryPlan), else the checkpoint's query by name, else crash-alerts. A
 * checkpoint written by another query is refused: a replay of another query explains nothing.
 */
export async function replayQuery(ref: string | undefined, metadata: CheckpointMetadata | null): Promise<QueryPlan> {
  const name = ref ?? metadata?.query.name ?? crashAlertsPlan.name;
  let plan = BUILTIN_PLANS[name];
  if (!plan) {
    if (ref === undefined) {
      throw new UsageError(`the checkpoint was written by query ${name}, which is not built in; give its module with --query PATH`);
    }
    let mod: Record<string, unknown>;
    try {
      mod = (await import(pathToFileURL(resolve(ref)).href)) as Record<string, unknown>;
    } catch (err) {
      throw new UsageError(`--query ${ref}: not a built-in query (${Object.keys(BUILTIN_PLANS).join(', ')}) and cannot be loaded as a module: ${(err as Error).message}`);
    }
    plan = asQueryPlan(mod['default'] ?? mod['query'], `--query ${ref}`);
  }
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
