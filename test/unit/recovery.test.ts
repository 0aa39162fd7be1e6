// Recovery planning over an in-memory checkpoint log, and the batch loop's write ordering and restart on real worker threads.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeSnapshot, SNAPSHOT_FORMAT_VERSION, type Snapshot } from '../../src/checkpoint/format.js';
import type { OffsetsEntry } from '../../src/checkpoint/log.js';
import { checkpointQueryId, planRecovery, queryIdentity } from '../../src/checkpoint/recovery.js';
import { Coordinator, type EngineOptions } from '../../src/engine/coordinator.js';
import { WorkerPool } from '../../src/engine/pool.js';
import { crashAlertsPlan } from '../../src/plan/queries.js';
import { runPlanReference } from '../../src/plan/reference.js';
import type { EmittedBatch, Sink } from '../../src/sink/sink.js';
import { resetPool } from '../helpers/engine.js';
import { batchesArb } from '../helpers/events.js';
import { MemoryLog } from '../helpers/memory-log.js';
import { MemorySource } from '../helpers/memory-source.js';

const identity = queryIdentity(crashAlertsPlan);
/** The offsets of these tests are batch indexes; anything else is refused, as a source refuses offsets not its own. */
const asIndex = (json: unknown): number => {
  if (!Number.isSafeInteger(json)) throw new Error(`not a batch index: ${JSON.stringify(json)}`);
  return json as number;
};
const offsets = (batchId: number): OffsetsEntry => ({ batchId, startOffsets: batchId, endOffsets: batchId + 1, noData: false, watermarkMs: 0, writtenAt: '' });
const snapshotBytes = (batchId: number, query = identity): Uint8Array => {
  const snapshot: Snapshot = {
    formatVersion: SNAPSHOT_FORMAT_VERSION,
    batchId,
    createdAtMs: 0,
    query,
    partitioning: { partitions: 2, workers: 2, hash: 'murmur2-positive-mod' },
    sourceOffsets: batchId + 1,
    watermark: { watermarkMs: 5000, lastEvictionWatermarkMs: 4000 },
    state: [{ partitionId: 1, operator: 'aggregate', entries: [['0\u0000u\u0000', [{ startUs: 0, endUs: 10_000_000 }, 'u'], [3], 10_000_000]] }],
  };
  return encodeSnapshot(snapshot);
};

async function logWith(logged: number, committed: number, snapshots: Array<[number, Uint8Array]>): Promise<MemoryLog> {
  const log = new MemoryLog();
  for (let id = 0; id < logged; id++) await log.writeOffsets(offsets(id));
  for (let id = 0; id < committed; id++) await log.writeCommit({ batchId: id, committedAt: '' });
  for (const [id, bytes] of snapshots) await log.writeSnapshot(id, bytes);
  return log;
}

