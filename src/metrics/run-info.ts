// What the Config page shows: the effective settings of a run and its query, as plain JSON.
import { availableParallelism, cpus, totalmem } from 'node:os';
import type { Query } from '../query/query.js';

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
    readonly keyColumn: string;
    readonly aggregate: string;
    readonly orderBy: string;
    readonly precheckTerms: readonly string[] | null;
    /** The filter and HAVING functions' source text, so students see the query itself. */
    readonly filter: string;
    readonly having: string | null;
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

/** Describes a run for the Config page; `config` is the RunConfig (any plain data works). */
export function describeRun(config: object, query: Query, outputMode: string, source: string, ids: { id: string; runId: string }): RunDescription {
  return {
    id: ids.id,
    runId: ids.runId,
    startedAt: new Date().toISOString(),
    source,
    settings: flattenSettings({ ...config, outputMode }),
    query: {
      name: query.name,
      description: query.description ?? null,
      outputMode,
      window: query.window ? { sizeMs: query.window.sizeMs, slideMs: query.window.slideMs } : null,
      watermarkDelayMs: query.watermarkDelayMs ?? null,
      keyColumn: query.keyColumn,
      aggregate: `${query.aggregate.kind}(*) AS ${query.aggregate.column}`,
      orderBy: query.orderBy,
      precheckTerms: query.precheckTerms ?? null,
      filter: query.filter.toString(),
      having: query.having?.toString() ?? null,
    },
    machine: { cpuModel: cpus()[0]?.model ?? 'unknown', logicalCores: availableParallelism(), memoryBytes: totalmem(), node: process.version },
  };
}
