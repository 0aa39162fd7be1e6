// Progress records of a real seeded run (worker threads, generator): fields present and their arithmetic consistent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRunArgs } from '../../src/config.js';
import { openSource, planOf } from '../../src/engine/build.js';
import { runQueryPlan } from '../../src/engine/run.js';
import { PHASES } from '../../src/metrics/bottleneck.js';
import type { ProgressRecord } from '../../src/metrics/progress.js';
import { SystemSampler } from '../../src/metrics/system-sampler.js';

const ARGS = ['--rate', '0', '--events', '250000', '--cores', '2', '--partitions', '3', '--start-time', '2024-11-25T10:40:00Z', '--seed', '7', '--late-fraction', '0.05', '--late-spread-ms', '60000', '--sink', 'none', '--no-ui', '--quiet'];

let records: ProgressRecord[] = [];
let summary: { records: number; rejected: number; filtered: number; matched: number; lateRows: number; rowsOut: number };

beforeAll(async () => {
  const { config } = await parseRunArgs(ARGS);
  // A fake reader: the real one's first sample takes ~0.5 s; this test is about the record, not the machine.
  const sampler = new SystemSampler({
    intervalMs: 10,
    reader: { currentLoad: async () => ({ currentLoad: 42, cpus: [{ load: 40 }, { load: 44 }] }), mem: async () => ({ total: 8e9, available: 6e9 }) },
  }).start();
  await sampler.ready();
  try {
    const run = await runQueryPlan(await planOf(config!), {
      source: await openSource(config!, () => undefined),
      sinks: [],
      cores: config!.cores,
      partitions: config!.partitions,
      onProgress: (p) => records.push(p),
      beforeFirstBatch: ({ coordinator }) => {
        coordinator.systemProbe = () => sampler.snapshot();
      },
    });
    summary = await run.done;
  } finally {
    await sampler.stop();
  }
  records = records.filter((p) => !p.kindling.drained);
});

afterAll(() => {
  records = [];
});