describe('planRecovery', () => {
  it('plans a fresh start for an empty log', async () => {
    const plan = await planRecovery(new MemoryLog(), identity, asIndex, () => undefined);
    expect(plan).toMatchObject({ startBatchId: 0, snapshot: null, watermark: null, sourcePosition: null, state: [], replay: [] });
  });

  it('without a snapshot replays every logged batch from 0, committed ones marked, from the first batch\'s start', async () => {
    const plan = await planRecovery(await logWith(4, 3, []), identity, asIndex, () => undefined);
    expect(plan.startBatchId).toBe(0);
    expect(plan.sourcePosition).toBe(0);
    expect(plan.replay.map((r) => [r.entry.batchId, r.committed])).toEqual([[0, true], [1, true], [2, true], [3, false]]);
  });

  it('restores the newest snapshot and replays only the batches after it', async () => {
    const plan = await planRecovery(await logWith(5, 4, [[1, snapshotBytes(1)]]), identity, asIndex, () => undefined);
    expect(plan.startBatchId).toBe(2);
    expect(plan.sourcePosition).toBe(2);
    expect(plan.watermark).toEqual({ watermarkMs: 5000, lastEvictionWatermarkMs: 4000 });
    expect(plan.state).toEqual([{ partitionId: 1, operator: 'aggregate', entries: [['0\u0000u\u0000', [{ startUs: 0, endUs: 10_000_000 }, 'u'], [3], 10_000_000]] }]);
    expect(plan.replay.map((r) => [r.entry.batchId, r.committed])).toEqual([[2, true], [3, true], [4, false]]);
  });

  it('hands back the sourceMetadata logged with the position it resumes at (the snapshot\'s batch, or the first replayed batch)', async () => {
    const log = new MemoryLog();
    const tagged = (batchId: number, tag: string): OffsetsEntry => ({ ...offsets(batchId), sourceMetadata: { tag } });
    await log.writeOffsets(tagged(0, 'a'));
    await log.writeOffsets(tagged(1, 'a'));
    // A no-data batch logs no metadata: the snapshot taken after it resumes with its last data batch's.
    await log.writeOffsets({ batchId: 2, startOffsets: null, endOffsets: null, noData: true, watermarkMs: 0, writtenAt: '' });
    await log.writeOffsets(tagged(3, 'b'));
    expect((await planRecovery(log, identity, asIndex, () => undefined)).sourceMetadata).toEqual({ tag: 'a' });
    await log.writeSnapshot(2, snapshotBytes(2));
    expect((await planRecovery(log, identity, asIndex, () => undefined)).sourceMetadata).toEqual({ tag: 'a' });
    await log.writeSnapshot(3, snapshotBytes(3));
    expect((await planRecovery(log, identity, asIndex, () => undefined)).sourceMetadata).toEqual({ tag: 'b' });
  });

  it('skips a corrupt newest snapshot, says so, and uses the one before it', async () => {
    const said: string[] = [];
    const bad = snapshotBytes(3);
    bad[bad.length - 1]! ^= 0xff;
    const plan = await planRecovery(await logWith(5, 5, [[1, snapshotBytes(1)], [3, bad]]), identity, asIndex, (l) => said.push(l));
    expect(plan.snapshot?.batchId).toBe(1);
    expect(plan.skipped.map((s) => s.batchId)).toEqual([3]);
    expect(said.join('\n')).toContain('memory:snapshots/3 is unusable');
  });

  it('refuses an offsets log with a gap after the snapshot', async () => {
    const log = await logWith(5, 5, [[1, snapshotBytes(1)]]);
    log.offsets.delete(3);
    await expect(planRecovery(log, identity, asIndex, () => undefined)).rejects.toThrow('the offsets log has a gap before batch 4 (expected 3)');
  });

  it('hands every offset to the source to parse, which refuses one that is not its own', async () => {
    const log = await logWith(3, 3, []);
    await log.writeOffsets({ ...offsets(3), endOffsets: { fileIndex: 0 } });
    await expect(planRecovery(log, identity, asIndex, () => undefined)).rejects.toThrow('not a batch index: {"fileIndex":0}');
  });

  it('refuses a checkpoint of an older format, saying so (never reads its state as this format)', async () => {
    const log = await logWith(3, 3, []);
    const older = Buffer.from(snapshotBytes(1));
    older.writeUInt32BE(1, 8);
    await log.writeSnapshot(1, older);
    await expect(planRecovery(log, identity, asIndex, () => undefined)).rejects.toThrow('memory:snapshots/1 was written by an older format (snapshot format 1; this Kindling reads format 2');
  });

  it('refuses a snapshot written by another query', async () => {
    const other = { ...identity, fingerprint: identity.fingerprint.replace('crash', 'CRASH') };
    expect(other.fingerprint).not.toBe(identity.fingerprint);
    const log = await logWith(3, 3, [[1, snapshotBytes(1, other)]]);
    await expect(planRecovery(log, identity, asIndex, () => undefined)).rejects.toThrow('was written by a different query');
  });
});

/** A sink that records each emit into the log's history, and can fail once at one batch (a crash before its commit). */
class HistorySink implements Sink {
  readonly name = 'history';
  readonly batches: EmittedBatch[] = [];
  constructor(
    private readonly log: MemoryLog,
    private failAt: number | null = null,
  ) {}
  async emit(batch: EmittedBatch): Promise<void> {
    if (batch.batchId === this.failAt) {
      this.failAt = null;
      throw new Error(`sink failed at batch ${batch.batchId}`);
    }
    (this.log.history as string[]).push(`emit ${batch.batchId}`);
    this.batches.push({ ...batch, rows: [...batch.rows] });
  }
  async close(): Promise<void> {}
}

