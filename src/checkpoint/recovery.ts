// Recovery: checks that a checkpoint belongs to this run, and reads it into a plan the batch loop carries out.
import { isDeepStrictEqual } from 'node:util';
import type { RunConfig } from '../config.js';
import { KindlingError } from '../errors.js';
import { planFingerprint, type QueryPlan } from '../plan/plan.js';
import { isResumable, type ResumableSource, type Source, type SourceBatch } from '../source/source.js';
import { decodeSnapshot, queryChanges, SNAPSHOT_FORMAT_VERSION, SnapshotCorrupt, SnapshotFormatError, stateRows, type Partitioning, type PartitionState, type QueryIdentity, type SavedWatermark, type Snapshot } from './format.js';
import type { CheckpointLog, OffsetsEntry } from './log.js';

/** Snapshots kept; the offsets and commit logs keep what a restore from the oldest of them needs. */
export const SNAPSHOTS_KEPT = 3;

/**
 * Batches the offsets and commit logs keep by default (--checkpoint-retain), beyond what a restore
 * needs, so `kindling explain` and `what-if` can replay the run: 10,000 batches take two files
 * each, about 80 MiB on a file system with 4 KiB blocks (the files themselves are ~300 bytes).
 */
export const RETAINED_BATCHES = 10_000;

/** A snapshot that could not be used, and why. */
export interface SkippedSnapshot {
  readonly file: string;
  readonly batchId: number;
  readonly reason: string;
}

/** A logged batch to run again with its logged boundaries; a committed one only rebuilds state (its output exists). */
export interface ReplayedBatch<O> {
  readonly entry: OffsetsEntry<O>;
  readonly committed: boolean;
}

/**
 * What a restart (or a rollback after a lost worker) must do, read from the checkpoint. The batch
 * loop carries it out: load `state` into the workers, set the watermark and the next batch id,
 * seek the source to `sourcePosition`, then run `replay` in order.
 */
