// The batch loop on the main thread: poll, stage 1 on any worker, shuffle, stage 2 on the owners, merge, emit; restore and replay.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { isDeepStrictEqual } from 'node:util';
import type { CheckpointLog, OffsetsEntry } from '../checkpoint/log.js';
import { bindCheckpoint, checkpointQueryId, checkReplay, describeResume, planRecovery, queryIdentity, resumeInfo, RETAINED_BATCHES, SNAPSHOTS_KEPT, type RecoveryPlan, type ReplayedBatch, type ResumeInfo } from '../checkpoint/recovery.js';
import { PARTITION_HASH, routeState } from '../checkpoint/route.js';
import { CheckpointWriter } from '../checkpoint/writer.js';
import { compileQuery, type CompiledQuery } from '../plan/compile-plan.js';
import { planFingerprint, type QueryPlan } from '../plan/plan.js';
import type { Row } from '../plan/types.js';
import type { EmittedBatch, Sink } from '../sink/sink.js';
import type { PollResult, ResumableSource, Source, SourceBatch } from '../source/source.js';
import { nowMs, PhaseTimer, progressRecord } from '../metrics/batch-progress.js';
import { recordLatency } from '../metrics/record-latency.js';
import type { ProgressRecord, SystemProgress, TaskProgress } from '../metrics/progress.js';
import { KindlingError, type ErrorCode } from '../errors.js';
import type { WorkerPool } from './pool.js';
import { batchCounts, gatherStep, ownAggregates, scanCounts, shuffle, type OperatorStep } from './stages.js';
import { BatchTasks, type ScanOutcome } from './tasks.js';
import { WatermarkTracker, type BatchWatermarks } from './watermark.js';
import { operatorRows, type OperatorRows } from './plan-graph.js';
import type { BatchCounts } from '../metrics/batch-progress.js';
import type { ScanTaskResult } from './protocol.js';
import { sleepUnlessAborted } from '../sleep.js';

/** Checkpointing of a run: the log it writes, and a snapshot every `every` batches (and when the run stops). */
export interface CheckpointSettings {
  readonly log: CheckpointLog;
  readonly every: number;
  /** Snapshots kept (SNAPSHOTS_KEPT by default). */
  readonly keep?: number;
  /** Batches the offsets and commit logs keep for replays (RETAINED_BATCHES by default). */
  readonly retain?: number;
}

/** Engine settings that do not change during a run. */
export interface EngineOptions {
  /** The query, with the output mode it runs in. */
  readonly plan: QueryPlan;
  readonly partitions: number;
  /** Processing-time trigger: a batch starts at most every triggerMs; 0: as soon as the last one ended. */
  readonly triggerMs: number;
  /** Flush open windows (tagged forced) when a finite input ends or the run is stopped. */
  readonly drain: boolean;
  readonly maxRecordBytes: number;
  /** Rejected records logged per run (all are counted). */
  readonly maxLoggedRejects: number;
  /** Where log lines go (stderr in the CLI). */
  readonly log: (line: string) => void;
  /** Null or absent: no checkpoints (a restart starts over). */
  readonly checkpoint?: CheckpointSettings | null;
  /** The query's id when no checkpoint keeps one (default: a new one); a checkpoint's own id wins, as in Spark. */
  readonly queryId?: string;
  /** This run's id (default: a new one). */
  readonly runId?: string;
}

/** Totals of a run, printed as the final summary. */
export interface RunSummary {
  batches: number;
  records: number;
  rejected: number;
  filtered: number;
  matched: number;
  lateRows: number;
  rowsOut: number;
  elapsedMs: number;
  watermarkMs: number | null;
  stoppedBy: 'end-of-input' | 'signal';
}

/** A batch that loses a worker this many times in a row stops the run (a crash that replays itself). */
export const MAX_RECOVERIES_PER_BATCH = 3;
/** Error codes after which the workers' state cannot be trusted, but a rollback to the last snapshot can continue the run. */
const WORKER_LOSS: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['WORKER_DIED', 'WORKER_REPLACED', 'TASK_FAILED']);

/** A batch's output and counters. */
interface MergedBatch {
  readonly rows: Row[];
  readonly counts: BatchCounts;
  /** Rows in and out of each operator of the plan's graph (src/engine/plan-graph.ts). */
  readonly operators: readonly OperatorRows[];
}

