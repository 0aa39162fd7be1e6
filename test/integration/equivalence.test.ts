// The engine on real worker threads gives the plan oracle's output for every --cores x --partitions and output mode.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkerPool } from '../../src/engine/pool.js';
import { loadQueryPlan, withOutputMode } from '../../src/engine/query-module.js';
import type { OutputMode, QueryPlan } from '../../src/plan/plan.js';
import { crashAlertsPlan, vulnerabilityByIpPlan } from '../../src/plan/queries.js';
import { runPlanReference } from '../../src/plan/reference.js';
import { batchesArb } from '../helpers/events.js';
import { resetPool, runEngine } from '../helpers/engine.js';
import { PLANS, labRecord, sensorRecord, stream } from '../helpers/plan-cases.js';

const CORES = [1, 2, 3] as const;
const PARTITIONS = [1, 2, 7, 200] as const;
const pools = new Map<number, WorkerPool>();
let sliding: QueryPlan;

beforeAll(async () => {
  for (const cores of CORES) pools.set(cores, new WorkerPool(cores));
  sliding = await loadQueryPlan('test/fixtures/sliding-query.mjs');
});
afterAll(async () => {
  await Promise.all([...pools.values()].map((p) => p.close()));
});

async function expectSameAsOracle(plan: QueryPlan, batches: string[][], cores: number, partitions: number, drain: boolean): Promise<void> {
  const oracle = runPlanReference(plan, batches, { drain });
  const run = await runEngine(pools.get(cores)!, batches, { plan, partitions, drain, splitsPerBatch: 1 + (batches.length % 4), useRecordEnds: partitions === 7 });
  const label = `${plan.name} ${plan.outputMode} cores=${cores} partitions=${partitions} drain=${drain}`;
  // A drain with nothing open emits an empty batch the oracle leaves out: compare the batches with rows.
  const withRows = (bs: ReadonlyArray<{ batchId: number; rows: readonly unknown[] }>) => bs.filter((b) => b.rows.length > 0).map((b) => ({ batchId: b.batchId, rows: b.rows }));
  expect(withRows(run.batches), label).toEqual(withRows(oracle.batches));
  expect(run.summary.lateRows, label).toBe(oracle.batches.reduce((n, b) => n + b.lateRows, 0));
  expect(run.summary.records, label).toBe(oracle.counters.records);
  expect(run.summary.watermarkMs ?? 0, label).toBe(oracle.finalWatermarkMs);
  if (!JSON.stringify(plan.root).includes('dropDuplicates')) expect(run.summary.matched, label).toBe(oracle.counters.records - oracle.filteredRows);
}

describe('engine vs the single-threaded oracle', () => {
  for (const mode of ['append', 'update', 'complete'] as const) {
    it(`crash-alerts in ${mode} mode matches on random late and out-of-order streams, every cores x partitions`, async () => {
      const plan = withOutputMode(crashAlertsPlan, mode);
      await fc.assert(
        fc.asyncProperty(batchesArb(), fc.constantFrom(...CORES), fc.constantFrom(...PARTITIONS), fc.boolean(), async (batches, cores, partitions, drain) => {
          await expectSameAsOracle(plan, batches, cores, partitions, drain);
        }),
        { numRuns: 40, seed: 20261125 + mode.length },
      );
    });
  }

  it('covers the whole grid on one fixed stream with late rows and evictions', async () => {
    const batches = fc.sample(batchesArb(), { numRuns: 1, seed: 7 })[0]!;
    const oracle = runPlanReference(crashAlertsPlan, batches);
    expect(oracle.batches.some((b) => b.rows.length > 0)).toBe(true);
    for (const cores of CORES) for (const partitions of PARTITIONS) await expectSameAsOracle(crashAlertsPlan, batches, cores, partitions, true);
  });

  it('vulnerability-by-ip (no window, complete mode, sorted) matches', async () => {
    await fc.assert(
      fc.asyncProperty(batchesArb(), fc.constantFrom(...CORES), fc.constantFrom(...PARTITIONS), async (batches, cores, partitions) => {
        await expectSameAsOracle(vulnerabilityByIpPlan, batches, cores, partitions, false);
      }),
      { numRuns: 25, seed: 11 },
    );
  });

  it('a user query module with sliding windows matches', async () => {
    await fc.assert(
      fc.asyncProperty(batchesArb(), fc.constantFrom(...CORES), fc.constantFrom(...PARTITIONS), fc.constantFrom<OutputMode>('append', 'update'), async (batches, cores, partitions, mode) => {
        await expectSameAsOracle(withOutputMode(sliding, mode), batches, cores, partitions, true);
      }),
      { numRuns: 25, seed: 5 },
    );
  });

  // Both schemas, every aggregate, dropDuplicates, HAVING, orderBy, stateless plans, null-heavy and mistyped records.
  for (const [name, modes, build] of PLANS) {
    it(`${name} matches in ${modes.join(', ')} mode`, async () => {
      const sensor = name.startsWith('sensors');
      await fc.assert(
        fc.asyncProperty(
          stream(sensor ? sensorRecord : labRecord, sensor ? 40_000 : 15_000),
          fc.constantFrom(...modes),
          fc.constantFrom(...CORES),
          fc.constantFrom(...PARTITIONS),
          fc.boolean(),
          async (batches, mode, cores, partitions, drain) => {
            await expectSameAsOracle(build().toQuery({ name, outputMode: mode }), batches, cores, partitions, drain);
          },
        ),
        { numRuns: 12, seed: name.length },
      );
    });
  }

  it('keeps each partition on one worker thread for the whole run', async () => {
    const batches = fc.sample(batchesArb(), { numRuns: 1, seed: 3 })[0]!;
    const pool = pools.get(3)!;
    // Every worker answers once first, so each has a thread to keep (this test may run alone).
    await resetPool(pool, crashAlertsPlan, 200);
    const threadsBefore = pool.loads.map((l) => l.threadId);
    expect(new Set(threadsBefore).size, `thread ids ${threadsBefore.join(', ')}`).toBe(3);
    expect(threadsBefore.every((t) => typeof t === 'number')).toBe(true);
    const run = await runEngine(pool, [...batches, ...batches], { plan: crashAlertsPlan, partitions: 200 });
    expect(run.summary.batches).toBeGreaterThan(0);
    // runOn throws WORKER_REPLACED or MISROUTE if a partition's state ever reached another thread.
    expect(pool.loads.map((l) => l.threadId)).toEqual(threadsBefore);
  });
});
