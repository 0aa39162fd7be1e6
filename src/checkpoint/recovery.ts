// Checkpointing a run: write-ahead offsets, commits, periodic snapshots; restore, replay, and roll back after a lost worker.
import { readFile } from 'node:fs/promises';
import { isDeepStrictEqual } from 'node:util';
import type { RunConfig } from '../config.js';
import type { BatchHooks, Coordinator, RunSummary } from '../engine/coordinator.js';
import type { WorkerPool } from '../engine/pool.js';
import type { RestoreTaskResult, SnapshotTaskResult, TaskContext } from '../engine/protocol.js';
import { KindlingError, type ErrorCode } from '../errors.js';
import { queryFingerprint, type OutputMode, type Query, type QueryRef } from '../query/query.js';
import { isResumable, type ResumableSource, type Source, type SourceBatch } from '../source/source.js';
import {
  decodeSnapshot,
  encodeSnapshot,
  queryChanges,
  SNAPSHOT_FORMAT_VERSION,
  SnapshotCorrupt,
  stateRows,
  toPartitionState,
  type QueryIdentity,
  type Snapshot,
} from './format.js';
import { PARTITION_HASH, routeState } from './route.js';
import { CheckpointStore, type CheckpointMetadata, type OffsetsEntry } from './store.js';

/** Snapshots kept; the offsets and commit logs keep what a restore from the oldest of them needs. */
export const SNAPSHOTS_KEPT = 3;
/** A batch that loses a worker this many times in a row stops the run (a crash that replays itself). */
export const MAX_RECOVERIES_PER_BATCH = 3;
/** Error codes after which the workers' state cannot be trusted, but a rollback can continue the run. */
const WORKER_LOSS: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['WORKER_DIED', 'WORKER_REPLACED', 'TASK_FAILED']);

/** The parts of an assembled run that checkpointing drives. */
export interface CheckpointedRun {
  readonly coordinator: Coordinator;
  readonly pool: WorkerPool;
  readonly source: Source;
  readonly query: Query;
  readonly queryRef: QueryRef;
  readonly outputMode: OutputMode;
  readonly partitions: number;
}

/** A snapshot that could not be used, and why. */
export interface SkippedSnapshot {
  readonly file: string;
  readonly batchId: number;
  readonly reason: string;
}

/** What a restore found and did: the banner's "resuming from" line. */
export interface ResumeInfo {
  /** False: an empty checkpoint, the run starts at batch 0. */
  readonly resumed: boolean;
  /** The first batch id that runs (replayed or new). */
  readonly fromBatchId: number;
  readonly snapshotBatchId: number | null;
  readonly snapshotWrittenAt: { readonly partitions: number; readonly workers: number } | null;
  readonly watermarkMs: number | null;
  readonly stateRows: number;
  readonly sourceOffsets: unknown;
  /** Logged batches that run again with their logged boundaries, and how many of them were committed. */
  readonly replay: readonly number[];
  readonly replayCommitted: number;
  readonly skipped: readonly SkippedSnapshot[];
}

/** The query identity a checkpoint stores and checks. */
export function queryIdentity(query: Query, outputMode: OutputMode): QueryIdentity {
  return { name: query.name, outputMode, fingerprint: queryFingerprint(query) };
}

/**
 * Continues a generator stream where a checkpoint left it: without --start-time the generator
 * would start at "now", a different stream, so the checkpoint's start time is used (and said).
 * Other generator settings must match; that is checked once the source exists.
 */
export async function adoptCheckpointSettings(config: RunConfig, store: CheckpointStore, log: (line: string) => void): Promise<RunConfig> {
  const metadata = await store.readMetadata();
  if (!metadata || config.source.kind !== 'generator' || metadata.source.name !== 'generator' || config.source.startTimeGiven) return config;
  const saved = (metadata.source.identity as { startTimeMs?: unknown } | null)?.startTimeMs;
  if (typeof saved !== 'number' || saved === config.source.spec.startTimeMs) return config;
  log(`checkpoint: the generator continues the checkpoint's stream, which started at ${new Date(saved).toISOString()} (give --start-time to set it)`);
  return { ...config, source: { ...config.source, spec: { ...config.source.spec, startTimeMs: saved } } };
}