/** A poll, with the batch's stage 1 already dispatched when it was polled ahead. */
type Polled<O> = Exclude<PollResult<O>, { kind: 'batch' }> | { readonly kind: 'batch'; readonly batch: SourceBatch<O>; readonly scanned?: Promise<ScanOutcome> };

/** Marks a promise as handled now (its rejection surfaces when it is awaited later). */
function guarded<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

const sleep = sleepUnlessAborted;

/**
 * Runs micro-batches until the source ends or the signal aborts. It is the only owner of the
 * batch id, the watermark, the source position and the read-ahead, and with checkpointing of
 * the order that makes a restart exact (see `emit`). Recovery reads the checkpoint into a plan
 * (src/checkpoint/recovery.ts); this loop carries it out: restore tasks, seek, replay. It
 * stamps the watermark on every stateful task and never touches individual events.
 */
export class Coordinator<O> {
  readonly runId: string;
  /** The query's id: the checkpoint's once `recover` read it (Spark's query.id survives restarts; runId does not). */
  id: string;
  private readonly watermark: WatermarkTracker | null;
  /** The plan compiled on this thread: its checks, its result columns, HAVING and the output order. */
  private readonly compiled: CompiledQuery;
  /** The plan keeps state (an aggregation or dropDuplicates): stage 2 runs, and no-data batches evict. */
  private readonly stateful: boolean;
  private nextBatchId = 0;
  private readonly listeners: Array<(p: ProgressRecord) => void> = [];
  /**
   * The event loop's counters at the previous progress record: the main thread's share is measured
   * since then, waits for input and the trigger included. Measured over the batch alone, a live
   * Kafka run of 1 ms batches showed 73-85 % while the process used 8 % of a core.
   */
  private eluMark = performance.eventLoopUtilization();
  private readonly summary: RunSummary = {
    batches: 0, records: 0, rejected: 0, filtered: 0, matched: 0, lateRows: 0, rowsOut: 0, elapsedMs: 0, watermarkMs: null, stoppedBy: 'end-of-input',
  };
  private lastBatchStartMs: number | null = null;
  /** Groups the workers hold after the last batch (or restore): what a --drain batch removes. */
  private stateGroups = 0;
  private readonly tasks: BatchTasks;
  private readAhead: Promise<Polled<O>> | null = null;
  /** Where the source stands after the last batch that began (its endOffsets); null: at its start. */
  private sourcePosition: O | null = null;
  /** Checkpointing, or null. */
  private readonly writer: CheckpointWriter | null;
  private readonly every: number;
  /** The source as checkpointing sees it, once `recover` checked the checkpoint belongs to it. */
  private resumable: ResumableSource<O> | null = null;
  /** Logged batches still to run again, in order (from the recovery plan). */
  private replayQueue: ReplayedBatch<O>[] = [];
  /** The batch that began last (a batch polled ahead is only written ahead as the one right after it). */
  private begunBatchId: number | null = null;
  /** The last batch that finished, and the one the newest snapshot holds. */
  private lastBatchId: number | null = null;
  private lastSnapshotBatchId: number | null = null;
  /** Rollbacks after a lost worker during this process's life. */
  recoveries = 0;
  /** Attaches CPU/memory to every progress record as `system` (set by src/metrics; it must return at once). */
  systemProbe: (() => SystemProgress) | null = null;

  constructor(
    private readonly options: EngineOptions,
    private readonly source: Source<O>,
    private readonly sinks: readonly Sink[],
    private readonly pool: WorkerPool,
  ) {
    this.runId = options.runId ?? randomUUID();
    this.id = options.queryId ?? randomUUID();
    // Spark's analysis and UnsupportedOperationChecker: a plan that cannot run fails here, before any batch.
    this.compiled = compileQuery(options.plan);
    const analyzed = this.compiled.plan;
    this.stateful = analyzed.aggregate !== null || analyzed.dedup !== null;
    this.watermark = analyzed.watermark ? new WatermarkTracker(analyzed.watermark.delayMs) : null;
    this.tasks = new BatchTasks(pool, { plan: options.plan, planKey: planFingerprint(options.plan), partitions: options.partitions, workers: pool.size }, options);
    const ck = options.checkpoint ?? null;
    this.writer = ck ? new CheckpointWriter(ck.log, queryIdentity(options.plan), { keep: ck.keep ?? SNAPSHOTS_KEPT, retain: ck.retain ?? RETAINED_BATCHES }) : null;
    this.every = ck?.every ?? 0;
  }

