// `kindling checkpoint inspect DIR`: what a checkpoint holds — batches, watermark, offsets, state per partition, largest keys, snapshots.
import { readdir, readFile, stat } from 'node:fs/promises';
import { answerText, parseFlags, renderHelp, STANDARD_FLAGS, standardAnswer, type FlagSpec } from '../cli.js';
import { UsageError } from '../errors.js';
import { decodeSnapshot, SnapshotCorrupt, stateRows, type Snapshot } from './format.js';
import type { CheckpointMetadata, OffsetsEntry } from './log.js';
import { CheckpointStore } from './store.js';

const INSPECT_FLAGS = [
  { name: 'top', kind: 'int', group: 'Inspect', min: 1, default: 10, help: 'how many of the largest keys to list' },
  { name: 'json', kind: 'bool', group: 'Inspect', help: 'print one JSON object instead of text' },
  ...STANDARD_FLAGS,
] as const satisfies readonly FlagSpec[];
const USAGE = 'Usage: kindling checkpoint inspect DIR [--top N] [--json]';
const INTRO = 'Shows what a checkpoint directory holds: the query it belongs to, logged and committed batches,\nthe snapshots (size, age, valid or why not) and the newest valid one: watermark, source offsets,\nstate rows per partition and the largest keys. It only reads.';

/** A snapshot file as inspect reports it. */
export interface InspectedSnapshot {
  readonly batchId: number;
  readonly file: string;
  readonly bytes: number;
  readonly ageMs: number;
  readonly valid: boolean;
  readonly problem: string | null;
  readonly stateRows: number | null;
}

/** Everything `inspect` reports, also its --json output. */
export interface CheckpointReport {
  readonly dir: string;
  readonly metadata: CheckpointMetadata | null;
  readonly batches: { readonly logged: number[]; readonly committed: number[]; readonly uncommitted: number[] };
  readonly lastOffsets: OffsetsEntry | null;
  readonly snapshots: InspectedSnapshot[];
  readonly newest: {
    readonly batchId: number;
    readonly createdAt: string;
    readonly partitioning: Snapshot['partitioning'];
    readonly watermarkMs: number | null;
    readonly lateWatermarkMs: number | null;
    readonly sourceOffsets: unknown;
    readonly stateRows: number;
    readonly rowsPerPartition: Array<{ partitionId: number; rows: number }>;
    /** Grouping keys (the window left out) holding the most state entries, or dropDuplicates keys. */
    readonly largestKeys: Array<{ key: string; windows: number }>;
  } | null;
}

/** Says plainly why `dir` is not a checkpoint a user can inspect: never there, not a directory, or not written by Kindling. */
async function explainMissing(dir: string): Promise<void> {
  const info = await stat(dir).catch((err: NodeJS.ErrnoException) => err);
  if (info instanceof Error) {
    if (info.code === 'ENOENT') throw new UsageError(`${dir} does not exist: no run has written a checkpoint there (start one with --checkpoint-dir ${dir})`);
    return; // another error: openExisting reports it with its errno
  }
  if (!info.isDirectory()) throw new UsageError(`${dir} is a file, not a checkpoint directory`);
  const entries = await readdir(dir).catch(() => null);
  if (entries !== null && !entries.includes('metadata.json')) {
    throw new UsageError(
      entries.length === 0
        ? `${dir} is empty: no run has written a checkpoint there yet (a run writes metadata.json before its first batch)`
        : `${dir} is not a Kindling checkpoint directory: it has no metadata.json (it holds ${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', ...' : ''})`,
    );
  }
}

/** Reads a checkpoint directory into a report (read-only). */
export async function inspectCheckpoint(dir: string, options: { top?: number; nowMs?: number } = {}): Promise<CheckpointReport> {
  await explainMissing(dir);
  const store = await CheckpointStore.openExisting(dir);
  const now = options.nowMs ?? Date.now();
  const metadata = await store.readMetadata();
  const logged = await store.loggedBatchIds();
  const committed = await store.committedBatchIds();
  const done = new Set(committed);
  const last = logged[logged.length - 1];
  const lastOffsets = last === undefined ? null : await store.readOffsets(last).catch(() => null);
  const snapshots: InspectedSnapshot[] = [];
  let newest: Snapshot | null = null;
  for (const f of await store.snapshotFiles()) {
    try {
      const s = decodeSnapshot(await readFile(f.path));
      snapshots.push({ batchId: f.batchId, file: f.path, bytes: f.bytes, ageMs: now - f.mtimeMs, valid: true, problem: null, stateRows: stateRows(s) });
      newest ??= s;
    } catch (err) {
      if (!(err instanceof SnapshotCorrupt)) throw err;
      snapshots.push({ batchId: f.batchId, file: f.path, bytes: f.bytes, ageMs: now - f.mtimeMs, valid: false, problem: err.reason, stateRows: null });
    }
  }
  return {
    dir,
    metadata,
    batches: { logged, committed, uncommitted: logged.filter((id) => !done.has(id)) },
    lastOffsets,
    snapshots,
    newest: newest ? summarise(newest, options.top ?? 10) : null,
  };
}

