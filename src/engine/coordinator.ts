// The batch loop on the main thread: poll, stage 1 on any worker, shuffle, stage 2 on the owners, merge, emit.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { PartialRows } from '../query/aggregate.js';
import { sortRows } from '../query/order.js';
import { outputModeProblem, type OutputMode, type Query, type QueryRef } from '../query/query.js';
import { isoMs } from '../query/time.js';
import { WatermarkTracker } from '../query/watermark.js';
import type { ResultRow } from '../query/window-state.js';
import type { ProgressRecord, SystemProgress, TaskProgress, WorkerProgress } from '../metrics/progress.js';
import type { Sink } from '../sink/sink.js';
import type { PollResult, Source, SourceBatch, Split } from '../source/source.js';
import { KindlingError } from '../errors.js';
import type { WorkerPool } from './pool.js';
import { type DrainTaskResult, type ScanTaskResult, type StatefulTaskResult, type TaskContext } from './protocol.js';
import { sleepUnlessAborted } from '../sleep.js';

/** Engine settings that do not change during a run. */
export interface EngineOptions {
  readonly queryRef: QueryRef;
  readonly query: Query;
  readonly outputMode: OutputMode;
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

/** Optional hooks around each batch (checkpointing plugs in here). */
export interface BatchHooks {
  /** Before a batch runs: its id and source range (write-ahead). */
  beforeBatch?(batchId: number, batch: SourceBatch | null): Promise<void>;
  /** After the sinks flushed a batch. Returns ms spent (reported as the checkpoint phase). */
  afterBatch?(batchId: number): Promise<void>;
  /** When the loop ends (end of input or stop), before --drain empties the state: the last snapshot's chance. */
  afterLastBatch?(): Promise<void>;
  /**
   * After the batch's rows are computed, before any sink sees them: what must be durable before
   * output exists (the write-ahead offsets log) is awaited here, so its fsync overlaps the batch's work.
   */
  beforeEmit?(batchId: number): Promise<void>;
  /**
   * A batch polled ahead while the batch before it runs, with the id it will run as: its
   * write-ahead may start now. beforeBatch still follows when its turn comes.
   */
  polledAhead?(batchId: number, batch: SourceBatch): void;
}

/** Stage 1's results of a batch, with its task records. */
interface ScanOutcome {
  scans: ScanTaskResult[];
  tasks: TaskProgress[];
}

/** A poll, with the batch's stage 1 already dispatched when it was polled ahead. */
type Polled = Exclude<PollResult, { kind: 'batch' }> | { readonly kind: 'batch'; readonly batch: SourceBatch; readonly scanned?: Promise<ScanOutcome> };

/** Marks a promise as handled now (its rejection surfaces when it is awaited later). */
function guarded<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

const sleep = sleepUnlessAborted;

const nowMs = (): number => performance.timeOrigin + performance.now();

/**
 * Runs micro-batches until the source ends or the signal aborts. The coordinator owns the
 * watermark and stamps it on every stateful task; it never touches individual events.
 */
export class Coordinator {
  readonly runId = randomUUID();
  readonly id: string;
  private readonly watermark: WatermarkTracker | null;
  private nextBatchId = 0;
  private readonly listeners: Array<(p: ProgressRecord) => void> = [];
  private readonly summary: RunSummary = {
    batches: 0, records: 0, rejected: 0, filtered: 0, matched: 0, lateRows: 0, rowsOut: 0, elapsedMs: 0, watermarkMs: null, stoppedBy: 'end-of-input',
  };
  private readonly recordsSeen = new Map<string, number>();
  private loggedRejects = 0;
  private lastBatchStartMs: number | null = null;
  /** True while a replayed batch whose output was already committed runs: its rows are not emitted again. */
  private muteSinks = false;
  private readonly context: TaskContext;
  private readAhead: Promise<Polled> | null = null;
  /** Attaches CPU/memory to every progress record as `system` (set by src/metrics; it must return at once). */
  systemProbe: (() => SystemProgress) | null = null;

  constructor(
    private readonly options: EngineOptions,
    private readonly source: Source,
    private readonly sinks: readonly Sink[],
    private readonly pool: WorkerPool,
    private readonly hooks: BatchHooks = {},
  ) {
    const problem = outputModeProblem(options.query, options.outputMode);
    if (problem) throw new KindlingError('BAD_MODE', `--output-mode ${options.outputMode}: ${problem}`, { domain: 'user' });
    const q = options.query;
    this.watermark = q.window && q.watermarkDelayMs !== undefined ? new WatermarkTracker(q.watermarkDelayMs) : null;
    this.id = randomUUID();
    this.context = { queryRef: options.queryRef, partitions: options.partitions, workers: pool.size };
  }