/**
 * Plugs into the coordinator's BatchHooks. The order of one batch, and why it is safe to kill the
 * process at any instant (each step is one durable atomic file):
 *
 *   1. offsets/N   the source range, before the batch runs: a restart re-cuts exactly this range
 *   2. the batch runs; the sinks write (jsonl: batch-N.jsonl atomically, overwritten by a replay)
 *   3. commits/N   the output of N is final: a replay of N does not emit again
 *   4. every `every` batches, snapshots/N: state, watermark, source offsets after N
 *
 * A restart restores the newest valid snapshot S and re-runs every logged batch after S
 * (committed ones only to rebuild state, the uncommitted one to finish it), then continues.
 */
export class Checkpointer implements BatchHooks {
  private run: CheckpointedRun | null = null;
  private identity: QueryIdentity | null = null;
  private context: TaskContext | null = null;
  /** The source's position after the last data batch (what a snapshot stores); null: at its start. */
  private sourceOffsets: unknown = null;
  /** Logged batches still to replay, by id. */
  private replaying = new Map<number, OffsetsEntry>();
  private committed = new Set<number>();
  private lastBatchId: number | null = null;
  private lastSnapshotBatchId: number | null = null;
  /** Rollbacks after a lost worker during this process's life. */
  recoveries = 0;
  /** The running batch's offsets write, awaited before its output exists. */
  private offsetsWrites: Array<Promise<void>> = [];
  /** The batch that began last; a batch polled ahead is only pre-logged as the one right after it. */
  private begunBatchId: number | null = null;
  /** The offsets entry written ahead for the batch polled ahead (see polledAhead). */
  private aheadWrite: { readonly entry: OffsetsEntry; readonly write: Promise<void> } | null = null;
  /** Commit writes in flight (advisory: awaited only by flush). */
  private readonly commitWrites = new Set<Promise<void>>();
  /** The snapshot being encoded and written in the background (one at a time). */
  private snapshotWrite: Promise<void> | null = null;
  private snapshotWriting = false;
  /** Snapshots not taken because the previous one was still being written when they were due. */
  deferredSnapshots = 0;
  /** The first background write that failed: every later hook rethrows it, so the run stops. */
  private writeFailure: unknown = null;

  constructor(
    readonly store: CheckpointStore,
    private readonly options: { readonly every: number; readonly keep?: number; readonly log: (line: string) => void },
  ) {}

  /** Opens (creating) the directory: a user error if it cannot be written. */
  static async open(options: { readonly dir: string; readonly every: number; readonly keep?: number; readonly log: (line: string) => void }): Promise<Checkpointer> {
    const store = await CheckpointStore.open(options.dir);
    const delay = Number(process.env['KINDLING_TEST_SNAPSHOT_WRITE_DELAY_MS'] ?? 0);
    if (delay > 0) store.snapshotWriteDelayMs = delay;
    return new Checkpointer(store, options);
  }

  /**
   * Binds the run and checks that the checkpoint belongs to this query and input; a new directory
   * gets its metadata. A changed query is refused, naming what changed and what to do.
   */
  async attach(run: CheckpointedRun): Promise<void> {
    if (!isResumable(run.source)) {
      throw new KindlingError('CHECKPOINT_SOURCE', `--checkpoint-dir: the ${run.source.name} source cannot resume from a checkpoint (it has no seek)`, { domain: 'user' });
    }
    this.run = run;
    this.identity = queryIdentity(run.query, run.outputMode);
    this.context = { queryRef: run.queryRef, partitions: run.partitions, workers: run.pool.size };
    const sourceIdentity = { name: run.source.name, identity: run.source.identity() };
    const metadata = await this.store.readMetadata();
    if (metadata === null) {
      const fresh: CheckpointMetadata = { formatVersion: SNAPSHOT_FORMAT_VERSION, createdAt: new Date().toISOString(), query: this.identity, source: sourceIdentity };
      await this.store.writeMetadata(fresh);
      return;
    }
    this.checkQuery(metadata.query, 'it');
    if (metadata.source.name !== sourceIdentity.name || !isDeepStrictEqual(metadata.source.identity, sourceIdentity.identity)) {
      throw new KindlingError(
        'CHECKPOINT_SOURCE',
        `--checkpoint-dir ${this.store.dir} holds offsets into another input: ${describeSourceChange(metadata.source, sourceIdentity)}. ` +
          'Offsets only make sense in the input they were taken from: resume with the same source settings, or use a new --checkpoint-dir to start over.',
        { domain: 'user' },
      );
    }
  }