  /** Subscribes to one ProgressRecord per batch. */
  onProgress(listener: (p: ProgressRecord) => void): void {
    this.listeners.push(listener);
  }

  /**
   * With checkpointing: checks the checkpoint belongs to this query and input, reads it into a
   * plan and carries it out (the state into the workers, watermark, batch id, source position);
   * the logged batches after the snapshot run again at the start of `run`. Null without
   * checkpointing. Also the rollback after a lost worker.
   */
  async recover(): Promise<ResumeInfo | null> {
    const writer = this.writer;
    if (!writer) return null;
    const identity = queryIdentity(this.options.plan);
    if (!this.resumable) {
      this.resumable = await bindCheckpoint(writer.log, identity, this.source);
      this.id = await checkpointQueryId(writer.log, this.id);
    }
    const source = this.resumable;
    this.begunBatchId = null; // no writes ahead while the state and the source move
    // What was being written must be on disk (or have failed) before the checkpoint is read.
    await writer.flush();
    writer.dropAhead();
    const plan = await planRecovery(writer.log, identity, (json) => source.parseOffsets(json), this.options.log);
    await this.carryOut(source, plan);
    return resumeInfo(plan, this.watermark !== null);
  }

  /**
   * Replays the logged batches, then runs until the input ends or `signal` aborts; finishes the
   * batch in flight first. With checkpointing, a lost worker (a thread that died, was replaced,
   * or failed inside) is replaced by the pool and every worker rolls back to the last snapshot
   * and replays, so nothing is lost or emitted twice; a batch that loses a worker
   * MAX_RECOVERIES_PER_BATCH times in a row stops the run.
   */
  async run(signal: AbortSignal): Promise<RunSummary> {
    const started = nowMs();
    if (this.writer && !this.resumable) await this.recover();
    let failedBatch = -1;
    let attempts = 0;
    let rollBack = false;
    for (;;) {
      try {
        if (rollBack) {
          const info = (await this.recover())!;
          this.options.log(`recovery ${this.recoveries}: ${describeResume(info)}`);
          rollBack = false;
        }
        await this.replayLogged();
        await this.loop(signal);
        await this.finish();
        break;
      } catch (err) {
        if (this.writer === null) throw err;
        if (!WORKER_LOSS.has((err as KindlingError).code)) {
          // The run stops: the writes in flight (a commit, the snapshot) finish first, so the
          // next start replays as little as possible.
          await this.writer.flush().catch(() => undefined);
          throw err;
        }
        const batchId = this.nextBatchId - 1;
        attempts = batchId === failedBatch ? attempts + 1 : 1;
        failedBatch = batchId;
        this.recoveries++;
        if (attempts > MAX_RECOVERIES_PER_BATCH) {
          throw new KindlingError('WORKER_LOST', `batch ${batchId} lost a worker ${attempts} times in a row; giving up (last: ${(err as Error).message})`, { cause: err });
        }
        this.options.log(`worker lost (${(err as Error).message}); recovery ${this.recoveries}: the pool replaces the thread, every worker rolls back to the last snapshot`);
        rollBack = true;
      }
    }
    if (signal.aborted) this.summary.stoppedBy = 'signal';
    this.summary.elapsedMs = nowMs() - started;
    this.summary.watermarkMs = this.watermark?.watermarkMs ?? null;
    return { ...this.summary };
  }

  /** Batches as the source cuts them until it ends or `signal` aborts, with no-data batches when the watermark moved. */
  private async loop(signal: AbortSignal): Promise<void> {
    let nextStartMs = 0;
    while (!signal.aborted) {
      if (this.options.triggerMs > 0) {
        await sleep(nextStartMs - Date.now(), signal);
        if (signal.aborted) break;
        nextStartMs = Math.max(nextStartMs + this.options.triggerMs, Date.now());
      }
      const pollStarted = nowMs();
      const polled = await this.nextPoll();
      if (polled.kind === 'batch') {
        await this.runBatch(polled.batch, nowMs() - pollStarted, polled.scanned);
        continue;
      }
      // No input waiting: if the watermark moved, a no-data batch evicts with it (Spark's noDataMicroBatches).
      if (this.stateful && this.watermark?.advancedSinceLastBatch) {
        await this.runBatch(null, nowMs() - pollStarted);
        continue;
      }
      if (polled.kind === 'end') break;
      if (this.options.triggerMs === 0) await sleep(Math.min(polled.retryInMs, 100), signal);
    }
  }

