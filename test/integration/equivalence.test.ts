// The engine on real worker threads gives the oracle's output for every --cores x --partitions and output mode.
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkerPool } from '../../src/engine/pool.js';
import { crashAlerts, loadQuery, vulnerabilityByIp } from '../../src/query/queries.js';
import type { OutputMode, Query } from '../../src/query/query.js';
import { runReference } from '../../src/query/reference.js';
import { batchesArb } from '../helpers/events.js';
import { resetPool, runEngine } from '../helpers/engine.js';

const CORES = [1, 2, 3] as const;
const PARTITIONS = [1, 2, 7, 200] as const;
const pools = new Map<number, WorkerPool>();
const slidingRef = pathToFileURL(resolve('test/fixtures/sliding-query.mjs')).href;
let sliding: Query;

beforeAll(async () => {
  for (const cores of CORES) pools.set(cores, new WorkerPool(cores));
  sliding = await loadQuery(slidingRef);
});
afterAll(async () => {
  await Promise.all([...pools.values()].map((p) => p.close()));
});

async function expectSameAsOracle(query: Query, queryRef: string, batches: string[][], mode: OutputMode, cores: number, partitions: number, drain: boolean): Promise<void> {
  const oracle = runReference(query, batches, { outputMode: mode, drain });
  const run = await runEngine(pools.get(cores)!, batches, { queryRef, query, outputMode: mode, partitions, drain, splitsPerBatch: 1 + (batches.length % 4), useRecordEnds: partitions === 7 });
  const label = `${query.name} ${mode} cores=${cores} partitions=${partitions} drain=${drain}`;
  expect(run.batches.map((b) => ({ batchId: b.batchId, rows: b.rows })), label).toEqual(oracle.batches.map((b) => ({ batchId: b.batchId, rows: b.rows })));
  expect(run.summary.lateRows, label).toBe(oracle.lateRows);
  expect(run.summary.matched, label).toBe(oracle.matched);
  expect(run.summary.records, label).toBe(oracle.records);
  // The byte pre-check counts a malformed record that cannot match as filtered without parsing it.
  expect(run.summary.rejected + run.summary.filtered, label).toBe(oracle.rejected + oracle.filtered);
}

describe('engine vs the single-threaded oracle', () => {
  for (const mode of ['append', 'update', 'complete'] as const) {
    it(`crash-alerts in ${mode} mode matches on random late and out-of-order streams, every cores x partitions`, async () => {
      await fc.assert(
        fc.asyncProperty(batchesArb(), fc.constantFrom(...CORES), fc.constantFrom(...PARTITIONS), fc.boolean(), async (batches, cores, partitions, drain) => {
          await expectSameAsOracle(crashAlerts, 'crash-alerts', batches, mode, cores, partitions, drain);
        }),
        { numRuns: 40, seed: 20261125 + mode.length },
      );
    });
  }

  it('covers the whole grid on one fixed stream with late rows and evictions', async () => {
    const batches = fc.sample(batchesArb(), { numRuns: 1, seed: 7 })[0]!;
    const oracle = runReference(crashAlerts, batches);
    expect(oracle.batches.some((b) => b.rows.length > 0)).toBe(true);
    for (const cores of CORES) for (const partitions of PARTITIONS) await expectSameAsOracle(crashAlerts, 'crash-alerts', batches, 'append', cores, partitions, true);
  });

  it('vulnerability-by-ip (no window, complete and update) matches', async () => {
    await fc.assert(
      fc.asyncProperty(batchesArb(), fc.constantFrom(...CORES), fc.constantFrom(...PARTITIONS), fc.constantFrom('complete' as const, 'update' as const), async (batches, cores, partitions, mode) => {
        await expectSameAsOracle(vulnerabilityByIp, 'vulnerability-by-ip', batches, mode, cores, partitions, false);
      }),
      { numRuns: 25, seed: 11 },
    );
  });

  it('a user query module with sliding windows matches', async () => {
    await fc.assert(
      fc.asyncProperty(batchesArb(), fc.constantFrom(...CORES), fc.constantFrom(...PARTITIONS), fc.constantFrom(...(['append', 'update'] as const)), async (batches, cores, partitions, mode) => {
        await expectSameAsOracle(sliding, slidingRef, batches, mode, cores, partitions, true);
      }),
      { numRuns: 25, seed: 5 },
    );
  });

  it('keeps each partition on one worker thread for the whole run', async () => {
    const batches = fc.sample(batchesArb(), { numRuns: 1, seed: 3 })[0]!;
    const pool = pools.get(3)!;
    // Every worker answers once first, so each has a thread to keep (this test may run alone).
    await resetPool(pool, 'crash-alerts', 200);
    const threadsBefore = pool.loads.map((l) => l.threadId);
    expect(new Set(threadsBefore).size, `thread ids ${threadsBefore.join(', ')}`).toBe(3);
    expect(threadsBefore.every((t) => typeof t === 'number')).toBe(true);
    const run = await runEngine(pool, [...batches, ...batches], { queryRef: 'crash-alerts', query: crashAlerts, partitions: 200 });
    expect(run.summary.batches).toBeGreaterThan(0);
    // runOn throws WORKER_REPLACED or MISROUTE if a partition's state ever reached another thread.
    expect(pool.loads.map((l) => l.threadId)).toEqual(threadsBefore);
  });
});