  /**
   * Restores the newest valid snapshot into the workers (re-hashed for this run's partitioning),
   * the watermark and the batch id, and seeks the source; the logged batches after it are then
   * replayed by `runToEnd`. A corrupt snapshot is reported and the one before it used.
   */
  async restore(): Promise<ResumeInfo> {
    const run = this.bound();
    const { log } = this.options;
    this.begunBatchId = null; // no writes ahead while the state and the source move
    // What was being written must be on disk (or have failed) before the directory is read.
    await this.flush();
    this.aheadWrite = null;
    const logged = await this.store.loggedBatchIds();
    const committed = await this.store.committedBatchIds();
    const files = await this.store.snapshotFiles();
    const skipped: SkippedSnapshot[] = [];
    let snapshot: Snapshot | null = null;
    for (const file of files) {
      try {
        snapshot = decodeSnapshot(await readFile(file.path));
      } catch (err) {
        if (!(err instanceof SnapshotCorrupt)) throw err;
        skipped.push({ file: file.path, batchId: file.batchId, reason: err.reason });
        log(`checkpoint: snapshot ${file.path} is unusable (${err.reason}); trying the one before it`);
        continue;
      }
      if (snapshot.batchId !== file.batchId) {
        skipped.push({ file: file.path, batchId: file.batchId, reason: `it holds batch ${snapshot.batchId}` });
        snapshot = null;
        continue;
      }
      this.checkQuery(snapshot.query, `snapshot ${file.path}`);
      break;
    }
    const fromBatchId = snapshot ? snapshot.batchId + 1 : 0;
    const replayIds = logged.filter((id) => id >= fromBatchId);
    if (!snapshot && files.length > 0 && logged[0] !== 0) {
      throw new KindlingError(
        'CHECKPOINT_CORRUPT',
        `checkpoint ${this.store.dir}: no snapshot is usable (${skipped.map((s) => `batch ${s.batchId}: ${s.reason}`).join('; ')}) and the offsets log no longer reaches back to batch 0, so the state cannot be rebuilt. Use a new --checkpoint-dir to start over.`,
        { domain: 'user' },
      );
    }
    replayIds.forEach((id, i) => {
      if (id !== fromBatchId + i) {
        throw new KindlingError('CHECKPOINT_CORRUPT', `checkpoint ${this.store.dir}: the offsets log has a gap before batch ${id} (expected ${fromBatchId + i}); use a new --checkpoint-dir`, { domain: 'user' });
      }
    });
    const entries = await Promise.all(replayIds.map((id) => this.store.readOffsets(id)));

    // Nothing may still be reading: a batch polled ahead or a task of the failed batch.
    await run.coordinator.dropReadAhead();
    // State: every worker gets a restore task, an empty one included (it clears what a rollback found).
    await run.pool.quiesce();
    run.pool.acceptReplacedThreads();
    const shares = routeState(snapshot?.state ?? [], snapshot?.partitioning ?? null, { partitions: run.partitions, workers: run.pool.size });
    await Promise.all(
      shares.map((partitionEntries, workerId) =>
        run.pool.runOn<RestoreTaskResult>(workerId, { kind: 'restore', workerId, partitionEntries, ...this.context! }),
      ),
    );
    const tracker = run.coordinator.watermarkTracker;
    tracker?.restore(snapshot?.watermark ?? { watermarkMs: 0, lastEvictionWatermarkMs: 0 });
    run.coordinator.batchId = fromBatchId;

    // Source: where the snapshot left it, or the start of the first logged batch.
    const firstData = entries.find((e) => !e.noData);
    const seekTo = snapshot?.sourceOffsets ?? firstData?.startOffsets ?? null;
    if (seekTo !== null) await (run.source as ResumableSource).seek(seekTo);
    this.sourceOffsets = seekTo;
    this.replaying = new Map(entries.map((e) => [e.batchId, e]));
    this.committed = new Set(committed);
    this.lastBatchId = snapshot?.batchId ?? null;
    this.lastSnapshotBatchId = snapshot?.batchId ?? null;
    const resumed = snapshot !== null || entries.length > 0;
    return {
      resumed,
      fromBatchId,
      snapshotBatchId: snapshot?.batchId ?? null,
      snapshotWrittenAt: snapshot ? { partitions: snapshot.partitioning.partitions, workers: snapshot.partitioning.workers } : null,
      watermarkMs: snapshot?.watermark?.watermarkMs ?? (tracker ? 0 : null),
      stateRows: snapshot ? stateRows(snapshot) : 0,
      sourceOffsets: seekTo,
      replay: replayIds,
      replayCommitted: replayIds.filter((id) => this.committed.has(id)).length,
      skipped,
    };
  }

