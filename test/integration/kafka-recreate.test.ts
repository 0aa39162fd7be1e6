// A topic deleted and recreated while Kindling reads it, with more records than before: caught by its topic id (Spark's failOnDataLoss).
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { createTopic, describeKafka, kafkaClient, uniqueName, waitFor } from '../helpers/kafka.js';
import { cleanTemps, Kindling, kindling, readProgress, tempDir } from './kafka-harness.js';

afterEach(cleanTemps);

describeKafka('Kafka topic recreated mid-run (real broker)', (brokers) => {
  async function produce(topic: string, events: number, seed: number): Promise<void> {
    const r = await kindling(['produce', '--brokers', brokers, '--topic', topic, '--rate', '0', '--events', String(events), '--seed', String(seed), '--quiet']);
    expect(r.code, r.stderr).toBe(0);
  }

  /** Starts a live run on `topic`, waits until it has read `events`, then deletes the topic and recreates it with 4x as many records. */
  async function recreateUnder(topic: string, extra: string[]): Promise<{ run: Kindling; progressFile: string }> {
    await createTopic(brokers, topic, { partitions: 2 });
    await produce(topic, 2000, 1);
    const dir = await tempDir();
    const progressFile = join(dir, 'progress.jsonl');
    const run = new Kindling(['--brokers', brokers, '--topic', topic, '--group', uniqueName('g'), '--starting-offsets', 'earliest', '--sink', 'none', '--no-ui', '--quiet', '--progress-json', progressFile, '--cores', '2', ...extra]);
    await waitFor(async () => (await readProgress(progressFile)).reduce((n, p) => n + p.numInputRows, 0) >= 2000 || run.child.exitCode !== null, {
      timeoutMs: 60_000,
      intervalMs: 100,
      what: 'the first 2,000 events read',
    });
    const admin = kafkaClient(brokers).admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic] });
    await waitFor(async () => !(await admin.listTopics()).includes(topic), { timeoutMs: 30_000, intervalMs: 100, what: `${topic} deleted` });
    await admin.disconnect();
    await createTopic(brokers, topic, { partitions: 2 });
    // More records than the old end offsets: read from the old positions, the new topic would look like a continuation.
    await produce(topic, 8000, 2);
    return { run, progressFile };
  }

  it('stops the run with a clear message (failOnDataLoss true, the default), whatever the new topic holds', async () => {
    const { run } = await recreateUnder(uniqueName('recreate'), []);
    const code = await run.finish(60_000);
    expect(run.stderr).toMatch(/topic recreate-\S+ was deleted and recreated \(topic id [0-9a-f]{32} is now [0-9a-f]{32}\)/);
    expect(run.stderr).toContain('--fail-on-data-loss false');
    expect(code).toBe(1);
  }, 120_000);

  it('--fail-on-data-loss false: warns, counts, and reads the new topic from its earliest offsets', async () => {
    const { run, progressFile } = await recreateUnder(uniqueName('recreate-continue'), ['--fail-on-data-loss', 'false']);
    await run.waitForLog(/WARNING: topic \S+ was deleted and recreated/, 60_000);
    await waitFor(async () => (await readProgress(progressFile)).reduce((n, p) => n + p.numInputRows, 0) >= 10_000, { timeoutMs: 60_000, intervalMs: 100, what: 'the new topic read' });
    const progress = await readProgress(progressFile);
    expect(await run.interrupt()).toBe(0);
    // Every record of the old topic and of the new one, each once (a batch of the old topic in flight when it was deleted may be the only loss, and none was).
    expect(progress.reduce((n, p) => n + p.numInputRows, 0)).toBe(10_000);
    expect(progress.at(-1)!.sources[0]!.metrics).toMatchObject({ topicRecreations: '1' });
  }, 120_000);
});
