// The Kafka sink on the real broker: rows as JSON keyed by the grouping key, exactly once at read_committed across a SIGKILL and a restart.
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, expect, it } from 'vitest';
import { crashAlertsPlan } from '../../src/plan/queries.js';
import { expectedJsonl } from '../helpers/oracle-jsonl.js';
import { createTopic, describeKafka, kafkaClient, uniqueName, waitFor } from '../helpers/kafka.js';
import { batchesFromProgress, cleanTemps, kindling, Kindling, readProgress, readTopic, tempDir } from './kafka-harness.js';

const STREAM = ['--start-time', '2024-11-25T10:40:00Z', '--event-rate', '80', '--users', '6', '--crash-one-in', '3'];
const EVENTS = 8000;

afterEach(cleanTemps);

/** Every record a read_committed kafkajs consumer sees in `topic`: key and value, once it has `want` of them and nothing more arrives for a second. */
async function readCommitted(brokers: string, topic: string, want: number): Promise<Array<{ key: string; value: string }>> {
  const got: Array<{ key: string; value: string }> = [];
  const consumer = kafkaClient(brokers).consumer({ groupId: uniqueName('sink-reader'), readUncommitted: false, maxWaitTimeInMs: 100 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        got.push({ key: message.key?.toString() ?? '', value: message.value?.toString() ?? '' });
      },
    });
    await waitFor(() => got.length >= want, { timeoutMs: 60_000, intervalMs: 100, what: `${want} committed rows in ${topic} (so far ${got.length})` });
    // A duplicate would arrive behind the expected rows: give it the time to.
    await sleep(1500);
  } finally {
    await consumer.disconnect();
  }
  return got;
}

describeKafka('Kafka sink (real broker)', (brokers) => {
  it('writes every row exactly once (read_committed) when the run is killed mid-way and restarted from its checkpoint', async () => {
    const input = uniqueName('sink-in');
    const output = uniqueName('sink-out');
    await createTopic(brokers, input, { partitions: 2 });
    const produced = await kindling(['produce', '--brokers', brokers, '--topic', input, '--rate', '0', '--events', String(EVENTS), '--seed', '41', ...STREAM]);
    expect(produced.code, produced.stderr).toBe(0);
    const dir = await tempDir();
    const args = (progressFile: string): string[] => [
      '--brokers', brokers, '--topic', input, '--group', uniqueName('g'), '--starting-offsets', 'earliest', '--available-now',
      '--max-offsets-per-trigger', '200', '--trigger', '150', '--checkpoint-dir', join(dir, 'ckpt'), '--checkpoint-every', '4',
      '--sink', `kafka:${output}`, '--no-ui', '--quiet', '--cores', '2', '--progress-json', progressFile,
    ];

    const first = new Kindling(args(join(dir, 'p1.jsonl')));
    // Killed once some batches have written rows, while later ones are running.
    await waitFor(async () => (await readProgress(join(dir, 'p1.jsonl'))).filter((p) => p.sink.numOutputRows > 0).length >= 3 || first.child.exitCode !== null, {
      timeoutMs: 90_000,
      intervalMs: 20,
      what: 'three batches with output rows',
    });
    first.child.kill('SIGKILL');
    await first.finish();
    expect(first.stderr).toMatch(/kafka sink: writing rows to \S+ on \S+, exactly once, one transaction per batch/);

    const second = await kindling(args(join(dir, 'p2.jsonl')));
    expect(second.code, second.stderr).toBe(0);

    // The oracle: the whole input cut at the batches the two runs recorded (a replayed batch counts once, its last run).
    const progress = [...(await readProgress(join(dir, 'p1.jsonl'))), ...(await readProgress(join(dir, 'p2.jsonl')))];
    const expected = Object.values(expectedJsonl(crashAlertsPlan, batchesFromProgress(progress, input, await readTopic(brokers, input))))
      .flatMap((text) => text.trimEnd().split('\n'))
      .sort();
    expect(expected.length, `${first.stderr}\n${second.stderr}`).toBeGreaterThan(5);
    const rows = await readCommitted(brokers, output, expected.length);
    expect(rows.map((r) => r.value).sort()).toEqual(expected);
    // The key is the grouping key.
    for (const r of rows) expect(JSON.parse(r.value) as { user_id: string }).toMatchObject({ user_id: r.key });

    // The crash the kill may or may not have hit, made certain: Kafka committed the last batch with
    // rows, Kindling's commit log (and the snapshots from it on) did not. The restart runs it again
    // and the sink, finding its batch id in the transaction's marker, does not write it twice.
    const ckpt = join(dir, 'ckpt');
    const lastWithRows = Math.max(...progress.filter((p) => p.sink.numOutputRows > 0).map((p) => p.batchId));
    for (const sub of ['commits', 'snapshots']) {
      for (const name of await readdir(join(ckpt, sub))) if (Number.parseInt(name, 10) >= lastWithRows) await rm(join(ckpt, sub, name));
    }
    const third = await kindling(args(join(dir, 'p3.jsonl')));
    expect(third.code, third.stderr).toBe(0);
    expect(third.stderr).toContain(`kafka sink: batch ${lastWithRows} is already in ${output}`);
    const p3 = await readProgress(join(dir, 'p3.jsonl'));
    expect(p3.find((p) => p.batchId === lastWithRows)?.sink.numOutputRows).toBeGreaterThan(0);
    expect((await readCommitted(brokers, output, expected.length)).map((r) => r.value).sort()).toEqual(expected);
  }, 240_000);

  it('a --sink kafka:TOPIC without a topic, with a bad one, or --sink-topic without a Kafka sink, is a usage error (exit 2) naming the flag', async () => {
    const noTopic = await kindling(['--brokers', brokers, '--sink', 'kafka:', '--no-ui']);
    expect(noTopic.stderr).toContain("--sink kafka:TOPIC needs a topic after 'kafka:'");
    expect(noTopic.code).toBe(2);
    const badName = await kindling(['--brokers', brokers, '--sink', 'kafka:alerts/today', '--no-ui']);
    expect(badName.stderr).toContain("--sink kafka:TOPIC: a Kafka topic name is 1 to 249 letters, digits, '.', '_' or '-' (not '.' or '..'); got 'alerts/today'");
    expect(badName.code).toBe(2);
    const stray = await kindling(['--brokers', brokers, '--sink-topic', 'x', '--no-ui']);
    expect(stray.stderr).toContain('--sink-topic applies to --sink kafka:TOPIC');
    expect(stray.code).toBe(2);
  }, 60_000);
});
