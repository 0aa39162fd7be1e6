// Where replays run: what-if settings on a pool of worker threads (as many as cores), and the web UI's questions on one thread beside the engine's.
import { Piscina } from 'piscina';
import { NO_REQUIRE_ESM, workerFile } from '../engine/pool.js';
import type { QueryPlan } from '../plan/plan.js';
import type { ExplainAnswer, ExplainQuestion, ReplaySpec, WhatIfAnswer, WhatIfQuestion } from './service.js';
import { whatIfSettings, windowKeyIndex, type WhatIfResult, type WhatIfSetting } from './what-if.js';

/** The input every thread of a what-if pool replays: sent once per thread, not once per setting. */
export interface WhatIfInput {
  readonly query: QueryPlan;
  readonly batches: readonly (readonly string[])[];
  readonly drain: boolean;
}

/** A task for workers/replay.ts: one what-if setting over the pool's input, or a web UI question about a run. */
export type ReplayTask =
  | { readonly kind: 'setting'; readonly setting: WhatIfSetting }
  | { readonly kind: 'explain'; readonly spec: ReplaySpec; readonly question: ExplainQuestion }
  | { readonly kind: 'what-if'; readonly spec: ReplaySpec; readonly question: WhatIfQuestion };

function replayPool(threads: number, workerData: WhatIfInput | null, idleTimeout: number): Piscina {
  return new Piscina({
    filename: workerFile('replay'),
    minThreads: 0,
    maxThreads: threads,
    idleTimeout,
    concurrentTasksPerWorker: 1,
    workerData,
    execArgv: [...process.execArgv, ...NO_REQUIRE_ESM],
  });
}

/**
 * Every watermark with every window, each setting replayed on a worker thread, at most `threads` at
 * once; the results in whatIf's order and equal to its (each setting is the same single-threaded
 * oracle run, only on another thread). `onProgress` hears each setting that finished.
 */
export async function whatIfOnThreads(
  input: WhatIfInput,
  watermarksMs: readonly number[],
  windowsMs: readonly number[],
  options: { threads: number; onProgress?: (done: number, total: number, setting: WhatIfSetting) => void },
): Promise<WhatIfResult[]> {
  // Checked here: an error a thread throws loses its class (a user's mistake would read as an internal error).
  windowKeyIndex(input.query);
  const settings = whatIfSettings(watermarksMs, windowsMs);
  const pool = replayPool(Math.max(1, Math.min(options.threads, settings.length)), input, Number.POSITIVE_INFINITY);
  let done = 0;
  try {
    return await Promise.all(
      settings.map(async (setting) => {
        const result = (await pool.run({ kind: 'setting', setting } satisfies ReplayTask)) as WhatIfResult;
        options.onProgress?.(++done, settings.length, setting);
        return result;
      }),
    );
  } finally {
    await pool.close({ force: true });
  }
}

/**
 * The web UI's replay thread: one, started on the first question, so a replay takes at most one
 * core from a running engine and its batch loop never waits for it. Idle threads do not keep the
 * process alive (piscina unrefs them), and this one ends after a minute without questions.
 */
let questionPool: Piscina | null = null;

async function onQuestionThread<A extends { ok: boolean }>(task: ReplayTask): Promise<A | { ok: false; error: string }> {
  questionPool ??= replayPool(1, null, 60_000);
  try {
    return (await questionPool.run(task)) as A;
  } catch (err) {
    return { ok: false, error: `internal error: the replay thread failed: ${(err as Error).message}` };
  }
}

/** explainService's answers, computed on the replay thread. */
export function explainOnThread(spec: ReplaySpec): (question: ExplainQuestion) => Promise<ExplainAnswer> {
  return (question) => onQuestionThread<ExplainAnswer>({ kind: 'explain', spec, question });
}

/** whatIfService's answers, computed on the replay thread. */
export function whatIfOnThread(spec: ReplaySpec): (question: WhatIfQuestion) => Promise<WhatIfAnswer> {
  return (question) => onQuestionThread<WhatIfAnswer>({ kind: 'what-if', spec, question });
}