export interface RecoveryPlan<O> {
  /** The first batch id that runs (replayed or new). */
  readonly startBatchId: number;
  /** The snapshot the state comes from; null: none usable, the state is rebuilt from batch 0. */
  readonly snapshot: { readonly batchId: number; readonly partitioning: Partitioning } | null;
  /** Null: the watermark starts at 0. */
  readonly watermark: SavedWatermark | null;
  /** Where the source continues: the snapshot's position, or the start of the first logged data batch; null: its start. */
  readonly sourcePosition: O | null;
  /** The sourceMetadata logged with that position (Kafka: the topic id), if any. */
  readonly sourceMetadata: unknown;
  readonly state: readonly PartitionState[];
  readonly replay: readonly ReplayedBatch<O>[];
  readonly skipped: readonly SkippedSnapshot[];
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
export function queryIdentity(plan: QueryPlan): QueryIdentity {
  return { name: plan.name, outputMode: plan.outputMode, fingerprint: planFingerprint(plan) };
}

/**
 * Continues a generator stream where a checkpoint left it: without --start-time the generator
 * would start at "now", a different stream, so the checkpoint's start time is used (and said).
 * Other generator settings must match; that is checked once the source exists.
 */
export async function adoptCheckpointSettings(config: RunConfig, log: CheckpointLog, say: (line: string) => void): Promise<RunConfig> {
  const metadata = await log.readMetadata();
  if (!metadata || config.source.kind !== 'generator' || metadata.source.name !== 'generator' || config.source.startTimeGiven) return config;
  const saved = (metadata.source.identity as { startTimeMs?: unknown } | null)?.startTimeMs;
  if (typeof saved !== 'number' || saved === config.source.spec.startTimeMs) return config;
  say(`checkpoint: the generator continues the checkpoint's stream, which started at ${new Date(saved).toISOString()} (give --start-time to set it)`);
  return { ...config, source: { ...config.source, spec: { ...config.source.spec, startTimeMs: saved } } };
}

/**
 * Checks that the checkpoint belongs to this query and input, before anything is read from it; a
 * new directory gets its metadata. A changed query or input is refused, naming what changed.
 */
export async function bindCheckpoint<O>(log: CheckpointLog, identity: QueryIdentity, source: Source<O>): Promise<ResumableSource<O>> {
  if (!isResumable(source)) {
    throw new KindlingError('CHECKPOINT_SOURCE', `--checkpoint-dir: the ${source.name} source cannot resume from a checkpoint (it has no seek)`, { domain: 'user' });
  }
  const sourceIdentity = { name: source.name, identity: source.identity() };
  const metadata = await log.readMetadata();
  if (metadata === null) {
    await log.writeMetadata({ formatVersion: SNAPSHOT_FORMAT_VERSION, createdAt: new Date().toISOString(), query: identity, source: sourceIdentity });
    return source;
  }
  if (metadata.formatVersion !== SNAPSHOT_FORMAT_VERSION) {
    throw new KindlingError('CHECKPOINT_FORMAT', `--checkpoint-dir ${log.dir} was ${new SnapshotFormatError(metadata.formatVersion).message}; its state cannot be read: use a new --checkpoint-dir`, { domain: 'user' });
  }
  checkQuery(log, metadata.query, identity, 'it');
  if (metadata.source.name !== sourceIdentity.name || !isDeepStrictEqual(metadata.source.identity, sourceIdentity.identity)) {
    throw new KindlingError(
      'CHECKPOINT_SOURCE',
      `--checkpoint-dir ${log.dir} holds offsets into another input: ${describeSourceChange(metadata.source, sourceIdentity)}. ` +
        'Offsets only make sense in the input they were taken from: resume with the same source settings, or use a new --checkpoint-dir to start over.',
      { domain: 'user' },
    );
  }
  return source;
}

/**
 * The query's id as the checkpoint keeps it: Spark writes the id into its checkpoint when a query first starts, and
 * every restart on that checkpoint is the same query (the same id, a new runId). A checkpoint without one (new, or
 * written before ids were kept) gets `fresh`. Call after bindCheckpoint, which writes the metadata of a new one.
 */
export async function checkpointQueryId(log: CheckpointLog, fresh: string): Promise<string> {
  const metadata = await log.readMetadata();
  if (metadata?.queryId) return metadata.queryId;
  if (metadata) await log.writeMetadata({ ...metadata, queryId: fresh });
  return fresh;
}

/**
 * Reads the checkpoint into a plan: the newest valid snapshot (a corrupt one is reported and the
 * one before it used) and every logged batch after it, which must follow it without a gap.
 * Offsets (JSON on disk) become the source's through `parseOffsets`, which refuses ones that do not
 * fit the input. It only reads; the caller must have let every write in flight settle.
 */
export async function planRecovery<O>(log: CheckpointLog, identity: QueryIdentity, parseOffsets: (json: unknown) => O, say: (line: string) => void): Promise<RecoveryPlan<O>> {
  const logged = await log.loggedBatchIds();
  const committed = new Set(await log.committedBatchIds());
  const listings = await log.snapshotFiles();
  const skipped: SkippedSnapshot[] = [];
  let snapshot: Snapshot | null = null;
  for (const listing of listings) {
    try {
      snapshot = decodeSnapshot(await log.readSnapshot(listing));
    } catch (err) {
      if (err instanceof SnapshotFormatError) {
        throw new KindlingError('CHECKPOINT_FORMAT', `--checkpoint-dir ${log.dir}: snapshot ${listing.path} was ${err.message}; use a new --checkpoint-dir`, { domain: 'user' });
      }
      if (!(err instanceof SnapshotCorrupt)) throw err;
      skipped.push({ file: listing.path, batchId: listing.batchId, reason: err.reason });
      say(`checkpoint: snapshot ${listing.path} is unusable (${err.reason}); trying the one before it`);
      continue;
    }
    if (snapshot.batchId !== listing.batchId) {
      skipped.push({ file: listing.path, batchId: listing.batchId, reason: `it holds batch ${snapshot.batchId}` });
      snapshot = null;
      continue;
    }
    checkQuery(log, snapshot.query, identity, `snapshot ${listing.path}`);
    break;
  }
  const startBatchId = snapshot ? snapshot.batchId + 1 : 0;
  const replayIds = logged.filter((id) => id >= startBatchId);
  if (!snapshot && listings.length > 0 && logged[0] !== 0) {
    throw new KindlingError(
      'CHECKPOINT_CORRUPT',
      `checkpoint ${log.dir}: no snapshot is usable (${skipped.map((s) => `batch ${s.batchId}: ${s.reason}`).join('; ')}) and the offsets log no longer reaches back to batch 0, so the state cannot be rebuilt. Use a new --checkpoint-dir to start over.`,
      { domain: 'user' },
    );
  }
  replayIds.forEach((id, i) => {
    if (id !== startBatchId + i) {
      throw new KindlingError('CHECKPOINT_CORRUPT', `checkpoint ${log.dir}: the offsets log has a gap before batch ${id} (expected ${startBatchId + i}); use a new --checkpoint-dir`, { domain: 'user' });
    }
  });
  const parse = (json: unknown): O | null => (json === null || json === undefined ? null : parseOffsets(json));
  const entries = (await Promise.all(replayIds.map((id) => log.readOffsets(id)))).map(
    (e): OffsetsEntry<O> => ({ ...e, startOffsets: parse(e.startOffsets), endOffsets: parse(e.endOffsets) }),
  );
  const firstData = entries.find((e) => !e.noData);
  const snapshotPosition = parse(snapshot?.sourceOffsets);
  return {
    startBatchId,
    snapshot: snapshot ? { batchId: snapshot.batchId, partitioning: snapshot.partitioning } : null,
    watermark: snapshot?.watermark ?? null,
    sourcePosition: snapshotPosition ?? firstData?.startOffsets ?? null,
    sourceMetadata: snapshotPosition !== null ? await metadataUpTo(log, logged, snapshot!.batchId) : firstData?.sourceMetadata,
    state: snapshot?.state ?? [],
    replay: entries.map((entry) => ({ entry, committed: committed.has(entry.batchId) })),
    skipped,
  };
}

/** The sourceMetadata of the newest logged batch up to `batchId` that has one (no-data batches have none); undefined if pruned or never logged. */
async function metadataUpTo(log: CheckpointLog, logged: readonly number[], batchId: number): Promise<unknown> {
  for (let i = logged.length - 1; i >= 0; i--) {
    if (logged[i]! > batchId) continue;
    const entry = await log.readOffsets(logged[i]!).catch(() => null);
    if (entry === null) return undefined;
    if (entry.sourceMetadata !== undefined) return entry.sourceMetadata;
    if (!entry.noData) return undefined;
  }
  return undefined;
}

/**
 * A replayed batch must be the logged one: the range the source re-cut, and the watermark (or the
 * engine was not deterministic and the output would differ from the first run).
 */
export function checkReplay<O>(logged: OffsetsEntry<O>, batch: SourceBatch<O> | null, watermarkMs: number | null): void {
  if (!isDeepStrictEqual(logged.startOffsets, batch?.startOffsets ?? null) || !isDeepStrictEqual(logged.endOffsets, batch?.endOffsets ?? null)) {
    throw new KindlingError(
      'REPLAY_DIVERGED',
      `replay of batch ${logged.batchId}: the source cut ${JSON.stringify(batch?.startOffsets ?? null)}..${JSON.stringify(batch?.endOffsets ?? null)}, the log says ${JSON.stringify(logged.startOffsets)}..${JSON.stringify(logged.endOffsets)}`,
    );
  }
  if (!logged.polledAhead && logged.watermarkMs !== watermarkMs) {
    throw new KindlingError('REPLAY_DIVERGED', `replay of batch ${logged.batchId}: watermark ${watermarkMs} but the batch first ran with ${logged.watermarkMs}`);
  }
}

/** The banner's summary of a plan; `hasWatermark`: the query keeps one (it starts at 0 without a snapshot). */
export function resumeInfo<O>(plan: RecoveryPlan<O>, hasWatermark: boolean): ResumeInfo {
  const { snapshot } = plan;
  return {
    resumed: snapshot !== null || plan.replay.length > 0,
    fromBatchId: plan.startBatchId,
    snapshotBatchId: snapshot?.batchId ?? null,
    snapshotWrittenAt: snapshot ? { partitions: snapshot.partitioning.partitions, workers: snapshot.partitioning.workers } : null,
    watermarkMs: plan.watermark?.watermarkMs ?? (hasWatermark ? 0 : null),
    stateRows: stateRows(plan),
    sourceOffsets: plan.sourcePosition,
    replay: plan.replay.map((r) => r.entry.batchId),
    replayCommitted: plan.replay.filter((r) => r.committed).length,
    skipped: plan.skipped,
  };
}

function checkQuery(log: CheckpointLog, saved: QueryIdentity, current: QueryIdentity, what: string): void {
  const changes = queryChanges(saved, current);
  if (changes.length === 0) return;
  throw new KindlingError(
    'CHECKPOINT_QUERY_CHANGED',
    `--checkpoint-dir ${log.dir}: ${what} was written by a different query (${changes.join('; ')}). ` +
      'Its state and offsets only make sense for the query that wrote them: use a new --checkpoint-dir for the changed query (or run the original query to resume).',
    { domain: 'user' },
  );
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
