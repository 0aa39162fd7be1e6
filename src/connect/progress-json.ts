// A Kindling batch progress record as Spark's StreamingQueryProgress JSON, which PySpark's query.lastProgress parses (every field it requires, Kindling's extras kept).
import type { ProgressRecord } from '../metrics/progress.js';

/** Kindling's progress record for one batch (src/metrics/progress.ts). */
export type KindlingProgress = ProgressRecord;

/** Which query the record belongs to, as the client knows it. */
export interface QueryIds {
  readonly id: string;
  readonly runId: string;
  readonly name: string | null;
}

/**
 * Spark's JSON for one batch. The ids are the client's (UUIDs, as PySpark parses them); Spark's fields Kindling
 * does not measure are 0 (state store times, instances) and its own stay in the record (`kindling`, extra durations).
 */
export function sparkProgressJson(record: KindlingProgress, ids: QueryIds): string {
  const d = record.durationMs;
  return JSON.stringify({
    ...record,
    id: ids.id,
    runId: ids.runId,
    name: ids.name,
    batchDuration: d.total,
    // Spark's phases from Kindling's (which stay beside them).
    durationMs: { ...d, triggerExecution: d.total, latestOffset: d.source, addBatch: d.scan + d.shuffle + d.stateful + d.merge + d.sink, walCommit: d.checkpoint, queryPlanning: 0, getBatch: 0 },
    stateOperators: record.stateOperators.map((op) => ({
      operatorName: 'stateStoreSave',
      allUpdatesTimeMs: 0,
      allRemovalsTimeMs: 0,
      commitTimeMs: 0,
      numStateStoreInstances: op.numShufflePartitions,
      customMetrics: {},
      ...op,
    })),
    sources: record.sources.map((s) => ({
      inputRowsPerSecond: record.inputRowsPerSecond,
      processedRowsPerSecond: record.processedRowsPerSecond,
      ...s,
      latestOffset: s.latestOffset ?? null,
    })),
    sink: { ...record.sink, metrics: {} },
    observedMetrics: {},
  });
}
