// Where state lives: one single-thread piscina pool per worker, so a partition's state never leaves its thread.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { Piscina } from 'piscina';
import { KindlingError } from '../errors.js';
import { projectRoot } from '../project.js';
import type { Task, TaskFailure, TaskResult, WorkerFaults, WorkerInit } from './protocol.js';

/** The project root (kept here too: the benches and tests import it from the pool). */
export { projectRoot };

/** A built worker module (workers/NAME.ts); tests and the CLI both load it from dist/ (run `npm run build` first). */
export function workerFile(name = 'task'): string {
  const file = join(projectRoot(), 'dist', 'workers', `${name}.js`);
  if (!existsSync(file)) {
    throw new KindlingError('NOT_BUILT', `worker code not built: ${file} is missing; run \`npm run build\``, { domain: 'user' });
  }
  return pathToFileURL(file).href;
}

/**
 * piscina first tries `require()` on the worker file, then `import()`. Where Node can require ES
 * modules (20.19+), a require that fails half-way leaves the module in a state the import then
 * trips on ("Unexpected status of a module that is imported again after being required"), seen
 * here while dist/ was being rebuilt. Turning require(esm) off in the workers makes the require fail
 * cleanly and the import path, the one ES-module workers always used, load the file.
 */
export const NO_REQUIRE_ESM = 'require_module' in process.features ? ['--no-experimental-require-module'] : [];

/** Stage-1 tasks a worker holds at once: one running and one waiting, so its next task is already there. */
const SCAN_DEPTH = 2;

/**
 * A task that came back as a failure (the thread is alive): its code says whose fault it is
 * (QUERY_FAILED: the user's query code threw; TASK_FAILED or MISROUTE: Kindling's), and `failure`
 * carries what the worker knew (stack, query function, record index in the split).
 */
export class TaskFailedError extends KindlingError {
  constructor(
    readonly workerId: number,
    readonly failure: TaskFailure,
  ) {
    const where = failure.partitionId === undefined ? '' : `, partition ${failure.partitionId}`;
    super(failure.code, `worker ${workerId}${where}: ${failure.message}`, { domain: failure.code === 'QUERY_FAILED' ? 'user' : 'internal' });
    this.name = 'TaskFailedError';
  }
}

/** Busy time and task counts of one worker since the pool started. */
export interface WorkerLoad {
  readonly workerId: number;
  busyMs: number;
  tasks: number;
  inFlight: number;
  threadId: number | null;
}

/**
 * W worker threads, each its own one-thread piscina pool. piscina has no worker affinity, and a
 * partition's window state must stay on the thread that owns it for the engine's life, so
 * stateful tasks go to `runOn(owner)`; stage-1 scans go to the least loaded worker.
 * A worker whose thread changes (piscina replaced a dead one) has lost its state: that is
 * reported as an error, never papered over.
 */
export class WorkerPool {
  private readonly pools: Piscina[];
  readonly loads: WorkerLoad[];
  private nextScan = 0;
  private readonly scanQueue: Array<{
    task: Task;
    transfer: ArrayBuffer[];
    resolve: (value: { workerId: number; result: TaskResult }) => void;
    reject: (err: unknown) => void;
  }> = [];
  private readonly running = new Set<Promise<unknown>>();
  private readonly lost = new Set<number>();
  /** Worker threads that died or were found replaced since the pool started (piscina starts a new one each time). */
  replacements = 0;

  /** `faults`: injected into every worker's init message, for tests only. */
  constructor(readonly size: number, options: { execArgv?: string[]; faults?: WorkerFaults } = {}) {
    if (!Number.isInteger(size) || size < 1) throw new KindlingError('BAD_POOL', `worker count must be an integer >= 1; got ${size}`);
    const filename = workerFile();
    this.pools = Array.from(
      { length: size },
      (_, workerId) =>
        new Piscina({
          filename,
          minThreads: 1,
          maxThreads: 1,
          idleTimeout: Number.POSITIVE_INFINITY,
          concurrentTasksPerWorker: 1,
          workerData: { workerId, ...(options.faults ? { faults: options.faults } : {}) } satisfies WorkerInit,
          execArgv: [...(options.execArgv ?? process.execArgv), ...NO_REQUIRE_ESM],
        }),
    );
    this.loads = Array.from({ length: size }, (_, workerId) => ({ workerId, busyMs: 0, tasks: 0, inFlight: 0, threadId: null }));
    // A thread that fails while idle is replaced by piscina, which then emits 'error': without a
    // listener that would end the process. The next task's threadId reports the loss (WORKER_REPLACED).
    for (const pool of this.pools) pool.on('error', () => undefined);
  }

