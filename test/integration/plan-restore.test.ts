// Every kind of operator state (aggregates of both schemas, HyperLogLog++ bytes, dropDuplicates keys) survives a snapshot and a
// restart at other --cores and --partitions on real worker threads: the output before and after the crash is the oracle's.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Coordinator } from '../../src/engine/coordinator.js';
import { WorkerPool } from '../../src/engine/pool.js';
import type { OutputMode } from '../../src/plan/plan.js';
import { runPlanReference } from '../../src/plan/reference.js';
import type { EmittedBatch, Sink } from '../../src/sink/sink.js';
import { resetPool } from '../helpers/engine.js';
import { MemoryLog } from '../helpers/memory-log.js';
import { MemorySource } from '../helpers/memory-source.js';
import { PLANS, labRecord, sensorRecord, stream } from '../helpers/plan-cases.js';

/** A sink that fails once at one batch (a crash after the batch's offsets, before its commit). */
class FailingSink implements Sink {
  readonly name = 'failing';
  readonly batches: EmittedBatch[] = [];
  constructor(private failAt: number | null) {}
  async emit(batch: EmittedBatch): Promise<void> {
    if (batch.batchId === this.failAt) {
      this.failAt = null;
      throw new Error(`sink failed at batch ${batch.batchId}`);
    }
    this.batches.push({ ...batch, rows: [...batch.rows] });
  }
  async close(): Promise<void> {}
}

const pools = new Map<number, WorkerPool>();
beforeAll(() => {
  for (const cores of [1, 2, 3]) pools.set(cores, new WorkerPool(cores));
});
afterAll(async () => {
  await Promise.all([...pools.values()].map((p) => p.close()));
});

describe('operator state through a crash and a restore at another layout', () => {
  // Plans with state: dropDuplicates alone and before an aggregation, every aggregate, HAVING, both schemas.
  const stateful = PLANS.filter(([name]) => !name.startsWith('a stateless'));
  for (const [name, modes, build] of stateful) {
    it(name, async () => {
      const sensor = name.startsWith('sensors');
      await fc.assert(
        fc.asyncProperty(
          stream(sensor ? sensorRecord : labRecord, sensor ? 40_000 : 15_000).filter((b) => b.length >= 3),
          fc.constantFrom(...modes),
          fc.constantFrom(1, 2, 3),
          fc.constantFrom(1, 2, 3),
          fc.constantFrom(1, 7),
          fc.constantFrom(2, 7),
          async (batches, mode: OutputMode, coresBefore, coresAfter, partitionsBefore, partitionsAfter) => {
            const plan = build().toQuery({ name, outputMode: mode });
            const oracle = runPlanReference(plan, batches);
            const failAt = Math.min(2, oracle.batches.length - 1);
            const log = new MemoryLog();
            const options = (partitions: number) => ({ plan, partitions, triggerMs: 0, drain: false, maxRecordBytes: 1 << 20, maxLoggedRejects: 0, log: () => undefined, checkpoint: { log, every: 1 } });
            const before = pools.get(coresBefore)!;
            await resetPool(before, plan, partitionsBefore);
            const first = new FailingSink(failAt);
            const crashed = new Coordinator(options(partitionsBefore), new MemorySource(batches), [first], before);
            await crashed.recover();
            await expect(crashed.run(new AbortController().signal)).rejects.toThrow(`sink failed at batch ${failAt}`);
            // A new process at another --cores and --partitions: empty workers, the same checkpoint.
            const after = pools.get(coresAfter)!;
            await resetPool(after, plan, partitionsAfter);
            const second = new FailingSink(null);
            const restarted = new Coordinator(options(partitionsAfter), new MemorySource(batches), [second], after);
            await restarted.recover();
            await restarted.run(new AbortController().signal);
            const emitted = [...first.batches, ...second.batches].filter((b) => b.rows.length > 0).map((b) => ({ batchId: b.batchId, rows: b.rows }));
            expect(emitted).toEqual(oracle.batches.filter((b) => b.rows.length > 0).map((b) => ({ batchId: b.batchId, rows: b.rows })));
          },
        ),
        { numRuns: 6, seed: name.length + 1 },
      );
    });
  }
});