  /** When the loop ends (end of input or stop): the --drain batch, then the last snapshot, so the next start replays nothing. */
  private async finish(): Promise<void> {
    if (this.options.drain && this.options.plan.outputMode !== 'complete' && this.compiled.plan.aggregate) await this.drainBatch();
    const writer = this.writer;
    if (!writer) return;
    if (this.lastBatchId !== null && this.lastBatchId !== this.lastSnapshotBatchId && this.replayQueue.length === 0) await this.snapshot(this.lastBatchId);
    await writer.flush();
  }

  /** Carries out a recovery plan. Nothing may still be reading: a batch polled ahead, or a task of the failed batch. */
  private async carryOut(source: ResumableSource<O>, plan: RecoveryPlan<O>): Promise<void> {
    await this.dropReadAhead();
    await this.pool.quiesce();
    this.pool.acceptReplacedThreads();
    // Every worker gets a restore task, an empty one included (it clears what a rollback found).
    const shares = routeState(plan.state, plan.snapshot?.partitioning ?? null, { partitions: this.options.partitions, workers: this.pool.size });
    this.stateGroups = await this.tasks.restoreState(shares);
    this.watermark?.restore(plan.watermark ?? { watermarkMs: 0, lastEvictionWatermarkMs: 0 });
    this.nextBatchId = plan.startBatchId;
    if (plan.sourcePosition !== null) await source.seek(plan.sourcePosition, plan.sourceMetadata);
    this.sourcePosition = plan.sourcePosition;
    this.replayQueue = [...plan.replay];
    this.lastBatchId = plan.snapshot?.batchId ?? null;
    this.lastSnapshotBatchId = this.lastBatchId;
  }

  /** Runs the logged batches of the plan again, each cut to its logged end offsets; a committed one with its output muted. */
  private async replayLogged(): Promise<void> {
    const source = this.resumable;
    while (source && this.replayQueue.length > 0) {
      const replay = this.replayQueue[0]!;
      const { entry } = replay;
      if (this.nextBatchId !== entry.batchId) {
        throw new KindlingError('REPLAY_DIVERGED', `replay: next batch is ${this.nextBatchId}, the log continues with ${entry.batchId}`);
      }
      if (entry.drain) await this.drainBatch(replay);
      else if (entry.noData || entry.endOffsets === null) await this.runBatch(null, 0, undefined, replay);
      else {
        const polled = await source.pollUntil(entry.endOffsets);
        if (polled.kind !== 'batch') {
          throw new KindlingError(
            'CHECKPOINT_INPUT',
            `replay of batch ${entry.batchId}: the input ends before the logged end ${JSON.stringify(entry.endOffsets)} (was it shortened or replaced?); use a new --checkpoint-dir to start over`,
            { domain: 'user' },
          );
        }
        await this.runBatch(polled.batch, 0, undefined, replay);
      }
      this.replayQueue.shift();
    }
  }

  /**
   * Drops a batch polled ahead, once its poll has settled: a restore is about to move the source,
   * and that batch was cut from the old position.
   */
  private async dropReadAhead(): Promise<void> {
    const pending = this.readAhead;
    this.readAhead = null;
    if (pending) {
      const polled = await pending.catch(() => null);
      if (polled?.kind === 'batch') await polled.scanned?.catch(() => undefined);
    }
  }

  /**
   * The next poll. A source that reads ahead safely (`readAhead`) is polled for batch N+1 while
   * batch N runs, and batch N+1's stage-1 tasks are dispatched as soon as its splits are cut, so
   * the workers scan it while batch N's stage 2, merge and sinks run on the main thread. Measured
   * on 2 cores: reads in line were 23 % of a run's wall time, and each batch's barrier left the
   * workers idle ~20 %. Never with a processing-time trigger: a batch must then hold what arrived
   * by its own start.
   */
  private nextPoll(): Promise<Polled<O>> {
    const ready: Promise<Polled<O>> = this.readAhead ?? this.source.poll();
    this.readAhead = null;
    if (this.source.readAhead === true && this.options.triggerMs === 0) {
      ready.then(
        (r) => {
          if (r.kind !== 'batch') return;
          const next: Promise<Polled<O>> = this.source.poll().then((n) => {
            if (n.kind !== 'batch') return n;
            this.writeAhead(this.nextBatchId, n.batch);
            return { ...n, scanned: guarded(this.tasks.dispatchScans(this.nextBatchId, n.batch.splits)) };
          });
          next.catch(() => undefined); // handled when awaited; never an unhandled rejection meanwhile
          this.readAhead = next;
        },
        () => undefined,
      );
    }
    return ready;
  }