function summarise(s: Snapshot, top: number): NonNullable<CheckpointReport['newest']> {
  const byKey = new Map<string, number>();
  for (const p of s.state) {
    for (const entry of p.entries) {
      // An aggregation entry's key values without the window; a dropDuplicates key as it is.
      const key = p.operator === 'aggregate' ? JSON.stringify((entry[1] as unknown[]).filter((v) => typeof v !== 'object' || v === null)) : String(entry[0]);
      byKey.set(key, (byKey.get(key) ?? 0) + 1);
    }
  }
  const largestKeys = [...byKey]
    .map(([key, windows]) => ({ key, windows }))
    .sort((a, b) => b.windows - a.windows || (a.key < b.key ? -1 : 1))
    .slice(0, top);
  return {
    batchId: s.batchId,
    createdAt: new Date(s.createdAtMs).toISOString(),
    partitioning: s.partitioning,
    watermarkMs: s.watermark?.watermarkMs ?? null,
    lateWatermarkMs: s.watermark?.lastEvictionWatermarkMs ?? null,
    sourceOffsets: s.sourceOffsets,
    stateRows: stateRows(s),
    rowsPerPartition: s.state.map((p) => ({ partitionId: p.partitionId, rows: p.entries.length })),
    largestKeys,
  };
}

const n = (x: number): string => x.toLocaleString('en-US');
const size = (bytes: number): string => (bytes >= 1_048_576 ? `${(bytes / 1_048_576).toFixed(1)} MiB` : bytes >= 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${bytes} B`);
const age = (ms: number): string => (ms < 60_000 ? `${Math.round(ms / 1000)} s` : ms < 3_600_000 ? `${Math.round(ms / 60_000)} min` : ms < 172_800_000 ? `${(ms / 3_600_000).toFixed(1)} h` : `${Math.round(ms / 86_400_000)} days`);
const ranges = (ids: readonly number[]): string => {
  if (ids.length === 0) return 'none';
  const out: string[] = [];
  let start = ids[0]!;
  let prev = start;
  for (const id of [...ids.slice(1), Number.NaN]) {
    if (id === prev + 1) {
      prev = id;
      continue;
    }
    out.push(start === prev ? `${start}` : `${start}-${prev}`);
    start = prev = id;
  }
  return out.join(', ');
};

/** The report as text for a terminal. */
export function renderReport(r: CheckpointReport): string {
  const lines = [`Checkpoint ${r.dir}`];
  const m = r.metadata;
  if (m) {
    lines.push(`  query ${m.query.name} (${m.query.outputMode} mode), created ${m.createdAt}, format version ${m.formatVersion}`);
    lines.push(`  source ${m.source.name} ${JSON.stringify(m.source.identity)}`);
  } else lines.push('  no metadata.json (never used)');
  const b = r.batches;
  lines.push(`  batches logged: ${ranges(b.logged)} | committed: ${ranges(b.committed)} | logged, not committed (replayed on restart): ${ranges(b.uncommitted)}`);
  if (r.lastOffsets) {
    const o = r.lastOffsets;
    lines.push(`  last logged batch ${o.batchId}: ${o.noData ? 'no-data batch' : `${JSON.stringify(o.startOffsets)} -> ${JSON.stringify(o.endOffsets)}`}${o.watermarkMs === null ? '' : `, watermark ${new Date(o.watermarkMs).toISOString()}`}`);
  }
  lines.push(`  snapshots (${r.snapshots.length}):`);
  for (const s of r.snapshots) {
    lines.push(`    batch ${s.batchId}: ${size(s.bytes)}, written ${age(s.ageMs)} ago, ${s.valid ? `ok, ${n(s.stateRows!)} state rows` : `UNUSABLE: ${s.problem}`}  ${s.file}`);
  }
  const nw = r.newest;
  if (!nw) {
    lines.push('  no valid snapshot: a restart rebuilds the state from batch 0 if the offsets log reaches back to it');
    return lines.join('\n');
  }
  lines.push(`  newest valid snapshot: batch ${nw.batchId} (${nw.createdAt}), ${nw.partitioning.partitions} partition(s) on ${nw.partitioning.workers} worker(s)`);
  if (nw.watermarkMs !== null) lines.push(`    watermark ${new Date(nw.watermarkMs).toISOString()} (late rows checked against ${new Date(nw.lateWatermarkMs!).toISOString()})`);
  lines.push(`    source offsets ${JSON.stringify(nw.sourceOffsets)}`);
  lines.push(`    state rows ${n(nw.stateRows)}; per partition: ${nw.rowsPerPartition.map((p) => `p${p.partitionId} ${n(p.rows)}`).join(' | ') || 'none'}`);
  if (nw.largestKeys.length > 0) {
    lines.push(`    largest keys (by state entries): ${nw.largestKeys.map((k) => `${k.key} in ${n(k.windows)} entr${k.windows === 1 ? 'y' : 'ies'}`).join(', ')}`);
  }
  return lines.join('\n');
}

/** `kindling checkpoint <subcommand>`: only `inspect` for now. Returns the exit code. */
export async function checkpointCommand(argv: readonly string[], write: (text: string) => void): Promise<number> {
  const help = (): string => renderHelp(USAGE, INTRO, INSPECT_FLAGS);
  const [sub, ...rest] = argv;
  if (sub === undefined) {
    write(help() + '\n');
    return 2;
  }
  // `kindling checkpoint --help` (or -h, --version) answers as `kindling checkpoint inspect` would.
  const { values, positionals } = parseFlags(sub === 'inspect' ? rest : argv, INSPECT_FLAGS);
  const answer = standardAnswer(values);
  if (answer) {
    write(answerText(answer, help));
    return 0;
  }
  if (sub !== 'inspect') throw new UsageError(`unknown checkpoint command '${sub}'; try: kindling checkpoint inspect DIR`);
  if (positionals.length !== 1) throw new UsageError(`kindling checkpoint inspect needs one DIR; got ${positionals.length}`);
  const report = await inspectCheckpoint(positionals[0]!, { top: values['top'] });
  write((values['json'] ? JSON.stringify(report, null, 2) : renderReport(report)) + '\n');
  return 0;
}
