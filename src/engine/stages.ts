// The pure steps between a batch's tasks: routing stage-1 output to partition owners, the shuffle, and the merge of counters.
import type { ParseCounters } from '../plan/from-json.js';
import type { DedupInput, PartialGroups } from '../plan/state.js';
import type { Row } from '../plan/types.js';
import type { BatchCounts } from '../metrics/batch-progress.js';
import type { TaskProgress } from '../metrics/progress.js';
import { ownerOf, partitionIdOf } from '../partition.js';
import type { OwnedInput, PlainOwnedInput, PartitionStepResult, ScanTaskResult, StatefulTaskResult } from './protocol.js';

/**
 * Cuts a batch's splits, weighed by `weights` (bytes or records), into at most `tasks` runs of
 * consecutive splits of about equal weight: [from, to) index ranges, in order, none empty. Runs
 * keep split order, so a task's results slot back in place and a record's position is still
 * told from the splits before it.
 */
export function splitRuns(weights: readonly number[], tasks: number): Array<[from: number, to: number]> {
  const n = weights.length;
  const runs: Array<[number, number]> = [];
  if (n === 0) return runs;
  const count = Math.max(1, Math.min(n, Math.floor(tasks)));
  const total = weights.reduce((a, w) => a + Math.max(0, w), 0);
  let from = 0;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    sum += Math.max(0, weights[i]!);
    const left = n - i - 1;
    const runsLeft = count - runs.length - 1;
    // Cut when this run reached its share of the weight, or when every later split must start a run of its own.
    if (runsLeft > 0 && left > 0 && (sum * count >= total * (runs.length + 1) || left === runsLeft)) {
      runs.push([from, i + 1]);
      from = i + 1;
    }
  }
  runs.push([from, n]);
  return runs;
}

/** A dropDuplicates row's order in its batch: split index, then index in the split. */
export const seqOf = (splitIndex: number, index: number): number => splitIndex * 2 ** 32 + index;

/**
 * Splits partial aggregates by the worker owning each group's partitionId (murmur2 of the group
 * id): element w is worker w's share, null when it has none.
 */
export function ownAggregates(groups: PartialGroups, partitions: number, workers: number): Array<PlainOwnedInput | null> {
  const out: Array<{ operator: 'aggregate'; partitionIds: number[]; groups: PartialGroups } | null> = new Array(workers).fill(null);
  for (let i = 0; i < groups.ids.length; i++) {
    const id = groups.ids[i]!;
    const partitionId = partitionIdOf(id, partitions);
    const w = ownerOf(partitionId, workers);
    const share = (out[w] ??= { operator: 'aggregate', partitionIds: [], groups: { ids: [], values: [], states: [], endsUs: [], counts: [] } });
    share.partitionIds.push(partitionId);
    share.groups.ids.push(id);
    share.groups.values.push(groups.values[i]!);
    share.groups.states.push(groups.states[i]!);
    share.groups.endsUs.push(groups.endsUs[i]!);
    share.groups.counts.push(groups.counts[i]!);
  }
  return out;
}

/** Splits dropDuplicates rows by the worker owning each key's partitionId; `splitIndex` orders them in the batch. */
export function ownDedup(input: DedupInput, splitIndex: number, partitions: number, workers: number): Array<PlainOwnedInput | null> {
  const out: Array<{ operator: 'dedup'; partitionIds: number[]; seqs: number[]; input: DedupInput } | null> = new Array(workers).fill(null);
  for (let i = 0; i < input.keys.length; i++) {
    const key = input.keys[i]!;
    const partitionId = partitionIdOf(key, partitions);
    const w = ownerOf(partitionId, workers);
    const share = (out[w] ??= { operator: 'dedup', partitionIds: [], seqs: [], input: { keys: [], eventTimesUs: [], rows: [] } });
    share.partitionIds.push(partitionId);
    share.seqs.push(seqOf(splitIndex, i));
    share.input.keys.push(key);
    share.input.eventTimesUs.push(input.eventTimesUs[i]!);
    share.input.rows.push(input.rows[i]!);
  }
  return out;
}

