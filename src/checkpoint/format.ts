// The snapshot file format: a checked header (magic, format version, length, SHA-256) around a msgpackr payload.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Packr } from 'msgpackr';
import type { OperatorEntries } from '../engine/protocol.js';
import { explainPlan } from '../plan/explain.js';
import type { PlanNode } from '../plan/plan.js';

/**
 * Bumped whenever the payload's shape changes; a reader refuses other versions. 2: query plans
 * (state per operator: aggregation groups with every aggregate's partial state, dropDuplicates keys).
 */
export const SNAPSHOT_FORMAT_VERSION = 2;

const MAGIC = Buffer.from('KNDLSNAP', 'ascii');
/** magic (8) + format version (u32) + payload length (u64) + SHA-256 of the payload (32). */
export const SNAPSHOT_HEADER_BYTES = 8 + 4 + 8 + 32;

/** How keys map to partitionIds when the snapshot was written; restores re-hash when it differs. */
export interface Partitioning {
  /** Kindling's spark.sql.shuffle.partitions at the time. */
  readonly partitions: number;
  /** Worker threads at the time (informational: ownership is recomputed on restore). */
  readonly workers: number;
  /** The key hash: Kafka's murmur2, positive, mod partitions (src/partition.ts). */
  readonly hash: 'murmur2-positive-mod';
}

/** The query a checkpoint belongs to (a restore with another one is refused). */
export interface QueryIdentity {
  readonly name: string;
  readonly outputMode: string;
  /** planFingerprint(plan): JSON of everything that shapes the state and the results. */
  readonly fingerprint: string;
}

/** One partition's state of one operator (plain arrays, no Maps: msgpackr's default unpack would turn a Map into an object, TOOLCHAIN.md). */
export type PartitionState = OperatorEntries;

/** The watermark tracker's state (WatermarkTracker.toJSON). */
export interface SavedWatermark {
  readonly watermarkMs: number;
  readonly lastEvictionWatermarkMs: number;
}

/** Everything needed to continue after batch `batchId` without replaying it. */
export interface Snapshot {
  readonly formatVersion: number;
  /** The last batch whose effects the state holds. */
  readonly batchId: number;
  readonly createdAtMs: number;
  readonly query: QueryIdentity;
  readonly partitioning: Partitioning;
  /** Where the source stood after `batchId` (its last data batch's endOffsets); null: at its start. */
  readonly sourceOffsets: unknown;
  /** Null for a query without a watermark. */
  readonly watermark: SavedWatermark | null;
  readonly state: PartitionState[];
}

/** Why a snapshot file cannot be used; `reason` is one line for the user. */
export class SnapshotCorrupt extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'SnapshotCorrupt';
  }
}

/** A snapshot written in another format version: not damaged, but this Kindling cannot read its state. */
export class SnapshotFormatError extends Error {
  constructor(readonly version: number) {
    super(
      version < SNAPSHOT_FORMAT_VERSION
        ? `written by an older format (snapshot format ${version}; this Kindling reads format ${SNAPSHOT_FORMAT_VERSION}, whose state holds query-plan operators)`
        : `written by a newer Kindling (snapshot format ${version}; this one reads format ${SNAPSHOT_FORMAT_VERSION})`,
    );
    this.name = 'SnapshotFormatError';
  }
}

// Records (msgpackr's shared structures) are off: a snapshot must decode on its own, years later.
let packrInstance: Packr | null = null;
/** msgpackr, loaded on the first snapshot (synchronously, through require): a run without checkpoints never pays its ~50 ms import. */
function packr(): Packr {
  if (packrInstance === null) {
    const { Packr: PackrClass } = createRequire(import.meta.url)('msgpackr') as typeof import('msgpackr');
    packrInstance = new PackrClass({ useRecords: false, mapsAsObjects: true });
  }
  return packrInstance;
}

/** Encodes a snapshot as header + payload. */
export function encodeSnapshot(snapshot: Snapshot): Buffer {
  const payload = packr().pack(snapshot);
  const header = Buffer.alloc(SNAPSHOT_HEADER_BYTES);
  MAGIC.copy(header, 0);
  header.writeUInt32BE(SNAPSHOT_FORMAT_VERSION, 8);
  header.writeBigUInt64BE(BigInt(payload.length), 12);
  createHash('sha256').update(payload).digest().copy(header, 20);
  return Buffer.concat([header, payload]);
}