  /** Subscribes to one ProgressRecord per batch. */
  onProgress(listener: (p: ProgressRecord) => void): void {
    this.listeners.push(listener);
  }

  /** The watermark tracker (for snapshots), or null for a query without a watermark. */
  get watermarkTracker(): WatermarkTracker | null {
    return this.watermark;
  }

  /** The id the next batch will get. */
  get batchId(): number {
    return this.nextBatchId;
  }

  /** Continues numbering at `batchId` (restores). */
  set batchId(batchId: number) {
    this.nextBatchId = batchId;
  }

  /** Runs until the input ends or `signal` aborts; finishes the batch in flight first. */
  async run(signal: AbortSignal): Promise<RunSummary> {
    const started = nowMs();
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
      if (this.watermark?.advancedSinceLastBatch) {
        await this.runBatch(null, nowMs() - pollStarted);
        continue;
      }
      if (polled.kind === 'end') break;
      if (this.options.triggerMs === 0) await sleep(Math.min(polled.retryInMs, 100), signal);
    }
    if (signal.aborted) this.summary.stoppedBy = 'signal';
    await this.hooks.afterLastBatch?.();
    if (this.options.drain && this.options.outputMode !== 'complete') await this.drainBatch();
    this.summary.elapsedMs = nowMs() - started;
    this.summary.watermarkMs = this.watermark?.watermarkMs ?? null;
    return { ...this.summary };
  }

  /**
   * Drops a batch polled ahead, once its poll has settled: a restore is about to move the source,
   * and that batch was cut from the old position.
   */
  async dropReadAhead(): Promise<void> {
    const pending = this.readAhead;
    this.readAhead = null;
    if (pending) {
      const polled = await pending.catch(() => null);
      if (polled?.kind === 'batch') await polled.scanned?.catch(() => undefined);
    }
  }

