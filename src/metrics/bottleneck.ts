// Reads one progress record and says, in one sentence, where the batch's time went (pure; also runs in the browser).
import type { PhaseDurations, ProgressRecord, TaskProgress } from './progress.js';

/** The phases of a batch in the order they run. */
export type PhaseName = Exclude<keyof PhaseDurations, 'total'>;

/** Phase names in run order, with the label shown to people. */
export const PHASES: ReadonlyArray<{ readonly name: PhaseName; readonly label: string }> = [
  { name: 'source', label: 'source' },
  { name: 'scan', label: 'stage 1 (scan)' },
  { name: 'shuffle', label: 'shuffle' },
  { name: 'stateful', label: 'stage 2 (stateful)' },
  { name: 'merge', label: 'merge' },
  { name: 'sink', label: 'sink' },
  { name: 'checkpoint', label: 'checkpoint' },
];

/** Figures of one stage's tasks in a batch. */
export interface StageStats {
  readonly stage: 1 | 2;
  readonly tasks: number;
  /** Sum of the tasks' run times (not wall time: workers run in parallel). */
  readonly taskMs: number;
  readonly meanTaskMs: number;
  readonly maxTaskMs: number;
  readonly meanQueueWaitMs: number;
  readonly rows: number;
  readonly maxRows: number;
  /** The stage's wall time on the main thread (the scan or stateful phase). */
  readonly wallMs: number;
  /** taskMs / (wallMs x workers): how much of the stage the workers spent running tasks (0..1). */
  readonly busyShare: number;
  /** taskMs / (wallMs x min(workers, tasks)): the same over the workers that had a task; low means overhead. */
  readonly usedShare: number;
  /** The busiest worker's task time / the mean over workers (1 = balanced). */
  readonly workerImbalance: number;
  /** The worker with the most task time in this stage, or null without tasks. */
  readonly busiestWorkerId: number | null;
}

/** What kind of problem the batch shows. */
export type Verdict = 'idle' | 'overhead' | 'skew' | 'few-tasks' | 'work' | 'main-thread' | 'source' | 'sink' | 'checkpoint';

/** The answer to "which phase is the bottleneck, and why". */
export interface Diagnosis {
  readonly phase: PhaseName | null;
  /** The phase's share of the batch's total duration (0..1). */
  readonly share: number;
  readonly verdict: Verdict;
  readonly sentence: string;
}

const pct = (x: number): string => `${Math.round(x * 100)}%`;

/** Milliseconds with a precision that suits their size: 0.02 ms, 3.4 ms, 172 ms. */
export function formatMs(ms: number): string {
  if (ms >= 100) return `${Math.round(ms)} ms`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  if (ms >= 1) return `${ms.toFixed(2).replace(/0$/, '')} ms`;
  if (ms >= 0.01 || ms === 0) return `${ms.toFixed(2)} ms`;
  return `${ms.toFixed(3)} ms`;
}

const count = (n: number, one: string, many = `${one}s`): string => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

/** Stage statistics of a record (stage 1: scans; stage 2: stateful partition steps). */
export function stageStats(p: ProgressRecord, stage: 1 | 2): StageStats {
  const tasks: TaskProgress[] = p.kindling.tasks.filter((t) => t.stage === stage);
  const workers = Math.max(1, p.kindling.workers.length);
  const wallMs = stage === 1 ? p.durationMs.scan : p.durationMs.stateful;
  let taskMs = 0;
  let maxTaskMs = 0;
  let wait = 0;
  let rows = 0;
  let maxRows = 0;
  const perWorker = new Map<number, number>();
  for (const t of tasks) {
    taskMs += t.durationMs;
    maxTaskMs = Math.max(maxTaskMs, t.durationMs);
    wait += t.queueWaitMs;
    rows += t.rows;
    maxRows = Math.max(maxRows, t.rows);
    perWorker.set(t.workerId, (perWorker.get(t.workerId) ?? 0) + t.durationMs);
  }
  let busiestWorkerId: number | null = null;
  let busiest = 0;
  for (const [id, ms] of perWorker) {
    if (busiestWorkerId === null || ms > busiest) {
      busiestWorkerId = id;
      busiest = ms;
    }
  }
  const meanWorkerMs = taskMs / workers;
  return {
    stage,
    tasks: tasks.length,
    taskMs,
    meanTaskMs: tasks.length > 0 ? taskMs / tasks.length : 0,
    maxTaskMs,
    meanQueueWaitMs: tasks.length > 0 ? wait / tasks.length : 0,
    rows,
    maxRows,
    wallMs,
    busyShare: wallMs > 0 ? Math.min(1, taskMs / (wallMs * workers)) : 0,
    usedShare: wallMs > 0 && tasks.length > 0 ? Math.min(1, taskMs / (wallMs * Math.min(workers, tasks.length))) : 0,
    workerImbalance: meanWorkerMs > 0 ? busiest / meanWorkerMs : 1,
    busiestWorkerId,
  };
}

