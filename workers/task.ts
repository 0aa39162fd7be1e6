// The worker thread: runs stage-1 scans and owns the window state of the partitions assigned to it.
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { threadId, workerData } from 'node:worker_threads';
import { byPartition } from '../src/query/aggregate.js';
import { loadQuery } from '../src/query/queries.js';
import { Scanner } from '../src/query/scan.js';
import { guardHaving, QueryCodeError } from '../src/query/user-code.js';
import { WindowState } from '../src/query/window-state.js';
import { KindlingError } from '../src/errors.js';
import { readFileRange } from '../src/source/file-range.js';
import { byteKernel } from '../src/kernel/byte-kernel.js';
import { labEventsNdjson } from '../src/source/lab-events.js';
import {
  type DrainTask,
  type PartitionStepResult,
  type RestoreTask,
  type ScanTask,
  type SnapshotTask,
  type StatefulTask,
  type Task,
  type TaskFailure,
  type TaskResult,
  type TaskTiming,
  type WorkerInit,
} from '../src/engine/protocol.js';
import { ownerOf } from '../src/partition.js';

const { workerId, faults } = workerData as WorkerInit;
const states = new Map<number, WindowState>();
const scanners = new Map<string, Scanner>();

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

async function scan(task: ScanTask, timing: () => TaskTiming): Promise<TaskResult> {
  const cacheKey = `${task.queryRef}|${task.partitions}|${task.workers}|${task.maxRecordBytes}|${task.maxSamples}`;
  let scanner = scanners.get(cacheKey);
  if (!scanner) {
    const query = await loadQuery(task.queryRef);
    scanner = new Scanner(query, { partitions: task.partitions, workers: task.workers, maxRecordBytes: task.maxRecordBytes, maxSamples: task.maxSamples });
    scanners.set(cacheKey, scanner);
  }
  // A file range is read here, on the worker (the main thread only cut it), straight into the byte
  // kernel's memory, where the pre-check scans it without a copy.
  const split = task.split.kind === 'file-range' ? ({ kind: 'bytes', bytes: readFileRange(task.split, (length) => byteKernel().reserve(length)) } as const) : task.split;
  const output =
    split.kind === 'bytes'
      ? scanner.scanBytes(split.bytes, split.recordEnds)
      : split.kind === 'kafka-batches'
        ? // Imported on the first compressed Kafka split: the codecs are a start-up cost other runs need not pay.
          await (await import('../src/source/kafka-split.js')).scanKafkaBatches(scanner, split)
        : scanner.scanText(labEventsNdjson(split.spec, split.firstIndex, split.count));
  return { kind: 'scan', splitIndex: task.splitIndex, ...output, ...timing() };
}

async function stateful(task: StatefulTask, timing: () => TaskTiming): Promise<TaskResult> {
  const query = await loadQuery(task.queryRef);
  const inputs = byPartition(task.inputs);
  for (const id of inputs.keys()) checkOwner(id, task.workers);
  const ids = new Set([...states.keys(), ...inputs.keys()]);
  const step = {
    outputMode: task.outputMode,
    windowSizeMs: query.window?.sizeMs ?? null,
    lateWatermarkMs: task.lateWatermarkMs,
    evictionWatermarkMs: task.evictionWatermarkMs,
    having: guardHaving(query.having),
  };
  const partitions: PartitionStepResult[] = [];
  for (const partitionId of [...ids].sort((a, b) => a - b)) {
    const started = performance.now();
    let state = states.get(partitionId);
    if (!state) states.set(partitionId, (state = new WindowState()));
    const rows = inputs.get(partitionId);
    const out = state.step(rows ? [rows] : [], step);
    if (state.size === 0) states.delete(partitionId);
    maybeExitForTest(task.batchId);
    partitions.push({
      partitionId,
      inputRows: rows?.keys.length ?? 0,
      rows: out.rows,
      lateRows: out.lateRows,
      updatedGroups: out.updatedGroups,
      evictedGroups: out.evictedGroups,
      stateGroups: state.size,
      stateBytes: state.approxBytes(),
      durationMs: performance.now() - started,
    });
  }
  return { kind: 'stateful', partitions, ...timing() };
}

async function drain(task: DrainTask, timing: () => TaskTiming): Promise<TaskResult> {
  const query = await loadQuery(task.queryRef);
  const having = guardHaving(query.having);
  const rows = [...states.values()].flatMap((s) => s.drain(having));
  states.clear();
  return { kind: 'drain', rows, ...timing() };
}

function snapshot(_task: SnapshotTask, timing: () => TaskTiming): TaskResult {
  const partitionEntries = [...states].map(([partitionId, s]) => ({ partitionId, entries: s.entries() }));
  return { kind: 'snapshot', partitionEntries, ...timing() };
}

function restore(task: RestoreTask, timing: () => TaskTiming): TaskResult {
  states.clear();
  let groups = 0;
  for (const { partitionId, entries } of task.partitionEntries) {
    checkOwner(partitionId, task.workers);
    const state = new WindowState();
    state.load(entries);
    groups += state.size;
    if (state.size > 0) states.set(partitionId, state);
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
        return await stateful(task, timing);
      case 'drain':
        return await drain(task, timing);
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
 * A failure as data: the user's query code throwing (QUERY_FAILED: the run stops and names the
 * record; the thread is fine), a misrouted partition, or anything else (TASK_FAILED: this worker's
 * state cannot be trusted, like a dead thread).
 */
function failure(err: unknown, timing: TaskTiming): TaskFailure {
  if (err instanceof QueryCodeError) {
    const stack = err.thrownStack;
    return {
      kind: 'failure',
      code: 'QUERY_FAILED',
      message: err.message,
      queryFunction: err.queryFunction,
      ...(err.recordIndex !== null ? { recordIndex: err.recordIndex } : {}),
      ...(stack !== null ? { stack } : {}),
      ...timing,
    };
  }
  const e = err as Error;
  return {
    kind: 'failure',
    // A KindlingError keeps its code (a corrupt Kafka batch is the input's fault, not a lost worker to recover from).
    code: e instanceof Misroute ? 'MISROUTE' : e instanceof KindlingError ? e.code : 'TASK_FAILED',
    message: e.message,
    ...(e instanceof Misroute ? { partitionId: e.partitionId } : {}),
    ...(typeof e.stack === 'string' ? { stack: e.stack } : {}),
    ...timing,
  };
}