/** True when JSON gives `value` back exactly: null, booleans, strings, finite numbers but -0, and arrays and plain objects of those. */
export function jsonExact(value: unknown): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0);
    case 'object': {
      if (value === null) return true;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) if (!jsonExact(value[i])) return false;
        return true;
      }
      if (Object.getPrototypeOf(value) !== Object.prototype) return false;
      const keys = Object.keys(value);
      for (let i = 0; i < keys.length; i++) if (!jsonExact((value as Record<string, unknown>)[keys[i]!])) return false;
      return true;
    }
    default:
      return false;
  }
}

/** A share as JSON text when that is exact (the main thread forwards it without looking inside), else as it is. */
export function packOwned(share: PlainOwnedInput | null): OwnedInput | null {
  if (share === null || share.partitionIds.length === 0 || !jsonExact(share)) return share;
  return { operator: 'packed', rows: share.partitionIds.length, json: JSON.stringify(share) };
}

/** A share as plain objects again (on the worker that owns it). */
export function unpackOwned(share: OwnedInput): PlainOwnedInput {
  return share.operator === 'packed' ? (JSON.parse(share.json) as PlainOwnedInput) : share;
}

/** Entries in a share. */
const ownedRows = (share: OwnedInput): number => (share.operator === 'packed' ? share.rows : share.partitionIds.length);

/** The shuffle: worker w gets element w of every task's shares, in task order (the empty ones left out). */
export function shuffle(shares: ReadonlyArray<ReadonlyArray<OwnedInput | null>>, workers: number): OwnedInput[][] {
  return Array.from({ length: workers }, (_, workerId) => shares.map((s) => s[workerId] ?? null).filter((p): p is OwnedInput => p !== null && ownedRows(p) > 0));
}

/** One partition's input to an operator, regrouped on the worker that owns it. */
export type PartitionInput = { readonly groups: PartialGroups } | { readonly input: DedupInput; readonly seqs: number[] };

/** Regroups a worker's owned inputs by partitionId, keeping task order within each partition. */
export function byPartition(inputs: readonly OwnedInput[]): Map<number, PartitionInput> {
  const out = new Map<number, { groups: PartialGroups } | { input: DedupInput; seqs: number[] }>();
  for (const share of inputs) {
    const chunk = unpackOwned(share);
    for (let i = 0; i < chunk.partitionIds.length; i++) {
      const partitionId = chunk.partitionIds[i]!;
      let p = out.get(partitionId);
      if (chunk.operator === 'aggregate') {
        if (!p) out.set(partitionId, (p = { groups: { ids: [], values: [], states: [], endsUs: [], counts: [] } }));
        const g = (p as { groups: PartialGroups }).groups;
        g.ids.push(chunk.groups.ids[i]!);
        g.values.push(chunk.groups.values[i]!);
        g.states.push(chunk.groups.states[i]!);
        g.endsUs.push(chunk.groups.endsUs[i]!);
        g.counts.push(chunk.groups.counts[i]!);
      } else {
        if (!p) out.set(partitionId, (p = { input: { keys: [], eventTimesUs: [], rows: [] }, seqs: [] }));
        const d = p as { input: DedupInput; seqs: number[] };
        d.seqs.push(chunk.seqs[i]!);
        d.input.keys.push(chunk.input.keys[i]!);
        d.input.eventTimesUs.push(chunk.input.eventTimesUs[i]!);
        d.input.rows.push(chunk.input.rows[i]!);
      }
    }
  }
  return out;
}

/** A worker's stateful result with the time its task was dispatched (for the queue wait). */
export interface DispatchedStep {
  readonly result: StatefulTaskResult;
  readonly dispatchedAtMs: number;
}

/** What one stateful operator's step did over every partition (dropDuplicates' rows in batch order), summed. */
export type OperatorStep = Pick<PartitionStepResult, 'rows' | 'inputRows' | 'lateRows' | 'lateGroups' | 'updatedGroups' | 'evictedGroups' | 'stateGroups' | 'stateBytes'>;

