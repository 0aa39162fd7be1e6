// Record latency on the real broker: every batch with input reports it, over all its records, within what the wall clock allows.
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { describeKafka, uniqueName } from '../helpers/kafka.js';
import { cleanTemps, kindling, readProgress, tempDir } from './kafka-harness.js';

afterEach(cleanTemps);

describeKafka('record latency (real broker)', (brokers) => {
  for (const compression of ['none', 'gzip']) {
    it(`is in the progress record of every batch with input, sane against the clock (${compression} batches)`, async () => {
      const topic = uniqueName('latency');
      const dir = await tempDir();
      const producedFromMs = Date.now();
      const produced = await kindling(['produce', '--brokers', brokers, '--topic', topic, '--rate', '0', '--events', '6000', '--seed', '3', '--compression', compression]);
      expect(produced.code, produced.stderr).toBe(0);
      const producedUntilMs = Date.now();

      const progressFile = join(dir, 'progress.jsonl');
      const args = ['--brokers', brokers, '--topic', topic, '--starting-offsets', 'earliest', '--available-now', '--max-offsets-per-trigger', '2000', '--sink', 'none', '--progress-json', progressFile, '--no-ui', '--quiet', '--cores', '2'];
      const r = await kindling(args);
      expect(r.code, r.stderr).toBe(0);

      const progress = await readProgress(progressFile);
      const withInput = progress.filter((p) => p.numInputRows > 0);
      expect(withInput.length).toBeGreaterThan(1);
      for (const p of withInput) {
        const latency = p.kindling.recordLatencyMs;
        expect(latency, `batch ${p.batchId}`).toBeDefined();
        expect(latency!.records).toBe(p.numInputRows);
        expect(latency!.p50).toBeLessThanOrEqual(latency!.p99);
        expect(latency!.p99).toBeLessThanOrEqual(latency!.max);
        // Every record was stamped while the producer ran, and the batch ended after it started.
        const startedMs = Date.parse(p.timestamp);
        const endedMs = startedMs + p.durationMs.total - p.durationMs.source;
        expect(latency!.max).toBeLessThanOrEqual(endedMs - producedFromMs + 1);
        expect(latency!.p50).toBeGreaterThanOrEqual(startedMs - producedUntilMs - 1);
      }
      // A no-data batch has no records to measure.
      for (const p of progress.filter((q) => q.numInputRows === 0)) expect(p.kindling.recordLatencyMs).toBeUndefined();
      expect(withInput.reduce((n, p) => n + p.kindling.recordLatencyMs!.records, 0)).toBe(6000);
    });
  }
});
