// The worker thread: compiles the query plan once, runs stage-1 scans and owns the stateful operators' state of the partitions assigned to it.
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { threadId, workerData } from 'node:worker_threads';
import { compileQuery, type CompiledQuery, type ScanResult } from '../src/plan/compile-plan.js';
import type { AggregationState, DedupState } from '../src/plan/state.js';
import { QueryRuntimeError, type Row } from '../src/plan/types.js';
import { KindlingError } from '../src/errors.js';
import { readFileRange } from '../src/source/file-range.js';
import { byteKernel } from '../src/kernel/byte-kernel.js';
import { labEventsNdjson } from '../src/source/lab-events.js';
import { scanRecordBytes } from '../src/engine/scan-split.js';
import { byPartition, ownAggregates, ownDedup, packOwned } from '../src/engine/stages.js';
import {
  type DrainTask,
  type OperatorEntries,
  type PartitionStepResult,
  type RestoreTask,
  type ScanTask,
  type ScanTaskResult,
  type SplitPayload,
  type SnapshotTask,
  type StatefulTask,
  type Task,
  type TaskContext,
  type TaskFailure,
  type TaskResult,
  type TaskTiming,
  type WorkerInit,
} from '../src/engine/protocol.js';
import { ownerOf } from '../src/partition.js';

const { workerId, faults } = workerData as WorkerInit;
/** The state this worker owns, by operator and partitionId. */
const aggregations = new Map<number, AggregationState>();
const dedups = new Map<number, DedupState>();
/** Compiled plans by planKey and scan settings (a pool may serve several runs, e.g. in tests). */
const compiled = new Map<string, CompiledQuery>();

const nowMs = (): number => performance.timeOrigin + performance.now();

/** The injected fault (tests only, see WorkerFaults): ends this thread in that batch's stateful task, once. */
function maybeExitForTest(batchId: number): void {
  const exit = faults?.exitInStatefulTask;
  if (!exit || exit.batchId !== batchId || exit.workerId !== workerId) return;
  try {
    writeFileSync(exit.markerFile, `${threadId}\n`, { flag: 'wx' });
  } catch {
    return;
  }
  process.exit(70);
}

class Misroute extends Error {
  constructor(readonly partitionId: number, owner: number) {
    super(`partition ${partitionId} is owned by worker ${owner}, but reached worker ${workerId}`);
  }
}

function checkOwner(partitionId: number, workers: number): void {
  const owner = ownerOf(partitionId, workers);
  if (owner !== workerId) throw new Misroute(partitionId, owner);
}

/** The plan compiled once per key and scan settings: no expression tree is walked per record. */
function compiledFor(task: TaskContext, maxRecordBytes = Infinity, maxSamples = 0): CompiledQuery {
  const key = `${task.planKey}|${maxRecordBytes}|${maxSamples}`;
  let c = compiled.get(key);
  if (!c) compiled.set(key, (c = compileQuery(task.plan, { maxRecordChars: maxRecordBytes, maxSamples })));
  return c;
}

/** Stage 1 over a task's splits, in order; the first that fails ends the task (its failure goes back with the results before it). */
async function scan(task: ScanTask, timing: () => TaskTiming): Promise<TaskResult> {
  const results: ScanTaskResult[] = [];
  for (const { splitIndex, split } of task.splits) {
    const startedAtMs = nowMs();
    const started = performance.now();
    const splitTiming = (): TaskTiming => ({ workerId, threadId, startedAtMs, durationMs: performance.now() - started });
    try {
      results.push(await scanSplit(task, splitIndex, split, splitTiming));
    } catch (err) {
      return { kind: 'scan', results, failure: failure(err, splitTiming()), ...timing() };
    }
  }
  return { kind: 'scan', results, ...timing() };
}

async function scanSplit(task: ScanTask, splitIndex: number, payload: SplitPayload, timing: () => TaskTiming): Promise<ScanTaskResult> {
  const query = compiledFor(task, task.maxRecordBytes, task.maxSamples);
  // A file range is read here, on the worker (the main thread only cut it), straight into the byte
  // kernel's memory, where the pre-check scans it without a copy.
  const split = payload.kind === 'file-range' ? ({ kind: 'bytes', bytes: readFileRange(payload, (length) => byteKernel().reserve(length)) } as const) : payload;
  const out: ScanResult =
    split.kind === 'bytes'
      ? scanRecordBytes(query, split.bytes, split.recordEnds)
      : split.kind === 'kafka-batches'
        ? // Imported on the first compressed Kafka split: the codecs are a start-up cost other runs need not pay.
          await (await import('../src/source/kafka-split.js')).scanKafkaBatches((bytes, ends) => scanRecordBytes(query, bytes, ends), split)
        : query.scanText(labEventsNdjson(split.spec, split.firstIndex, split.count));
  // Packed as JSON text where exact: the main thread only forwards each share to its owner.
  const owned = (out.partial ? ownAggregates(out.partial, task.partitions, task.workers) : out.dedup ? ownDedup(out.dedup, splitIndex, task.partitions, task.workers) : []).map(packOwned);
  return {
    kind: 'split',
    splitIndex,
    counters: out.counters,
    skippedRecords: out.skippedRecords,
    filteredRows: out.filteredRows,
    maxEventTimeMs: out.maxEventTimeMs,
    corruptSamples: out.corruptSamples,
    owned,
    rows: out.rows,
    ...timing(),
  };
}

/** Approximate heap bytes of a partition's state, for memoryUsedBytes: a rough per-group cost. */
const approxBytes = (groups: number): number => groups * 160;