  /**
   * Replays the logged batches, then runs until the input ends or `signal` aborts. A lost worker
   * (a thread that died, was replaced, or threw) is replaced by the pool; the engine rolls every
   * worker back to the last snapshot and replays, so nothing is lost or emitted twice.
   */
  async runToEnd(signal: AbortSignal): Promise<RunSummary> {
    const run = this.bound();
    const { log } = this.options;
    let failedBatch = -1;
    let attempts = 0;
    let rollBack = false;
    for (;;) {
      try {
        if (rollBack) {
          const info = await this.restore();
          log(`recovery ${this.recoveries}: ${describeResume(info)}`);
          rollBack = false;
        }
        await this.replay();
        return await run.coordinator.run(signal);
      } catch (err) {
        const code = (err as KindlingError).code;
        if (!WORKER_LOSS.has(code)) throw err;
        const batchId = run.coordinator.batchId - 1;
        attempts = batchId === failedBatch ? attempts + 1 : 1;
        failedBatch = batchId;
        this.recoveries++;
        if (attempts > MAX_RECOVERIES_PER_BATCH) {
          throw new KindlingError('WORKER_LOST', `batch ${batchId} lost a worker ${attempts} times in a row; giving up (last: ${(err as Error).message})`, { cause: err });
        }
        log(`worker lost (${(err as Error).message}); recovery ${this.recoveries}: the pool replaces the thread, every worker rolls back to the last snapshot`);
        rollBack = true;
      }
    }
  }

  async beforeBatch(batchId: number, batch: SourceBatch | null): Promise<void> {
    this.throwIfWriteFailed();
    this.begunBatchId = batchId;
    const watermarkMs = this.bound().coordinator.watermarkTracker?.lastEvictionWatermarkMs ?? null;
    const ahead = this.aheadWrite;
    this.aheadWrite = null;
    const logged = this.replaying.get(batchId);
    if (logged) {
      if (ahead) this.offsetsWrites.push(ahead.write);
      // A replay: the range must be the logged one (the replay cut it so); the watermark too, or
      // the engine was not deterministic and the output would differ from the first run.
      if (!isDeepStrictEqual(logged.startOffsets, batch?.startOffsets ?? null) || !isDeepStrictEqual(logged.endOffsets, batch?.endOffsets ?? null)) {
        throw new KindlingError('REPLAY_DIVERGED', `replay of batch ${batchId}: the source cut ${JSON.stringify(batch?.startOffsets ?? null)}..${JSON.stringify(batch?.endOffsets ?? null)}, the log says ${JSON.stringify(logged.startOffsets)}..${JSON.stringify(logged.endOffsets)}`);
      }
      if (!logged.polledAhead && logged.watermarkMs !== watermarkMs) {
        throw new KindlingError('REPLAY_DIVERGED', `replay of batch ${batchId}: watermark ${watermarkMs} but the batch first ran with ${logged.watermarkMs}`);
      }
    } else {
      // Write-ahead, but not in the batch's way: the fsyncs overlap its scans, and beforeEmit
      // holds the output back until the range is durable.
      const entry: OffsetsEntry = {
        batchId,
        startOffsets: batch?.startOffsets ?? null,
        endOffsets: batch?.endOffsets ?? null,
        noData: batch === null,
        watermarkMs,
        writtenAt: new Date().toISOString(),
      };
      if (ahead && ahead.entry.batchId === batchId && isDeepStrictEqual(ahead.entry.startOffsets, entry.startOffsets) && isDeepStrictEqual(ahead.entry.endOffsets, entry.endOffsets)) {
        this.offsetsWrites.push(ahead.write);
      } else {
        // A write ahead that turned out wrong (it should not) finishes first: it is the same file.
        const first = ahead?.write ?? Promise.resolve();
        this.offsetsWrites.push(this.track(first.then(() => this.store.writeOffsets(entry))));
      }
    }
    if (batch) this.sourceOffsets = batch.endOffsets;
  }