describe('the batch loop with an in-memory checkpoint log (real worker threads)', () => {
  let pool: WorkerPool;
  beforeAll(() => {
    pool = new WorkerPool(2);
  });
  afterAll(async () => {
    await pool.close();
  });
  const batches = fc.sample(batchesArb(), { numRuns: 1, seed: 11 })[0]!;
  const options = (log: MemoryLog, drain = false): EngineOptions => ({
    plan: crashAlertsPlan,
    partitions: 3,
    triggerMs: 0,
    drain,
    maxRecordBytes: 1 << 20,
    maxLoggedRejects: 0,
    log: () => undefined,
    checkpoint: { log, every: 2 },
  });

  it('makes each batch\'s offsets durable before its output, and commits only after it', async () => {
    const log = new MemoryLog(15);
    const sink = new HistorySink(log);
    await resetPool(pool, crashAlertsPlan, 3);
    const coordinator = new Coordinator(options(log, true), new MemorySource(batches), [sink], pool);
    await coordinator.recover();
    await coordinator.run(new AbortController().signal);
    const at = (event: string): number => {
      const i = log.history.indexOf(event as never);
      expect(i, event).toBeGreaterThanOrEqual(0);
      return i;
    };
    expect(sink.batches.length).toBeGreaterThan(batches.length); // the drain batch too
    for (const { batchId } of sink.batches) {
      expect(at(`offsets ${batchId} durable`)).toBeLessThan(at(`emit ${batchId}`));
      expect(at(`emit ${batchId}`)).toBeLessThan(at(`commit ${batchId} started`));
    }
    const drained = sink.batches.at(-1)!;
    expect(drained.drained).toBe(true);
    expect(log.offsets.get(drained.batchId)).toMatchObject({ drain: true, noData: true });
  });

  it('after a crash before a commit, restores, replays committed batches muted, and the output equals the oracle\'s', async () => {
    const oracle = runPlanReference(crashAlertsPlan, batches);
    const failAt = Math.min(3, oracle.batches.length - 1);
    const log = new MemoryLog();
    const first = new HistorySink(log, failAt);
    await resetPool(pool, crashAlertsPlan, 3);
    const crashed = new Coordinator(options(log), new MemorySource(batches), [first], pool);
    await crashed.recover();
    await expect(crashed.run(new AbortController().signal)).rejects.toThrow(`sink failed at batch ${failAt}`);
    expect(log.commits.has(failAt)).toBe(false);
    expect(log.offsets.has(failAt)).toBe(true);

    // A new process: empty workers, the same log.
    await resetPool(pool, crashAlertsPlan, 3);
    const second = new HistorySink(log);
    const restarted = new Coordinator(options(log), new MemorySource(batches), [second], pool);
    const info = await restarted.recover();
    expect(info?.replay[info.replay.length - 1]).toBe(failAt);
    // The same query (its id is the checkpoint's, as Spark's query.id), in a new run.
    expect(restarted.id).toBe(crashed.id);
    expect(restarted.runId).not.toBe(crashed.runId);
    await restarted.run(new AbortController().signal);
    // Batches committed before the crash are not emitted again; the uncommitted one is.
    expect(second.batches[0]!.batchId).toBe(failAt);
    const combined = [...first.batches, ...second.batches].map((b) => ({ batchId: b.batchId, rows: b.rows }));
    expect(combined).toEqual(oracle.batches.map((b) => ({ batchId: b.batchId, rows: b.rows })));
  });
});

describe("the query's id in the checkpoint (Spark's query.id across restarts)", () => {
  const metadata = { formatVersion: SNAPSHOT_FORMAT_VERSION, createdAt: '', query: identity, source: { name: 'memory', identity: null } };

  it('is written into a checkpoint that has none and read back on every later start', async () => {
    const log = new MemoryLog();
    await log.writeMetadata(metadata);
    expect(await checkpointQueryId(log, 'first')).toBe('first');
    expect(log.metadata).toEqual({ ...metadata, queryId: 'first' });
    expect(await checkpointQueryId(log, 'second')).toBe('first');
    expect(log.metadata?.queryId).toBe('first');
  });

  it('is the fresh one when there is no checkpoint metadata yet, and nothing is written', async () => {
    const log = new MemoryLog();
    expect(await checkpointQueryId(log, 'fresh')).toBe('fresh');
    expect(log.metadata).toBeNull();
  });
});
