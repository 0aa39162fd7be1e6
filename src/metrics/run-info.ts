// What the Config page shows: the effective settings of a run and its query, as plain JSON.
import { availableParallelism, cpus, totalmem } from 'node:os';
import { explainPlan, explainQuery } from '../plan/explain.js';
import { planGraph, type GraphOperator } from '../engine/plan-graph.js';
import { analyzePlan, checkStreaming, type QueryPlan } from '../plan/plan.js';
import type { WindowedQuery } from './first-rows.js';

/** A run's settings and query, as served by GET /api/config. */
export interface RunDescription {
  readonly id: string;
  readonly runId: string;
  readonly startedAt: string;
  readonly source: string;
  /** Every setting of the run's config, flattened to dotted names (`source.rate`). */
  readonly settings: Readonly<Record<string, string | number | boolean | null>>;
  readonly query: {
    readonly name: string;
    readonly description: string | null;
    readonly outputMode: string;
    /** `[start, start + sizeMs)` windows advancing by slideMs; null for a plain group-by. */
    readonly window: { readonly sizeMs: number; readonly slideMs: number } | null;
    readonly watermarkDelayMs: number | null;
    /** The logical plan as explain() prints it, so students see the query itself. */
    readonly plan: string;
    /** How Kindling runs it: pre-check, stage 1, stage 2 (explainQuery without the logical plan). */
    readonly execution: string;
    /** The operators as the engine runs them; each progress record's kindling.operators gives their rows. */
    readonly graph: readonly GraphOperator[];
  };
  readonly machine: { readonly cpuModel: string; readonly logicalCores: number; readonly memoryBytes: number; readonly node: string };
}

type Leaf = string | number | boolean | null;

/** Flattens nested plain data into dotted keys; arrays of objects become indexed keys. */
export function flattenSettings(value: unknown, prefix = '', out: Record<string, Leaf> = {}): Record<string, Leaf> {
  if (value === null || value === undefined) {
    if (prefix) out[prefix] = null;
  } else if (Array.isArray(value)) {
    if (value.every((v) => typeof v !== 'object' || v === null)) out[prefix] = value.join(', ');
    else value.forEach((v, i) => flattenSettings(v, `${prefix}[${i}]`, out));
    if (value.length === 0) out[prefix] = 'none';
  } else if (typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) flattenSettings(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    out[prefix] = value;
  } else {
    out[prefix] = String(value);
  }
  return out;
}

/** The window and watermark of a plan's aggregation, as {@link WindowedQuery} takes them. */
export function windowOf(plan: QueryPlan): WindowedQuery {
  const analyzed = analyzePlan(plan.root, { ansi: plan.ansi });
  const key = analyzed.aggregate?.keys.find((k) => k.kind === 'window');
  return {
    outputMode: plan.outputMode,
    window: key && key.kind === 'window' ? { sizeMs: key.sizeUs / 1000, slideMs: key.slideUs / 1000 } : null,
    watermarkDelayMs: analyzed.watermark?.delayMs ?? null,
  };
}

/** Describes a run for the Config page; `config` is the RunConfig (any plain data works). */
export function describeRun(config: object, plan: QueryPlan, source: string, ids: { id: string; runId: string }): RunDescription {
  const logical = explainPlan(plan.root);
  return {
    id: ids.id,
    runId: ids.runId,
    startedAt: new Date().toISOString(),
    source,
    settings: flattenSettings({ ...config, outputMode: plan.outputMode }),
    query: {
      name: plan.name,
      description: plan.description ?? null,
      ...windowOf(plan),
      plan: logical,
      execution: explainQuery(plan).slice(logical.length + 1),
      graph: planGraph(checkStreaming(analyzePlan(plan.root, { ansi: plan.ansi }), plan.outputMode)),
    },
    machine: { cpuModel: cpus()[0]?.model ?? 'unknown', logicalCores: availableParallelism(), memoryBytes: totalmem(), node: process.version },
  };
}