  /**
   * The coordinator polled the next batch while this one runs: log its range now, so its fsyncs
   * overlap this batch instead of holding back the next one's output. Only for the batch right
   * after the running one, starting where it ends; anything else is left to beforeBatch.
   */
  polledAhead(batchId: number, batch: SourceBatch): void {
    if (this.writeFailure !== null || this.aheadWrite !== null || this.begunBatchId === null) return;
    if (batchId !== this.begunBatchId + 1 || this.replaying.has(batchId) || !isDeepStrictEqual(batch.startOffsets, this.sourceOffsets)) return;
    const entry: OffsetsEntry = {
      batchId,
      startOffsets: batch.startOffsets,
      endOffsets: batch.endOffsets,
      noData: false,
      watermarkMs: null,
      polledAhead: true,
      writtenAt: new Date().toISOString(),
    };
    this.aheadWrite = { entry, write: this.track(this.store.writeOffsets(entry)) };
  }

  /** No output before its batch's range is durable (a replay must be able to re-cut what a sink holds). */
  async beforeEmit(): Promise<void> {
    await Promise.all(this.offsetsWrites.splice(0));
    this.throwIfWriteFailed();
  }

  async afterBatch(batchId: number): Promise<void> {
    this.throwIfWriteFailed();
    if (!this.committed.has(batchId)) {
      // A commit lost in a crash only means the batch replays and its sinks write the same again.
      const write: Promise<void> = this.track(this.store.writeCommit({ batchId, committedAt: new Date().toISOString() })).then(() => {
        this.commitWrites.delete(write);
      });
      this.commitWrites.add(write);
      this.committed.add(batchId);
    }
    this.replaying.delete(batchId);
    this.lastBatchId = batchId;
    if ((batchId + 1) % this.options.every === 0) {
      // A slow disk must not stall the batches: while the last snapshot is still being written,
      // this one is left to the next turn (the logs cover the batches in between).
      if (this.snapshotWriting) this.deferredSnapshots++;
      else await this.snapshot(batchId);
    }
  }

  /** A stop (end of input or Ctrl-C) snapshots the last batch, so the next start replays nothing. */
  async afterLastBatch(): Promise<void> {
    if (this.lastBatchId !== null && this.lastBatchId !== this.lastSnapshotBatchId && this.replaying.size === 0) await this.snapshot(this.lastBatchId);
    await this.flush();
  }

  /** Waits for every write in flight, the snapshot included; rethrows a failed one. */
  async flush(): Promise<void> {
    await this.aheadWrite?.write;
    await this.beforeEmit();
    await Promise.all([...this.commitWrites]);
    await this.snapshotWrite;
    this.throwIfWriteFailed();
  }

  /**
   * Reads every worker's state (the batch loop waits for that), then encodes and writes
   * snapshots/<batchId> and prunes old files in the background, overlapping the next batch.
   * `written` resolves with the file's size once it is durable.
   */
  async snapshot(batchId: number): Promise<{ rows: number; written: Promise<number> }> {
    const run = this.bound();
    await this.snapshotWrite;
    this.throwIfWriteFailed();
    const results = await Promise.all(
      run.pool.loads.map((l) => run.pool.runOn<SnapshotTaskResult>(l.workerId, { kind: 'snapshot', workerId: l.workerId, ...this.context! })),
    );
    const state = results.flatMap((r) => r.partitionEntries.map((p) => toPartitionState(p.partitionId, p.entries))).sort((a, b) => a.partitionId - b.partitionId);
    const snapshot: Snapshot = {
      formatVersion: SNAPSHOT_FORMAT_VERSION,
      batchId,
      createdAtMs: Date.now(),
      query: this.identity!,
      partitioning: { partitions: run.partitions, workers: run.pool.size, hash: PARTITION_HASH },
      sourceOffsets: this.sourceOffsets,
      watermark: run.coordinator.watermarkTracker?.toJSON() ?? null,
      state,
    };
    this.snapshotWriting = true;
    const written = (async () => {
      try {
        // Let the next batch dispatch its tasks first: the encoding then runs while the workers scan.
        await new Promise((resolve) => setImmediate(resolve));
        const bytes = encodeSnapshot(snapshot);
        await this.store.writeSnapshot(batchId, bytes);
        await this.store.prune(this.options.keep ?? SNAPSHOTS_KEPT);
        return bytes.length;
      } finally {
        this.snapshotWriting = false;
      }
    })();
    this.snapshotWrite = this.track(written);
    this.lastSnapshotBatchId = batchId;
    return { rows: stateRows(snapshot), written };
  }