/** Gathers an operator's step from every worker; one stage-2 task record per partition that did something (appended to `tasks`). */
export function gatherStep(steps: readonly DispatchedStep[], tasks: TaskProgress[]): OperatorStep {
  const parts: PartitionStepResult[] = [];
  for (const { result: r, dispatchedAtMs } of steps) {
    let offset = r.startedAtMs;
    for (const p of r.partitions) {
      parts.push(p);
      if (p.inputRows > 0 || p.rows.length > 0 || p.evictedGroups > 0) {
        tasks.push({ stage: 2, splitIndex: null, partitionId: p.partitionId, workerId: r.workerId, rows: p.inputRows, startedAtMs: offset, durationMs: p.durationMs, queueWaitMs: Math.max(0, r.startedAtMs - dispatchedAtMs) });
      }
      offset += p.durationMs;
    }
  }
  const rows: Row[] = [];
  const seqs: number[] = [];
  const step = { rows, inputRows: 0, lateRows: 0, lateGroups: 0, updatedGroups: 0, evictedGroups: 0, stateGroups: 0, stateBytes: 0 };
  for (const p of parts) {
    for (const row of p.rows) rows.push(row);
    for (const s of p.seqs) seqs.push(s);
    step.inputRows += p.inputRows;
    step.lateRows += p.lateRows;
    step.lateGroups += p.lateGroups;
    step.updatedGroups += p.updatedGroups;
    step.evictedGroups += p.evictedGroups;
    step.stateGroups += p.stateGroups;
    step.stateBytes += p.stateBytes;
  }
  if (seqs.length === rows.length && seqs.length > 0) {
    // dropDuplicates rows go on in batch order, whichever partition kept them.
    const order = seqs.map((_, i) => i).sort((a, b) => seqs[a]! - seqs[b]!);
    const sorted = order.map((i) => rows[i]!);
    rows.length = 0;
    rows.push(...sorted);
  }
  return step;
}

/** Stage 1's counters of a batch. */
export interface ScanCounts {
  readonly records: number;
  readonly corruptRecords: number;
  readonly skippedRecords: number;
  readonly filteredRows: number;
  readonly missingFields: number[];
  readonly mistypedFields: number[];
  readonly maxEventTimeMs: number | null;
}

/** Sums stage 1's counters over a batch's scans. */
export function scanCounts(scans: readonly ScanTaskResult[], fields: number): ScanCounts {
  const counters: ParseCounters = { records: 0, corruptRecords: 0, missingFields: new Array<number>(fields).fill(0), mistypedFields: new Array<number>(fields).fill(0) };
  let skippedRecords = 0;
  let filteredRows = 0;
  let maxEventTimeMs: number | null = null;
  for (const s of scans) {
    counters.records += s.counters.records;
    counters.corruptRecords += s.counters.corruptRecords;
    for (let f = 0; f < fields; f++) {
      counters.missingFields[f]! += s.counters.missingFields[f] ?? 0;
      counters.mistypedFields[f]! += s.counters.mistypedFields[f] ?? 0;
    }
    skippedRecords += s.skippedRecords;
    filteredRows += s.filteredRows;
    if (s.maxEventTimeMs !== null && (maxEventTimeMs === null || s.maxEventTimeMs > maxEventTimeMs)) maxEventTimeMs = s.maxEventTimeMs;
  }
  return { records: counters.records + skippedRecords, corruptRecords: counters.corruptRecords, skippedRecords, filteredRows, missingFields: counters.missingFields, mistypedFields: counters.mistypedFields, maxEventTimeMs };
}

/** A batch's counters for its progress record, from stage 1's counts and the stateful steps. */
export function batchCounts(scan: ScanCounts, extraFiltered: number, steps: readonly OperatorStep[], rowsOut: number): BatchCounts {
  const last = steps[steps.length - 1];
  const sum = (f: (s: OperatorStep) => number): number => steps.reduce((n, s) => n + f(s), 0);
  const filtered = scan.skippedRecords + scan.filteredRows + extraFiltered;
  return {
    records: scan.records,
    rejected: scan.corruptRecords,
    filtered,
    matched: scan.records - scan.skippedRecords - scan.filteredRows,
    missingFields: scan.missingFields,
    mistypedFields: scan.mistypedFields,
    lateRows: sum((s) => s.lateRows),
    lateGroups: sum((s) => s.lateGroups),
    rowsOut,
    maxEventTimeMs: scan.maxEventTimeMs,
    stateGroups: sum((s) => s.stateGroups),
    updatedGroups: last?.updatedGroups ?? 0,
    evictedGroups: sum((s) => s.evictedGroups),
    stateBytes: sum((s) => s.stateBytes),
  };
}