  /** The main thread's busy share of the wall time since the previous progress record (0..1). */
  private mainThreadShare(): number {
    const now = performance.eventLoopUtilization();
    const share = performance.eventLoopUtilization(now, this.eluMark).utilization;
    this.eluMark = now;
    return share;
  }

  /**
   * Runs one batch as a sequence of steps: `batch` null is a no-data batch; `scanned` its stage 1
   * if already dispatched; `replay` the logged batch it runs again.
   */
  private async runBatch(batch: SourceBatch<O> | null, sourceMs: number, scanned?: Promise<ScanOutcome>, replay?: ReplayedBatch<O>): Promise<void> {
    const batchId = this.nextBatchId++;
    const timer = new PhaseTimer(sourceMs, batch?.inputWaitMs ?? 0);
    const marks = this.watermark?.beginBatch() ?? null;
    try {
      if (batch) this.sourcePosition = batch.endOffsets;
      const offsetsDurable = this.logOffsets(batchId, batch, marks?.evictionWatermarkMs ?? null, replay);
      timer.end('checkpoint');
      const splits = batch?.splits ?? [];
      const { settled, tasks } = await (scanned ?? this.tasks.dispatchScans(batchId, splits));
      const scans = this.tasks.scanResults(splits, settled);
      timer.end('scan');
      this.tasks.logRejects(splits, scans);
      const merged = await this.stages(batchId, scans, marks, timer, tasks);
      this.watermark?.endBatch(merged.counts.maxEventTimeMs);
      timer.end('merge');
      await this.emit({ batchId, rows: merged.rows, columns: this.compiled.plan.columns, drained: false }, offsetsDurable, replay?.committed === true);
      timer.end('sink');
      await this.commit(batchId, replay);
      timer.end('checkpoint');
      this.addToSummary(merged);
      this.stateGroups = merged.counts.stateGroups;
      this.publish(batchId, batch, timer, merged, tasks, marks, this.mainThreadShare());
    } catch (err) {
      throw this.tasks.batchFailed(batchId, err);
    }
  }

  /**
   * Stage 2 and the merge: the stateful operators on the partitions' owners (dropDuplicates, then
   * the aggregation fed by its rows), HAVING and the output order on this thread. A stateless
   * plan's rows go out in input order.
   */
  private async stages(batchId: number, scans: readonly ScanTaskResult[], marks: BatchWatermarks | null, timer: PhaseTimer, tasks: TaskProgress[]): Promise<MergedBatch> {
    const analyzed = this.compiled.plan;
    const scan = scanCounts(scans, analyzed.schema.fields.length);
    const steps: OperatorStep[] = [];
    let extraFiltered = 0;
    let rows: Row[];
    const matched = scan.records - scan.skippedRecords - scan.filteredRows;
    let deduplicated = 0;
    let partialGroups = 0;
    let emitted = 0;
    if (!this.stateful) {
      rows = scans.flatMap((s) => s.rows);
      timer.end('shuffle');
    } else {
      let inputs = shuffle(scans.map((s) => s.owned), this.pool.size);
      timer.end('shuffle');
      if (analyzed.dedup) {
        const dedup = gatherStep(await this.tasks.runStateful(batchId, 'dedup', inputs, marks), tasks);
        steps.push(dedup);
        // The steps after dropDuplicates run here, in batch order (`first` sees rows as the oracle does).
        const after = this.compiled.afterDedup(dedup.rows);
        deduplicated = dedup.rows.length;
        extraFiltered = after.filteredRows;
        rows = after.rows;
        if (after.partial) inputs = shuffle([ownAggregates(after.partial, this.options.partitions, this.pool.size)], this.pool.size);
      }
      if (analyzed.aggregate) {
        const aggregate = gatherStep(await this.tasks.runStateful(batchId, 'aggregate', inputs, marks), tasks);
        steps.push(aggregate);
        rows = aggregate.rows;
        partialGroups = aggregate.inputRows;
        emitted = rows.length;
      }
      timer.end('stateful');
    }
    const out = this.compiled.finish(rows!);
    const flow = { records: scan.records, skipped: scan.skippedRecords, matched, deduplicated, afterDedup: deduplicated - extraFiltered, partialGroups, emitted, rowsOut: out.length };
    return { rows: out, counts: batchCounts(scan, extraFiltered, steps, out.length), operators: operatorRows(analyzed, flow) };
  }

