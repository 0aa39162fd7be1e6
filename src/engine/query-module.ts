// Which plan a run executes: a built-in one by name, or the plan a user's ES module exports; and a plan in another output mode.
import { access } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { KindlingError } from '../errors.js';
import { asQueryPlan, type OutputMode, type QueryPlan } from '../plan/plan.js';
import { crashAlertsPlan, vulnerabilityByIpPlan } from '../plan/queries.js';
import { PlanError } from '../plan/types.js';

/** The built-in plans by name: the lab's two queries. */
export const BUILTIN_PLANS: Readonly<Record<string, QueryPlan>> = {
  [crashAlertsPlan.name]: crashAlertsPlan,
  [vulnerabilityByIpPlan.name]: vulnerabilityByIpPlan,
};

const badQuery = (ref: string, rule: string, cause?: unknown): KindlingError =>
  new KindlingError('BAD_QUERY', `--query ${ref}: ${rule}`, { domain: 'user', ...(cause === undefined ? {} : { cause }) });

/**
 * The plan `ref` names: a built-in name, or the path of an ES module whose default export (or
 * export named `query`) is a plan built with readStream(...)...toQuery({ name, outputMode }).
 * A missing file, a module that fails to load, or one without a plan is a user error naming the
 * file; a plan Spark would refuse is refused with the checker's message (and position, for SQL).
 */
export async function loadQueryPlan(ref: string): Promise<QueryPlan> {
  const builtin = BUILTIN_PLANS[ref];
  if (builtin) return builtin;
  const path = resolve(ref);
  try {
    await access(path);
  } catch {
    throw badQuery(ref, `no such file (${path}); give a built-in query (${Object.keys(BUILTIN_PLANS).join(', ')}) or the path of a module exporting a plan`);
  }
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (err) {
    // A plan the builder refuses throws while the module loads: its message says what to change.
    if (err instanceof PlanError) throw badQuery(ref, err.message, err);
    throw badQuery(ref, `cannot load the module: ${(err as Error).message}`, err);
  }
  const value = mod['default'] ?? mod['query'];
  if (value === undefined) {
    throw badQuery(ref, 'the module exports no plan: export default readStream(schema)...toQuery({ name, outputMode }) (or export const query = …)');
  }
  if (typeof (value as { toQuery?: unknown } | null)?.toQuery === 'function') {
    throw badQuery(ref, 'the module exports a DataFrame, not a plan: end it with .toQuery({ name: "my-query", outputMode: "append" | "update" | "complete" })');
  }
  try {
    const plan = asQueryPlan(value, 'the exported plan');
    // Only the plan's own data: it is sent to the workers with every task (structured clone).
    return { name: plan.name, root: plan.root, outputMode: plan.outputMode, ansi: plan.ansi, ...(plan.description !== undefined ? { description: plan.description } : {}) };
  } catch (err) {
    if (err instanceof PlanError) throw badQuery(ref, err.message, err);
    throw err;
  }
}

/** `plan` in `mode` (--output-mode), checked again: Spark's rules depend on the mode. */
export function withOutputMode(plan: QueryPlan, mode: OutputMode | null): QueryPlan {
  if (mode === null || mode === plan.outputMode) return plan;
  try {
    return asQueryPlan({ ...plan, outputMode: mode }, `query ${plan.name} in ${mode} mode`);
  } catch (err) {
    throw new KindlingError('BAD_MODE', `--output-mode ${mode}: ${(err as Error).message}`, { domain: 'user', cause: err });
  }
}