  /** The write's outcome without an unhandled rejection: a failure is kept for the next hook to throw. */
  private track(write: Promise<unknown>): Promise<void> {
    return write.then(
      () => undefined,
      (err: unknown) => {
        this.writeFailure ??= err;
      },
    );
  }

  private throwIfWriteFailed(): void {
    if (this.writeFailure !== null) throw this.writeFailure;
  }

  /** Re-runs the logged batches not yet replayed, each cut to its logged end offsets. */
  private async replay(): Promise<void> {
    const run = this.bound();
    const source = run.source as ResumableSource;
    for (const entry of [...this.replaying.values()].sort((a, b) => a.batchId - b.batchId)) {
      if (run.coordinator.batchId !== entry.batchId) {
        throw new KindlingError('REPLAY_DIVERGED', `replay: next batch is ${run.coordinator.batchId}, the log continues with ${entry.batchId}`);
      }
      let batch: SourceBatch | null = null;
      if (!entry.noData) {
        const polled = await source.pollUntil(entry.endOffsets);
        if (polled.kind !== 'batch') {
          throw new KindlingError(
            'CHECKPOINT_INPUT',
            `replay of batch ${entry.batchId}: the input ends before the logged end ${JSON.stringify(entry.endOffsets)} (was it shortened or replaced?); use a new --checkpoint-dir to start over`,
            { domain: 'user' },
          );
        }
        batch = polled.batch;
      }
      await run.coordinator.replayBatch(batch, { emit: !this.committed.has(entry.batchId) });
    }
  }

  private checkQuery(saved: QueryIdentity, what: string): void {
    const changes = queryChanges(saved, this.identity!);
    if (changes.length === 0) return;
    throw new KindlingError(
      'CHECKPOINT_QUERY_CHANGED',
      `--checkpoint-dir ${this.store.dir}: ${what} was written by a different query (${changes.join('; ')}). ` +
        'Its state and offsets only make sense for the query that wrote them: use a new --checkpoint-dir for the changed query (or run the original query to resume).',
      { domain: 'user' },
    );
  }

  private bound(): CheckpointedRun {
    if (!this.run) throw new KindlingError('CHECKPOINT_UNBOUND', 'checkpointer used before attach()');
    return this.run;
  }
}

function describeSourceChange(saved: { name: string; identity: unknown }, now: { name: string; identity: unknown }): string {
  if (saved.name !== now.name) return `it was written for the ${saved.name} source, this run reads ${now.name}`;
  const a = (saved.identity ?? {}) as Record<string, unknown>;
  const b = (now.identity ?? {}) as Record<string, unknown>;
  const diffs = [...new Set([...Object.keys(a), ...Object.keys(b)])]
    .filter((k) => !isDeepStrictEqual(a[k], b[k]))
    .map((k) => `${k} ${JSON.stringify(a[k])} -> ${JSON.stringify(b[k])}`);
  return diffs.join(', ') || 'its settings differ';
}

const clock = (ms: number): string => new Date(ms).toISOString().slice(11, 19);

/** One line: what a restore found ("resuming from batch 812, watermark 10:41:20, 4,213 state rows, offsets {…}"). */
export function describeResume(info: ResumeInfo): string {
  if (!info.resumed) return 'new (nothing to resume)';
  const parts = [`resuming from batch ${info.fromBatchId}`];
  if (info.watermarkMs !== null) parts.push(`watermark ${clock(info.watermarkMs)}`);
  parts.push(`${info.stateRows.toLocaleString('en-US')} state rows`);
  parts.push(`offsets ${info.sourceOffsets === null ? '(start of input)' : JSON.stringify(info.sourceOffsets)}`);
  let line = parts.join(', ');
  if (info.snapshotBatchId !== null) {
    const w = info.snapshotWrittenAt!;
    line += ` (snapshot of batch ${info.snapshotBatchId}, written with ${w.partitions} partition(s) on ${w.workers} worker(s))`;
  } else line += ' (no snapshot yet: state rebuilt from batch 0)';
  if (info.replay.length > 0) {
    const first = info.replay[0]!;
    const last = info.replay[info.replay.length - 1]!;
    line += `; replaying logged batch${first === last ? ` ${first}` : `es ${first}-${last}`} with their boundaries (${info.replayCommitted} committed: output not re-emitted)`;
  }
  for (const s of info.skipped) line += `; skipped corrupt snapshot of batch ${s.batchId}: ${s.reason}`;
  return line;
}