  /** Resolves once every task sent so far has settled (before a rollback restores state). */
  async quiesce(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  /**
   * Accepts the threads as they are now: after a rollback has restored every worker's state, a
   * replaced thread is no longer an error. Returns how many workers had been seen at all.
   */
  acceptReplacedThreads(): number {
    let seen = 0;
    for (const load of this.loads) {
      if (load.threadId !== null) seen++;
      load.threadId = null;
    }
    this.lost.clear();
    return seen;
  }

  /**
   * Runs a stage-1 task on whichever worker frees up first. Tasks wait here, not in a worker's
   * queue, and each worker holds at most SCAN_DEPTH of them (one running, one ready so the round
   * trip is hidden): handing all of a batch's splits out at once left one worker idle for ~25 % of
   * the scan whenever the other was slowed down (measured with --cpu-prof on both threads).
   */
  runScan<R extends TaskResult>(task: Task, transfer: ArrayBuffer[]): Promise<{ workerId: number; result: R }> {
    return new Promise((resolve, reject) => {
      this.scanQueue.push({ task, transfer, resolve: resolve as (v: { workerId: number; result: TaskResult }) => void, reject });
      this.pumpScans();
    });
  }

  private pumpScans(): void {
    while (this.scanQueue.length > 0) {
      let best = -1;
      for (let k = 0; k < this.size; k++) {
        const id = (this.nextScan + k) % this.size;
        const load = this.loads[id]!;
        if (load.inFlight < SCAN_DEPTH && (best === -1 || load.inFlight < this.loads[best]!.inFlight)) best = id;
      }
      if (best === -1) return;
      this.nextScan = (best + 1) % this.size;
      const item = this.scanQueue.shift()!;
      this.runOn(best, item.task, item.transfer).then(
        (result) => {
          item.resolve({ workerId: best, result });
          this.pumpScans();
        },
        (err: unknown) => {
          item.reject(err);
          this.pumpScans();
        },
      );
    }
  }

  /** Runs a task on worker `workerId`; `transfer` lists buffers moved (not copied) to the thread. */
  async runOn<R extends TaskResult>(workerId: number, task: Task, transfer: ArrayBuffer[] = []): Promise<R> {
    const pool = this.pools[workerId];
    const load = this.loads[workerId];
    if (!pool || !load) throw new KindlingError('NO_WORKER', `no worker ${workerId} in a pool of ${this.size}`);
    load.inFlight++;
    let result: TaskResult;
    let running: Promise<unknown> | undefined;
    try {
      running = pool.run(task, transfer.length > 0 ? { transferList: transfer } : {});
      this.running.add(running);
      result = (await running) as TaskResult;
    } catch (err) {
      if (!this.lost.has(workerId)) this.replacements++;
      this.lost.add(workerId);
      throw new KindlingError('WORKER_DIED', `worker ${workerId} failed running a ${task.kind} task: ${(err as Error).message}`, { cause: err });
    } finally {
      if (running) this.running.delete(running);
      load.inFlight--;
    }
    load.busyMs += result.durationMs;
    load.tasks++;
    if (load.threadId !== null && load.threadId !== result.threadId) {
      const before = load.threadId;
      load.threadId = result.threadId;
      if (!this.lost.delete(workerId)) this.replacements++;
      throw new KindlingError(
        'WORKER_REPLACED',
        `worker ${workerId} was replaced (thread ${before} -> ${result.threadId}); the state of its partitions is lost`,
      );
    }
    load.threadId = result.threadId;
    if (result.kind === 'failure') throw new TaskFailedError(workerId, result);
    return result as R;
  }

  /** Stops every thread. */
  async close(): Promise<void> {
    await Promise.all(this.pools.map((p) => p.close({ force: true })));
  }
}