/** Below this share of a stage spent in tasks, the rest (messages, copies, waiting) dominates. */
export const OVERHEAD_BELOW = 0.5;
/** A worker this many times busier than the mean, in a stage that is mostly work, is skew. */
export const SKEW_ABOVE = 1.5;

/** A stage's verdict, with the sentence about it (`sentence` names the stage; `detail` does not). */
export interface StageVerdict {
  readonly verdict: 'overhead' | 'skew' | 'few-tasks' | 'work' | 'idle';
  readonly detail: string;
  readonly sentence: string;
}

/** One sentence on a stage: how many tasks of what size, and whether work, overhead or skew dominates. */
export function describeStage(s: StageStats, workers: number): StageVerdict {
  const say = (verdict: StageVerdict['verdict'], detail: string): StageVerdict => ({ verdict, detail, sentence: `stage ${s.stage}: ${detail}` });
  if (s.tasks === 0) {
    return s.wallMs > 0 ? say('overhead', `no task had work; its ${formatMs(s.wallMs)} are messages to the workers — overhead`) : say('idle', 'nothing to do');
  }
  const tasks = `${count(s.tasks, 'task')} of ${formatMs(s.meanTaskMs)}`;
  if (s.usedShare < OVERHEAD_BELOW) {
    return say('overhead', `${tasks} — overhead dominates (workers ran tasks ${pct(s.busyShare)} of the stage's ${formatMs(s.wallMs)})`);
  }
  if (s.tasks < workers) {
    return say('few-tasks', `${tasks} for ${count(workers, 'worker')} — ${count(workers - s.tasks, 'worker')} had nothing to do (more, smaller ${s.stage === 1 ? 'splits' : 'partitions'} would use them)`);
  }
  if (workers > 1 && s.workerImbalance >= SKEW_ABOVE && s.busiestWorkerId !== null) {
    // Stage 1 splits are cut by size, so unevenness there is the split sizes; in stage 2 it is the keys.
    const what = s.stage === 1 ? 'uneven splits' : 'skew';
    return say('skew', `${tasks} — ${what}: worker ${s.busiestWorkerId} works ${s.workerImbalance.toFixed(1)}x the average`);
  }
  return say('work', `${tasks} — the work itself dominates (workers busy ${pct(s.busyShare)} of the stage)`);
}

/** Says which phase took most of the batch and why, in one sentence. */
export function diagnoseBatch(p: ProgressRecord): Diagnosis {
  const total = p.durationMs.total;
  if (p.kindling.drained) {
    return { phase: null, share: 0, verdict: 'idle', sentence: `drain batch: no input; every open window forced out as ${count(p.sink.numOutputRows, 'row')} (${formatMs(total)})` };
  }
  if (p.kindling.noDataBatch) {
    return { phase: null, share: 0, verdict: 'idle', sentence: `no-data batch: no input; the watermark moved, so the workers only closed windows (${formatMs(total)})` };
  }
  let top = PHASES[0]!;
  for (const ph of PHASES) if (p.durationMs[ph.name] > p.durationMs[top.name]) top = ph;
  const ms = p.durationMs[top.name];
  const share = total > 0 ? ms / total : 0;
  const lead = `${top.label} takes ${pct(share)} of this ${formatMs(total)} batch`;
  const workers = p.kindling.workers.length;
  switch (top.name) {
    case 'scan':
    case 'stateful': {
      const d = describeStage(stageStats(p, top.name === 'scan' ? 1 : 2), workers);
      const verdict = d.verdict === 'idle' ? 'overhead' : d.verdict;
      return { phase: top.name, share, verdict, sentence: `${lead}: ${d.detail}` };
    }
    case 'shuffle':
    case 'merge':
      return {
        phase: top.name,
        share,
        verdict: 'main-thread',
        sentence: `${lead}: work on the main thread (busy ${pct(p.kindling.mainThreadUtilisation)} since the last batch) while the workers wait`,
      };
    case 'source': {
      const wait = p.kindling.inputWaitMs;
      // A live source that waited for records: the engine is ahead of its input, not slow to read it.
      if (wait >= ms / 2) return { phase: top.name, share, verdict: 'source', sentence: `${lead}: ${formatMs(wait)} of it waiting for input to arrive — the engine keeps up with its input` };
      return { phase: top.name, share, verdict: 'source', sentence: `${lead}: reading input and cutting it into ${count(stageStats(p, 1).tasks, 'split')}` };
    }
    case 'sink':
      return { phase: top.name, share, verdict: 'sink', sentence: `${lead}: writing ${count(p.sink.numOutputRows, 'row')} to ${p.sink.description}` };
    case 'checkpoint':
      return { phase: top.name, share, verdict: 'checkpoint', sentence: `${lead}: saving the checkpoint` };
  }
}