/** Decodes and checks a snapshot file's bytes; throws SnapshotCorrupt naming what is wrong. */
export function decodeSnapshot(bytes: Uint8Array): Snapshot {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < SNAPSHOT_HEADER_BYTES) throw new SnapshotCorrupt(`truncated: ${buf.length} bytes, shorter than the ${SNAPSHOT_HEADER_BYTES}-byte header`);
  if (!buf.subarray(0, 8).equals(MAGIC)) throw new SnapshotCorrupt('not a Kindling snapshot (bad magic bytes)');
  const version = buf.readUInt32BE(8);
  if (version !== SNAPSHOT_FORMAT_VERSION) throw new SnapshotFormatError(version);
  const declared = buf.readBigUInt64BE(12);
  const actual = BigInt(buf.length - SNAPSHOT_HEADER_BYTES);
  if (actual < declared) throw new SnapshotCorrupt(`truncated: ${actual} of ${declared} payload bytes`);
  if (actual > declared) throw new SnapshotCorrupt(`${actual - declared} unexpected bytes after the payload`);
  const payload = buf.subarray(SNAPSHOT_HEADER_BYTES);
  if (!createHash('sha256').update(payload).digest().equals(buf.subarray(20, SNAPSHOT_HEADER_BYTES))) {
    throw new SnapshotCorrupt('checksum mismatch (the file changed after it was written)');
  }
  let value: unknown;
  try {
    value = packr().unpack(payload);
  } catch (err) {
    throw new SnapshotCorrupt(`undecodable payload (${(err as Error).message})`);
  }
  return checkShape(value);
}

function checkShape(value: unknown): Snapshot {
  const bad = (what: string): never => {
    throw new SnapshotCorrupt(`malformed payload: ${what}`);
  };
  if (typeof value !== 'object' || value === null) return bad('not an object');
  const s = value as Record<string, unknown>;
  const int = (v: unknown): boolean => Number.isSafeInteger(v);
  if (s['formatVersion'] !== SNAPSHOT_FORMAT_VERSION) bad('formatVersion');
  if (!int(s['batchId']) || (s['batchId'] as number) < 0) bad('batchId');
  const q = s['query'] as Record<string, unknown> | undefined;
  if (!q || typeof q['name'] !== 'string' || typeof q['fingerprint'] !== 'string' || typeof q['outputMode'] !== 'string') bad('query');
  const p = s['partitioning'] as Record<string, unknown> | undefined;
  if (!p || !int(p['partitions']) || (p['partitions'] as number) < 1 || !int(p['workers']) || typeof p['hash'] !== 'string') bad('partitioning');
  const w = s['watermark'] as Record<string, unknown> | null | undefined;
  if (w !== null && (!w || typeof w['watermarkMs'] !== 'number' || typeof w['lastEvictionWatermarkMs'] !== 'number')) bad('watermark');
  if (!Array.isArray(s['state'])) bad('state');
  for (const part of s['state'] as unknown[]) {
    const ps = part as Record<string, unknown>;
    if (!int(ps['partitionId']) || (ps['operator'] !== 'aggregate' && ps['operator'] !== 'dedup') || !Array.isArray(ps['entries'])) bad('a partition');
    for (const e of ps['entries'] as unknown[]) if (!Array.isArray(e) || typeof e[0] !== 'string') bad(`partition ${String(ps['partitionId'])}: an entry`);
  }
  return value as Snapshot;
}

/** Total groups and seen keys in a snapshot. */
export function stateRows(snapshot: { readonly state: readonly PartitionState[] }): number {
  return snapshot.state.reduce((n, p) => n + p.entries.length, 0);
}

/**
 * What differs between the query that wrote a checkpoint and the current one, one phrase per
 * field ("window: 10 s tumbling -> 20 s tumbling"); empty when they match.
 */
export function queryChanges(saved: QueryIdentity, current: QueryIdentity): string[] {
  const changes: string[] = [];
  if (saved.name !== current.name) changes.push(`query name: ${saved.name} -> ${current.name}`);
  if (saved.outputMode !== current.outputMode) changes.push(`output mode: ${saved.outputMode} -> ${current.outputMode}`);
  if (saved.fingerprint === current.fingerprint) return changes;
  let a: Record<string, unknown>;
  let b: Record<string, unknown>;
  try {
    a = JSON.parse(saved.fingerprint) as Record<string, unknown>;
    b = JSON.parse(current.fingerprint) as Record<string, unknown>;
  } catch {
    changes.push('the query definition (fingerprints differ)');
    return changes;
  }
  for (const field of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (field === 'name' || field === 'outputMode') continue;
    const x = JSON.stringify(a[field] ?? null);
    const y = JSON.stringify(b[field] ?? null);
    if (x === y) continue;
    changes.push(field === 'root' ? planChange(a[field], b[field]) : `${field}: ${x} -> ${y}`);
  }
  if (changes.length === 0) changes.push('the query definition (fingerprints differ)');
  return changes;
}

/** The plan's explain() lines that differ: `plan: Filter (crash_count > 2) -> Filter (crash_count > 3)`. */
function planChange(saved: unknown, current: unknown): string {
  const lines = (root: unknown): string[] => {
    try {
      return explainPlan(root as PlanNode).split('\n').slice(1).map((l) => l.replace(/^[\s+-]*/, ''));
    } catch {
      return [JSON.stringify(root)];
    }
  };
  const was = lines(saved);
  const now = lines(current);
  const gone = was.filter((l) => !now.includes(l));
  const added = now.filter((l) => !was.includes(l));
  return `plan: ${gone.join('; ') || '(nothing)'} -> ${added.join('; ') || '(nothing)'}`;
}