  /**
   * The --drain batch: every open group leaves as a forced row. It is logged, emitted and committed
   * like any batch, and has a progress record like any batch (no input; its drain tasks as stage 2).
   */
  private async drainBatch(replay?: ReplayedBatch<O>): Promise<void> {
    const batchId = this.nextBatchId++;
    const timer = new PhaseTimer(0);
    const offsetsDurable = this.logOffsets(batchId, null, this.watermark?.lastEvictionWatermarkMs ?? null, replay, true);
    timer.end('checkpoint');
    const tasks: TaskProgress[] = [];
    const rows = this.compiled.finish(
      await this.tasks.drain(tasks).catch((err: unknown) => {
        throw this.tasks.batchFailed(batchId, err);
      }),
    );
    timer.end('stateful');
    const muted = replay?.committed === true;
    await this.emit({ batchId, rows, columns: this.compiled.plan.columns, drained: true }, offsetsDurable, muted);
    timer.end('sink');
    await this.commit(batchId, replay);
    timer.end('checkpoint');
    this.summary.rowsOut += rows.length;
    this.summary.batches++;
    if (!muted) this.options.log(`drained: ${rows.length} row(s) from open windows emitted as batch ${batchId}, tagged forced`);
    const none = new Array<number>(this.compiled.plan.schema.fields.length).fill(0);
    const counts: BatchCounts = { records: 0, rejected: 0, filtered: 0, matched: 0, missingFields: none, mistypedFields: none, lateRows: 0, lateGroups: 0, rowsOut: rows.length, maxEventTimeMs: null, stateGroups: 0, updatedGroups: 0, evictedGroups: this.stateGroups, stateBytes: 0 };
    this.stateGroups = 0;
    const marks = this.watermark ? { lateWatermarkMs: this.watermark.lastEvictionWatermarkMs, evictionWatermarkMs: this.watermark.lastEvictionWatermarkMs } : null;
    const operators = operatorRows(this.compiled.plan, { records: 0, skipped: 0, matched: 0, deduplicated: 0, afterDedup: 0, partialGroups: 0, emitted: 0, rowsOut: rows.length });
    this.publish(batchId, null, timer, { rows, counts, operators }, tasks, marks, this.mainThreadShare(), true);
  }

  /**
   * The write-ahead of a batch's range (with checkpointing), started without waiting: its fsyncs
   * overlap the batch's tasks. Returns what the batch's output must wait for. A replayed batch
   * writes nothing, but must be the logged one.
   */
  private logOffsets(batchId: number, batch: SourceBatch<O> | null, watermarkMs: number | null, replay: ReplayedBatch<O> | undefined, drain = false): Promise<void> {
    const writer = this.writer;
    if (!writer) return Promise.resolve();
    writer.throwIfFailed();
    this.begunBatchId = batchId;
    if (replay) {
      checkReplay(replay.entry, batch, watermarkMs);
      return writer.replayed();
    }
    const entry: OffsetsEntry = {
      batchId,
      startOffsets: batch?.startOffsets ?? null,
      endOffsets: batch?.endOffsets ?? null,
      noData: batch === null,
      ...(drain ? { drain: true as const } : {}),
      ...(batch?.sourceMetadata !== undefined ? { sourceMetadata: batch.sourceMetadata } : {}),
      watermarkMs,
      writtenAt: new Date().toISOString(),
    };
    return writer.offsets(entry);
  }

  /**
   * A batch polled ahead while the batch before it runs, with the id it will run as: its range is
   * written now, so those fsyncs overlap the running batch instead of holding back the next one's
   * output. Only for the batch right after the running one, starting where it ends.
   */
  private writeAhead(batchId: number, batch: SourceBatch<O>): void {
    if (!this.writer || this.begunBatchId === null || batchId !== this.begunBatchId + 1) return;
    if (this.replayQueue.some((r) => r.entry.batchId === batchId) || !isDeepStrictEqual(batch.startOffsets, this.sourcePosition)) return;
    this.writer.writeAhead({
      batchId,
      startOffsets: batch.startOffsets,
      endOffsets: batch.endOffsets,
      noData: false,
      watermarkMs: null,
      polledAhead: true,
      ...(batch.sourceMetadata !== undefined ? { sourceMetadata: batch.sourceMetadata } : {}),
      writtenAt: new Date().toISOString(),
    });
  }

