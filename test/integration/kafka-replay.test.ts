// kindling explain on a Kafka run (real broker): the topic read again at the logged offsets reproduces the run, until Kafka deletes records a replay needs.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import type { ReplayTrace } from '../../src/replay/trace.js';
import { describeKafka, kafkaClient, uniqueName } from '../helpers/kafka.js';
import { runProcess } from '../helpers/process.js';

const MAIN = resolve('dist/src/main.js');
/** The CLI without KAFKA_BROKERS, so a test says when it gives the brokers. */
const kindling = (args: string[]) => runProcess(process.execPath, [MAIN, ...args], { timeoutMs: 120_000, env: { KAFKA_BROKERS: '' } });
const STREAM = ['--seed', '7', '--users', '5', '--event-rate', '200', '--crash-one-in', '10', '--late-fraction', '0.1', '--late-spread-ms', '60000', '--start-time', '2024-11-25T10:40:00Z'];

type ExplainJson = Omit<ReplayTrace, 'batches'> & { check: { checked: string[]; divergence: string | null } };

const temps: string[] = [];
afterAll(async () => {
  await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })));
});

describeKafka('kindling explain on a Kafka run (real broker)', (brokers) => {
  it("reproduces the run from the topic, then names the batches Kafka's deletion took", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kindling-kafka-replay-'));
    temps.push(dir);
    const topic = uniqueName('replay');
    const produced = await kindling(['produce', '--brokers', brokers, '--topic', topic, '--rate', '0', '--events', '8000', ...STREAM]);
    expect(produced.code, produced.stderr).toBe(0);
    const out = join(dir, 'out');
    const ck = join(dir, 'ck');
    const run = await kindling(['--brokers', brokers, '--topic', topic, '--starting-offsets', 'earliest', '--available-now', '--max-offsets-per-trigger', '1000', '--cores', '2', '--no-ui', '--quiet', '--sink', `jsonl:${out}`, '--checkpoint-dir', ck]);
    expect(run.code, run.stderr).toBe(0);

    const noBrokers = await kindling(['explain', '--checkpoint-dir', ck, '--key', 'user_1002']);
    expect(noBrokers.code).toBe(2);
    expect(noBrokers.stderr).toContain(`is over Kafka topic ${topic}: give --brokers HOST:PORT`);

    const r = await kindling(['explain', '--checkpoint-dir', ck, '--brokers', brokers, '--key', 'user_1002', '--jsonl', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const explained = JSON.parse(r.stdout) as ExplainJson;
    expect(explained.check.divergence).toBeNull();
    // The engine's rows for the key are the windows explain calls emitted.
    const engine: Array<Record<string, unknown>> = [];
    for (const name of await readdir(out)) engine.push(...(await readFile(join(out, name), 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>));
    const emitted = explained.windows.flatMap((w) => (w.outcome.kind === 'emitted' ? [w.outcome.row] : []));
    expect(emitted.length).toBeGreaterThan(0);
    expect(emitted).toEqual(expect.arrayContaining(engine.filter((row) => row['user_id'] === 'user_1002')));
    expect(emitted).toHaveLength(engine.filter((row) => row['user_id'] === 'user_1002').length);
    // Records are named by topic-partition and offset.
    expect(explained.records[0]!.position).toMatch(new RegExp(`^${topic}-[01] offset \\d+$`));

    // Kafka deletes the start of partition 0 (as retention would): the batches that read it can no longer be replayed.
    const admin = kafkaClient(brokers).admin();
    await admin.connect();
    try {
      // kafkajs finds the partition's leader in metadata it must have loaded first.
      await admin.fetchTopicMetadata({ topics: [topic] });
      await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '1500' }] });
    } finally {
      await admin.disconnect();
    }
    const gone = await kindling(['explain', '--checkpoint-dir', ck, '--brokers', brokers, '--key', 'user_1002']);
    expect(gone.code).toBe(2);
    expect(gone.stderr).toMatch(new RegExp(`Kafka topic ${topic} no longer holds the records of batches? 0(-\\d+)? \\(\\d+ of the \\d+ logged\\): partition 0 now starts at offset 1500, but batch 0 starts at 0`));
  });
});
