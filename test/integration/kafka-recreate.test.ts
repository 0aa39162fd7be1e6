// A topic deleted and recreated while Kindling reads it or while it is stopped, with more records than before: caught by its topic id (Spark's failOnDataLoss).
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { createTopic, describeKafka, kafkaClient, uniqueName, waitFor } from '../helpers/kafka.js';
import { cleanTemps, inputRows, Kindling, kindling, readProgress, tempDir } from './kafka-harness.js';

afterEach(cleanTemps);

describeKafka('Kafka topic recreated mid-run (real broker)', (brokers) => {
  async function produce(topic: string, events: number, seed: number): Promise<void> {
    const r = await kindling(['produce', '--brokers', brokers, '--topic', topic, '--rate', '0', '--events', String(events), '--seed', String(seed), '--quiet']);
    expect(r.code, r.stderr).toBe(0);
  }

  /** Deletes `topic` and waits until the broker no longer lists it. */
  async function deleteTopic(topic: string): Promise<void> {
    const admin = kafkaClient(brokers).admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic] });
    await waitFor(async () => !(await admin.listTopics()).includes(topic), { timeoutMs: 30_000, intervalMs: 100, what: `${topic} deleted` });
    await admin.disconnect();
  }

  /** The topic ids the offsets log recorded, one per logged data batch. */
  async function loggedTopicIds(checkpoint: string): Promise<string[]> {
    const dir = join(checkpoint, 'offsets');
    const ids: string[] = [];
    for (const name of await readdir(dir)) {
      const entry = JSON.parse(await readFile(join(dir, name), 'utf8')) as { noData: boolean; sourceMetadata?: { topicId?: string } };
      if (!entry.noData) ids.push(entry.sourceMetadata?.topicId ?? '(none)');
    }
    return ids;
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
    await deleteTopic(topic);
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
    // The counter rides on the source's figures of a batch that read records (a no-data batch cut nothing).
    expect(progress.filter((p) => p.numInputRows > 0).at(-1)!.sources[0]!.metrics).toMatchObject({ topicRecreations: '1' });
  }, 120_000);

  it('a restart onto a topic recreated while Kindling was stopped: the offsets log keeps the topic id, so it is noticed whatever the new topic holds', async () => {
    const topic = uniqueName('recreate-restart');
    await createTopic(brokers, topic, { partitions: 2 });
    await produce(topic, 2000, 1);
    const dir = await tempDir();
    const checkpoint = join(dir, 'ckpt');
    const args = (progressFile: string, extra: string[] = []): string[] => [
      '--brokers', brokers, '--topic', topic, '--group', uniqueName('g'), '--starting-offsets', 'earliest', '--available-now',
      '--checkpoint-dir', checkpoint, '--sink', 'none', '--no-ui', '--quiet', '--progress-json', progressFile, '--cores', '2', ...extra,
    ];
    const first = await kindling(args(join(dir, 'p1.jsonl')));
    expect(first.code, first.stderr).toBe(0);
    expect(inputRows(await readProgress(join(dir, 'p1.jsonl')))).toBe(2000);
    const oldIds = new Set(await loggedTopicIds(checkpoint));
    expect(oldIds.size).toBe(1);
    const [oldId] = [...oldIds];
    expect(oldId).toMatch(/^[0-9a-f]{32}$/);

    await deleteTopic(topic);
    await createTopic(brokers, topic, { partitions: 2 });
    // 4x the records: the checkpoint's end offsets lie inside the new topic, so only the id tells.
    await produce(topic, 8000, 2);

    const refused = await kindling(args(join(dir, 'p2.jsonl')));
    expect(refused.stderr).toMatch(new RegExp(`topic ${topic} was deleted and recreated since the checkpoint was written \\(topic id ${oldId} is now [0-9a-f]{32}\\)`));
    expect(refused.stderr).toContain("the checkpoint's offsets belong to the old topic");
    expect(refused.code, refused.stderr).toBe(1);
    expect(inputRows(await readProgress(join(dir, 'p2.jsonl'))), refused.stderr).toBe(0);

    const continued = await kindling(args(join(dir, 'p3.jsonl'), ['--fail-on-data-loss', 'false']));
    expect(continued.code, continued.stderr).toBe(0);
    expect(continued.stderr).toMatch(/WARNING: topic \S+ was deleted and recreated since the checkpoint was written/);
    const progress = await readProgress(join(dir, 'p3.jsonl'));
    // The new topic read whole from its earliest offsets, each record once.
    expect(inputRows(progress), continued.stderr).toBe(8000);
    expect(progress.filter((p) => p.numInputRows > 0).at(-1)!.sources[0]!.metrics).toMatchObject({ topicRecreations: '1' });
    const ids = await loggedTopicIds(checkpoint);
    const newIds = ids.filter((id) => id !== oldId);
    expect(new Set(newIds).size).toBe(1);
    expect(newIds.length).toBeGreaterThan(0);

    // And the checkpoint now follows the new topic: another restart reads nothing again and warns of nothing.
    const again = await kindling(args(join(dir, 'p4.jsonl')));
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).not.toContain('recreated');
    expect(inputRows(await readProgress(join(dir, 'p4.jsonl'))), again.stderr).toBe(0);
  }, 180_000);
});