function stateful(task: StatefulTask, timing: () => TaskTiming): TaskResult {
  const query = compiledFor(task);
  const inputs = byPartition(task.inputs);
  for (const id of inputs.keys()) checkOwner(id, task.workers);
  const states: Map<number, AggregationState | DedupState> = task.operator === 'aggregate' ? aggregations : dedups;
  const ids = new Set([...states.keys(), ...inputs.keys()]);
  const marks = { lateWatermarkMs: task.lateWatermarkMs, evictionWatermarkMs: task.evictionWatermarkMs };
  const partitions: PartitionStepResult[] = [];
  for (const partitionId of [...ids].sort((a, b) => a - b)) {
    const started = performance.now();
    const input = inputs.get(partitionId);
    let rows: Row[];
    let seqs: number[] = [];
    let lateRows: number;
    let lateGroups: number;
    let updatedGroups: number;
    let evictedGroups = 0;
    let inputRows = 0;
    let size: number;
    if (task.operator === 'aggregate') {
      let state = aggregations.get(partitionId);
      if (!state) aggregations.set(partitionId, (state = query.newAggregationState()));
      const groups = input && 'groups' in input ? [input.groups] : [];
      for (const g of groups) inputRows += g.ids.length;
      const out = state.step(groups, marks);
      ({ rows, lateRows, lateGroups, updatedGroups, evictedGroups } = out);
      size = state.size;
      if (size === 0) aggregations.delete(partitionId);
    } else {
      let state = dedups.get(partitionId);
      if (!state) dedups.set(partitionId, (state = query.newDedupState()));
      const d = input && 'input' in input ? input : null;
      const before = state.size;
      const out = d ? state.step([d.input], marks) : state.step([], marks);
      rows = out.rows;
      if (d) {
        inputRows = d.input.keys.length;
        // Kept rows go on in batch order: each carries its input's position.
        const at = new Map<Row, number>(d.input.rows.map((r, i) => [r, d.seqs[i]!]));
        seqs = rows.map((r) => at.get(r)!);
      }
      lateRows = lateGroups = out.lateRows;
      updatedGroups = rows.length;
      size = state.size;
      evictedGroups = Math.max(0, before + rows.length - size);
      if (size === 0) dedups.delete(partitionId);
    }
    maybeExitForTest(task.batchId);
    partitions.push({ partitionId, inputRows, rows, seqs, lateRows, lateGroups, updatedGroups, evictedGroups, stateGroups: size, stateBytes: approxBytes(size), durationMs: performance.now() - started });
  }
  return { kind: 'stateful', partitions, ...timing() };
}

function drain(_task: DrainTask, timing: () => TaskTiming): TaskResult {
  const rows = [...aggregations.values()].flatMap((s) => s.drain());
  aggregations.clear();
  return { kind: 'drain', rows, ...timing() };
}

function snapshot(_task: SnapshotTask, timing: () => TaskTiming): TaskResult {
  const partitionEntries: OperatorEntries[] = [
    ...[...dedups].map(([partitionId, s]): OperatorEntries => ({ partitionId, operator: 'dedup', entries: s.entries() })),
    ...[...aggregations].map(([partitionId, s]): OperatorEntries => ({ partitionId, operator: 'aggregate', entries: s.entries() })),
  ];
  return { kind: 'snapshot', partitionEntries, ...timing() };
}

function restore(task: RestoreTask, timing: () => TaskTiming): TaskResult {
  aggregations.clear();
  dedups.clear();
  let groups = 0;
  const query = task.partitionEntries.length > 0 ? compiledFor(task) : null;
  for (const p of task.partitionEntries) {
    checkOwner(p.partitionId, task.workers);
    if (p.entries.length === 0) continue;
    if (p.operator === 'aggregate') {
      const state = query!.newAggregationState();
      state.load(p.entries);
      aggregations.set(p.partitionId, state);
      groups += state.size;
    } else {
      const state = query!.newDedupState();
      state.load(p.entries);
      dedups.set(p.partitionId, state);
      groups += state.size;
    }
  }
  return { kind: 'restore', groups, ...timing() };
}

/** piscina's entry point: one task in, one result out; failures come back as data. */
export default async function handle(task: Task): Promise<TaskResult> {
  const startedAtMs = nowMs();
  const started = performance.now();
  const timing = (): TaskTiming => ({ workerId, threadId, startedAtMs, durationMs: performance.now() - started });
  try {
    switch (task.kind) {
      case 'scan':
        return await scan(task, timing);
      case 'stateful':
        return stateful(task, timing);
      case 'drain':
        return drain(task, timing);
      case 'snapshot':
        return snapshot(task, timing);
      case 'restore':
        return restore(task, timing);
    }
  } catch (err) {
    return failure(err, timing());
  }
}

/**
 * A failure as data: ANSI mode failing the query on a record (QUERY_FAILED: the run stops and
 * names the record; the thread is fine), a misrouted partition, or anything else (TASK_FAILED:
 * this worker's state cannot be trusted, like a dead thread).
 */
function failure(err: unknown, timing: TaskTiming): TaskFailure {
  const e = err as Error;
  const recordIndex = err instanceof QueryRuntimeError ? err.recordIndex : null;
  return {
    kind: 'failure',
    // A KindlingError keeps its code (a corrupt Kafka batch is the input's fault, not a lost worker to recover from).
    code: e instanceof Misroute ? 'MISROUTE' : e instanceof KindlingError ? e.code : 'TASK_FAILED',
    message: e.message,
    ...(e instanceof Misroute ? { partitionId: e.partitionId } : {}),
    ...(recordIndex !== null ? { recordIndex } : {}),
    ...(typeof e.stack === 'string' ? { stack: e.stack } : {}),
    ...timing,
  };
}