  /**
   * THE rule that makes a restart exact: no output exists before its batch's range is durable in
   * the offsets log, so a replay can re-cut exactly what a sink holds. Every batch's output, the
   * drain's included, goes through here; the wait is for this batch's own offsets write only.
   * `muted`: a replayed batch whose output was committed before (it runs only to rebuild state).
   */
  private async emit(output: EmittedBatch, offsetsDurable: Promise<void>, muted: boolean): Promise<void> {
    await offsetsDurable;
    this.writer?.throwIfFailed();
    if (muted) return;
    for (const sink of this.sinks) await sink.emit(output);
  }

  /**
   * After the sinks flushed a batch: its commit (in the background; a replayed committed batch has
   * one), and every `every` batches a snapshot. A slow disk must not stall the batches: while the
   * last snapshot is still being written, this one is left to the next turn (the logs cover the
   * batches in between).
   */
  private async commit(batchId: number, replay: ReplayedBatch<O> | undefined): Promise<void> {
    const writer = this.writer;
    if (!writer) return;
    writer.throwIfFailed();
    if (!replay?.committed) writer.commit(batchId);
    this.lastBatchId = batchId;
    if ((batchId + 1) % this.every !== 0) return;
    if (writer.snapshotBusy) writer.deferredSnapshots++;
    else await this.snapshot(batchId);
  }

  /**
   * Reads every worker's state (the batch loop waits for that), then hands it to the writer, which
   * encodes and writes snapshots/<batchId> in the background. `written` resolves with the file's
   * size once it is durable.
   */
  async snapshot(batchId: number): Promise<{ rows: number; written: Promise<number> }> {
    const writer = this.writer;
    if (!writer) throw new KindlingError('CHECKPOINT_UNBOUND', 'snapshot() on a run without checkpointing');
    await writer.snapshotSettled();
    const state = await this.tasks.readState();
    this.lastSnapshotBatchId = batchId;
    return writer.snapshot({
      batchId,
      partitioning: { partitions: this.options.partitions, workers: this.pool.size, hash: PARTITION_HASH },
      sourceOffsets: this.sourcePosition,
      watermark: this.watermark?.toJSON() ?? null,
      state,
    });
  }

  private addToSummary({ counts }: MergedBatch): void {
    const s = this.summary;
    s.batches++;
    s.records += counts.records;
    s.rejected += counts.rejected;
    s.filtered += counts.filtered;
    s.matched += counts.matched;
    s.lateRows += counts.lateRows;
    s.rowsOut += counts.rowsOut;
  }

  /** Hands the batch's progress record (assembled in src/metrics) to every listener. */
  private publish(batchId: number, batch: SourceBatch<O> | null, timer: PhaseTimer, merged: MergedBatch, tasks: readonly TaskProgress[], marks: BatchWatermarks | null, mainThreadUtilisation: number, drained = false): void {
    const previousStartMs = this.lastBatchStartMs;
    this.lastBatchStartMs = timer.startedAtMs;
    if (this.listeners.length === 0) return;
    const progress = progressRecord({
      id: this.id,
      runId: this.runId,
      name: this.options.plan.name,
      batchId,
      timer,
      previousStartMs,
      counts: merged.counts,
      // The watermark in effect during the batch (Spark's eventTime.watermark), not the one after it.
      watermarkMs: marks?.evictionWatermarkMs ?? null,
      fieldNames: this.compiled.plan.schema.fields.map((f) => f.name),
      operators: merged.operators,
      partitions: this.options.partitions,
      source: { description: this.source.describe(), startOffset: batch?.startOffsets ?? null, endOffset: batch?.endOffsets ?? null, ...batch?.progress },
      noData: batch === null,
      drained,
      sinkDescription: this.sinks.map((s) => s.name).join(', ') || 'none',
      tasks,
      workerIds: this.pool.loads.map((l) => l.workerId),
      mainThreadUtilisation,
      recordLatency: batch?.recordTimestamps ? recordLatency(batch.recordTimestamps, timer.endedAtMs) : null,
      ...(this.systemProbe ? { system: this.systemProbe() } : {}),
    });
    for (const listener of this.listeners) listener(progress);
  }


}