  /**
   * Re-runs a batch from the offsets log (recovery) as the next batch id, with the boundaries the
   * source re-cut to the logged offsets. `emit: false` for a batch already committed: its rows
   * reached the sinks before, and it runs again only to rebuild the state.
   */
  async replayBatch(batch: SourceBatch | null, options: { emit: boolean }): Promise<void> {
    this.muteSinks = !options.emit;
    try {
      await this.runBatch(batch, 0);
    } finally {
      this.muteSinks = false;
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
  private nextPoll(): Promise<Polled> {
    const ready: Promise<Polled> = this.readAhead ?? this.source.poll();
    this.readAhead = null;
    if (this.source.readAhead === true && this.options.triggerMs === 0) {
      ready.then(
        (r) => {
          if (r.kind !== 'batch') return;
          const next: Promise<Polled> = this.source.poll().then((n) => {
            if (n.kind !== 'batch') return n;
            this.hooks.polledAhead?.(this.nextBatchId, n.batch);
            return { ...n, scanned: guarded(this.dispatchScans(this.nextBatchId, n.batch.splits)) };
          });
          next.catch(() => undefined); // handled when awaited; never an unhandled rejection meanwhile
          this.readAhead = next;
        },
        () => undefined,
      );
    }
    return ready;
  }

  /**
   * Stage 1 of a batch: one task per split, raw bytes transferred, on whichever worker frees up
   * first. Stateless, so it may run before the batch's turn (scan-ahead): nothing it does is
   * visible until stage 2, which always runs in batch order after the offsets log is written.
   */
  private dispatchScans(batchId: number, splits: readonly Split[]): Promise<ScanOutcome> {
    const tasks: TaskProgress[] = [];
    const all = Promise.all(
      splits.map(async (split, splitIndex) => {
        const transfer = split.payload.kind === 'bytes' ? [split.payload.bytes.buffer as ArrayBuffer] : [];
        const queuedAtMs = nowMs();
        const { workerId, result: r } = await this.pool.runScan<ScanTaskResult>(
          { kind: 'scan', batchId, splitIndex, maxRecordBytes: this.options.maxRecordBytes, maxSamples: 5, split: split.payload, ...this.context },
          transfer,
        );
        tasks.push({ stage: 1, splitIndex, partitionId: null, workerId, rows: r.records, startedAtMs: r.startedAtMs, durationMs: r.durationMs, queueWaitMs: Math.max(0, r.startedAtMs - queuedAtMs) });
        return r;
      }),
    );
    return all.then((scans) => ({ scans, tasks }));
  }

  /** Runs one batch: `batch` null is a no-data batch; `scanned` its stage 1 if already dispatched. */
  private async runBatch(batch: SourceBatch | null, sourceMs: number, scanned?: Promise<ScanOutcome>): Promise<void> {
    const batchId = this.nextBatchId++;
    const batchStart = nowMs();
    const elu = performance.eventLoopUtilization();
    const marks = this.watermark?.beginBatch() ?? null;
    try {
      await this.hooks.beforeBatch?.(batchId, batch);
      const splits = batch?.splits ?? [];

      // Stage 1: one task per split (dispatched already if the batch was polled ahead).
      const scanStart = nowMs();
      const { scans, tasks } = await (scanned ?? this.dispatchScans(batchId, splits));
      const shuffleStart = nowMs();
      this.logRejects(splits, scans);

      // Shuffle: each scan already grouped its partial rows by the worker owning their partition.
      const byWorker = Array.from({ length: this.pool.size }, (_, workerId) =>
        scans.map((scan) => scan.partials[workerId]).filter((p): p is PartialRows => p !== undefined && p.keys.length > 0),
      );

      // Stage 2: every worker steps all its partitions (eviction needs no input), in one message each.
      const statefulStart = nowMs();
      const steps = await Promise.all(
        byWorker.map((parts, workerId) => {
          const dispatchedAt = nowMs();
          return this.pool
            .runOn<StatefulTaskResult>(workerId, {
              kind: 'stateful',
              batchId,
              workerId,
              outputMode: this.options.outputMode,
              lateWatermarkMs: marks?.lateWatermarkMs ?? null,
              evictionWatermarkMs: marks?.evictionWatermarkMs ?? null,
              inputs: parts,
              ...this.context,
            })
            .then((r) => ({ r, dispatchedAt }));
        }),
      );
      const mergeStart = nowMs();

      // Merge: rows in a stable order, counters, watermark.
      const rows: ResultRow[] = [];
      let lateRows = 0;
      let updated = 0;
      let removed = 0;
      let stateGroups = 0;
      let stateBytes = 0;
      for (const { r, dispatchedAt } of steps) {
        let offset = r.startedAtMs;
        for (const p of r.partitions) {
          for (const row of p.rows) rows.push(row);
          lateRows += p.lateRows;
          updated += p.updatedGroups;
          removed += p.evictedGroups;
          stateGroups += p.stateGroups;
          stateBytes += p.stateBytes;
          if (p.inputRows > 0 || p.rows.length > 0 || p.evictedGroups > 0) {
            tasks.push({ stage: 2, splitIndex: null, partitionId: p.partitionId, workerId: r.workerId, rows: p.inputRows, startedAtMs: offset, durationMs: p.durationMs, queueWaitMs: Math.max(0, r.startedAtMs - dispatchedAt) });
          }
          offset += p.durationMs;
        }
      }
      sortRows(rows, this.options.query.orderBy);
      let records = 0;
      let rejected = 0;
      let filtered = 0;
      let matched = 0;
      let maxEventTimeMs: number | null = null;
      for (const s of scans) {
        records += s.records;
        rejected += s.rejected;
        filtered += s.filtered;
        matched += s.matched;
        if (s.maxEventTimeMs !== null && (maxEventTimeMs === null || s.maxEventTimeMs > maxEventTimeMs)) maxEventTimeMs = s.maxEventTimeMs;
      }
      this.watermark?.endBatch(maxEventTimeMs);

      const sinkStart = nowMs();
      await this.hooks.beforeEmit?.(batchId);
      if (!this.muteSinks) for (const sink of this.sinks) await sink.emit({ batchId, rows, drained: false });
      const checkpointStart = nowMs();
      await this.hooks.afterBatch?.(batchId);
      const end = nowMs();

      Object.assign(this.summary, {
        batches: this.summary.batches + 1,
        records: this.summary.records + records,
        rejected: this.summary.rejected + rejected,
        filtered: this.summary.filtered + filtered,
        matched: this.summary.matched + matched,
        lateRows: this.summary.lateRows + lateRows,
        rowsOut: this.summary.rowsOut + rows.length,
      });
      const wall = end - batchStart + sourceMs;
      const sinceLast = this.lastBatchStartMs === null ? wall : batchStart - this.lastBatchStartMs;
      this.lastBatchStartMs = batchStart;
      const workers: WorkerProgress[] = this.pool.loads.map((l) => {
        const mine = tasks.filter((t) => t.workerId === l.workerId);
        const busyMs = mine.reduce((n, t) => n + t.durationMs, 0);
        return { workerId: l.workerId, tasks: mine.length, busyMs, utilisation: wall > 0 ? Math.min(1, busyMs / wall) : 0 };
      });
      const q = this.options.query;
      const progress: ProgressRecord = {
        id: this.id,
        runId: this.runId,
        name: q.name,
        batchId,
        timestamp: new Date(batchStart).toISOString(),
        numInputRows: records,
        inputRowsPerSecond: sinceLast > 0 ? (records * 1000) / sinceLast : 0,
        processedRowsPerSecond: wall > 0 ? (records * 1000) / wall : 0,
        durationMs: {
          source: sourceMs,
          scan: shuffleStart - scanStart,
          shuffle: statefulStart - shuffleStart,
          stateful: mergeStart - statefulStart,
          merge: sinkStart - mergeStart,
          sink: checkpointStart - sinkStart,
          checkpoint: end - checkpointStart,
          total: wall,
        },
        eventTime: {
          ...(maxEventTimeMs !== null ? { max: isoMs(maxEventTimeMs) } : {}),
          ...(this.watermark ? { watermark: isoMs(this.watermark.watermarkMs) } : {}),
        },
        stateOperators: [
          { numRowsTotal: stateGroups, numRowsUpdated: updated, numRowsDroppedByWatermark: lateRows, numRowsRemoved: removed, memoryUsedBytes: stateBytes, numShufflePartitions: this.options.partitions },
        ],
        sources: [{ description: this.source.describe(), startOffset: batch?.startOffsets ?? null, endOffset: batch?.endOffsets ?? null, ...batch?.progress, numInputRows: records }],
        sink: { description: this.sinks.map((s) => s.name).join(', ') || 'none', numOutputRows: rows.length },
        kindling: {
          noDataBatch: batch === null,
          drained: false,
          rejected,
          filtered,
          matched,
          lateRows,
          watermarkMs: this.watermark?.watermarkMs ?? null,
          maxEventTimeMs,
          tasks,
          workers,
          mainThreadUtilisation: performance.eventLoopUtilization(elu).utilization,
        },
        ...(this.systemProbe ? { system: this.systemProbe() } : {}),
      };
      for (const listener of this.listeners) listener(progress);
    } catch (err) {
      const e = err as Error;
      throw new KindlingError((err as KindlingError).code ?? 'BATCH_FAILED', `batch ${batchId}: ${e.message}`, {
        domain: (err as KindlingError).domain ?? 'internal',
        cause: err,
      });
    }
  }

  /** The --drain batch: every open group leaves as a forced row. */
  private async drainBatch(): Promise<void> {
    const batchId = this.nextBatchId++;
    const results = await Promise.all(
      this.pool.loads.map((l) => this.pool.runOn<DrainTaskResult>(l.workerId, { kind: 'drain', workerId: l.workerId, ...this.context })),
    );
    const rows = sortRows(results.flatMap((r) => r.rows), this.options.query.orderBy);
    for (const sink of this.sinks) await sink.emit({ batchId, rows, drained: true });
    this.summary.rowsOut += rows.length;
    this.summary.batches++;
    this.options.log(`drained: ${rows.length} row(s) from open windows emitted as batch ${batchId}, tagged forced`);
  }

  /** Logs the first rejected records with their position; all are counted. */
  private logRejects(splits: readonly Split[], scans: readonly ScanTaskResult[]): void {
    for (let i = 0; i < splits.length; i++) {
      const origin = splits[i]!.origin;
      const scan = scans[i]!;
      const before = this.recordsSeen.get(origin.label) ?? 0;
      this.recordsSeen.set(origin.label, before + scan.records);
      for (const sample of scan.samples) {
        if (this.loggedRejects >= this.options.maxLoggedRejects) return;
        this.loggedRejects++;
        const where = origin.recordOffsets
          ? `${origin.label} offset ${origin.recordOffsets[sample.recordIndex]}`
          : origin.firstIndex !== undefined
            ? `${origin.label} event ${origin.firstIndex + sample.recordIndex}`
            : `${origin.label} line ${before + sample.recordIndex + 1}`;
        this.options.log(`rejected record at ${where}: ${sample.reason}: ${sample.excerpt}`);
        if (this.loggedRejects === this.options.maxLoggedRejects) this.options.log('(further rejected records are counted, not logged)');
      }
    }
  }
}
