// A live Kafka run's rates on the real broker: processedRowsPerSecond leaves out the time a poll waited for records (Spark's definition).
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { describeKafka, uniqueName, waitFor } from '../helpers/kafka.js';
import { cleanTemps, inputRows, kindling, Kindling, readProgress, tempDir } from './kafka-harness.js';

afterEach(cleanTemps);

describeKafka('Kafka progress rates (real broker)', (brokers) => {
  it('a batch whose poll waited for records reports the wait apart, and its processed rate is rows over the rest of the batch', async () => {
    const topic = uniqueName('rates');
    const dir = await tempDir();
    // The topic exists before the run, so the run starts at its (empty) end and then waits for each send.
    const created = await kindling(['produce', '--brokers', brokers, '--topic', topic, '--rate', '0', '--events', '1']);
    expect(created.code).toBe(0);

    const progressFile = join(dir, 'progress.jsonl');
    const live = new Kindling(['--brokers', brokers, '--topic', topic, '--group', uniqueName('g'), '--sink', 'none', '--progress-json', progressFile, '--no-ui', '--quiet', '--cores', '1']);
    await live.waitForLog(/kafka: reading .*--starting-offsets latest/);
    // A slow producer: batches of a few records, most of them cut right after a poll waited for them.
    const produced = await kindling(['produce', '--brokers', brokers, '--topic', topic, '--rate', '300', '--events', '900', '--seed', '5']);
    expect(produced.code).toBe(0);
    await waitFor(async () => inputRows(await readProgress(progressFile)) >= 900, { timeoutMs: 30_000, what: 'the 900 events read' });
    expect(await live.interrupt()).toBe(0);

    const data = (await readProgress(progressFile)).filter((p) => p.numInputRows > 0);
    expect(inputRows(data)).toBe(900);
    for (const p of data) {
      const wait = p.kindling.inputWaitMs;
      expect(wait).toBeGreaterThanOrEqual(0);
      expect(wait).toBeLessThanOrEqual(p.durationMs.source);
      expect(p.processedRowsPerSecond).toBeCloseTo((p.numInputRows * 1000) / Math.max(1, p.durationMs.total - wait), 3);
    }
    const waited = data.filter((p) => p.kindling.inputWaitMs > 0);
    expect(waited.length).toBeGreaterThan(0);
    // There the processed rate is above rows over the whole batch: the wait is not counted as processing.
    for (const p of waited) expect(p.processedRowsPerSecond).toBeGreaterThan((p.numInputRows * 1000) / p.durationMs.total);
  });
});