describe('progress records of a seeded run', () => {
  it('has one record per batch, numbered from 0, with Spark field names', () => {
    expect(records.length).toBeGreaterThanOrEqual(3);
    records.forEach((p, i) => {
      expect(p.batchId).toBe(i);
      for (const key of ['id', 'runId', 'name', 'timestamp', 'numInputRows', 'inputRowsPerSecond', 'processedRowsPerSecond', 'durationMs', 'eventTime', 'stateOperators', 'sources', 'sink']) {
        expect(p).toHaveProperty(key);
      }
      expect(Date.parse(p.timestamp)).not.toBeNaN();
      expect(p.stateOperators[0]).toMatchObject({ numShufflePartitions: 3 });
      expect(p.sources[0]!.numInputRows).toBe(p.numInputRows);
    });
  });

  it('counts every input row once: rows in = rejected + filtered + matched', () => {
    for (const p of records) expect(p.kindling.rejected + p.kindling.filtered + p.kindling.matched).toBe(p.numInputRows);
    const total = records.reduce((n, p) => n + p.numInputRows, 0);
    expect(total).toBe(250_000);
    expect(total).toBe(summary.records);
  });

  it('adds late rows, output rows and rejects up to the run summary', () => {
    const sum = (f: (p: ProgressRecord) => number): number => records.reduce((n, p) => n + f(p), 0);
    expect(sum((p) => p.kindling.lateRows)).toBe(summary.lateRows);
    expect(sum((p) => p.kindling.lateRows)).toBeGreaterThan(0);
    expect(sum((p) => p.stateOperators[0]!.numRowsDroppedByWatermark)).toBe(summary.lateRows);
    expect(sum((p) => p.sink.numOutputRows)).toBe(summary.rowsOut);
    expect(sum((p) => p.kindling.filtered)).toBe(summary.filtered);
  });

  it('has phase durations that add up to the total (within 1 ms or 2%)', () => {
    for (const p of records) {
      const phases = PHASES.reduce((n, ph) => n + p.durationMs[ph.name], 0);
      for (const ph of PHASES) expect(p.durationMs[ph.name]).toBeGreaterThanOrEqual(0);
      expect(phases).toBeLessThanOrEqual(p.durationMs.total + 1e-6);
      expect(p.durationMs.total - phases).toBeLessThanOrEqual(Math.max(1, p.durationMs.total * 0.02));
    }
  });

  it('has rates consistent with rows and durations', () => {
    records.forEach((p, i) => {
      expect(p.processedRowsPerSecond).toBeCloseTo((p.numInputRows * 1000) / p.durationMs.total, 6);
      if (i === 0) return;
      // inputRowsPerSecond = rows / time between batch starts; timestamps are ISO strings (ms precision).
      const sinceLastMs = Date.parse(p.timestamp) - Date.parse(records[i - 1]!.timestamp);
      const fromTimestamps = (p.numInputRows * 1000) / Math.max(sinceLastMs, 1);
      const bound = (p.numInputRows * 1000) / Math.max(sinceLastMs - 1, 0.5) - (p.numInputRows * 1000) / (sinceLastMs + 1);
      expect(Math.abs(p.inputRowsPerSecond - fromTimestamps)).toBeLessThanOrEqual(bound + 1e-6);
    });
  });

  it('accounts for every stage-1 record in the tasks, and worker busy time is the sum of its tasks', () => {
    for (const p of records) {
      const s1 = p.kindling.tasks.filter((t) => t.stage === 1);
      expect(s1.reduce((n, t) => n + t.rows, 0)).toBe(p.numInputRows);
      for (const t of p.kindling.tasks) {
        expect(t.durationMs).toBeGreaterThanOrEqual(0);
        expect(t.queueWaitMs).toBeGreaterThanOrEqual(0);
        expect(t.workerId).toBeGreaterThanOrEqual(0);
        expect(t.workerId).toBeLessThan(2);
        if (t.stage === 2) expect(t.partitionId).toBeLessThan(3);
      }
      expect(p.kindling.workers.map((w) => w.workerId)).toEqual([0, 1]);
      for (const w of p.kindling.workers) {
        const mine = p.kindling.tasks.filter((t) => t.workerId === w.workerId);
        expect(w.tasks).toBe(mine.length);
        expect(w.busyMs).toBeCloseTo(mine.reduce((n, t) => n + t.durationMs, 0), 6);
        expect(w.utilisation).toBeGreaterThanOrEqual(0);
        expect(w.utilisation).toBeLessThanOrEqual(1);
      }
      expect(p.kindling.mainThreadUtilisation).toBeGreaterThanOrEqual(0);
      expect(p.kindling.mainThreadUtilisation).toBeLessThanOrEqual(1);
    }
  });

  it('reports the watermark in effect during each batch: the max event time of the batches before it minus the delay (30 s), 0 at first', () => {
    let max = -Infinity;
    for (const p of records) {
      expect(p.kindling.watermarkMs).not.toBeNull();
      expect(p.kindling.watermarkMs).toBe(max === -Infinity ? 0 : max - 30_000);
      expect(Date.parse(p.eventTime.watermark!)).toBe(p.kindling.watermarkMs);
      if (p.kindling.maxEventTimeMs !== null) max = Math.max(max, p.kindling.maxEventTimeMs);
    }
  });

  it('carries the system block from the sampler: per-core CPU, machine and process memory', () => {
    for (const p of records) {
      expect(p.system?.cpu).toEqual({ loadPercent: 42, coresLoadPercent: [40, 44] });
      expect(p.system?.memory).toEqual({ totalBytes: 8e9, availableBytes: 6e9, usedBytes: 2e9 });
      expect(p.system!.process.rssBytes).toBeGreaterThan(p.system!.process.heapUsedBytes);
      expect(p.system!.process.heapTotalBytes).toBeGreaterThanOrEqual(p.system!.process.heapUsedBytes);
    }
  });
});
