// The Kafka source end to end on the real broker: `kindling produce` in, the engine's jsonl out, equal to the oracle cut at the recorded offsets.
import { readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import type { Admin } from 'kafkajs';
import { crashAlertsPlan } from '../../src/plan/queries.js';
import { expectedJsonl } from '../helpers/oracle-jsonl.js';
import { createTopic, describeKafka, kafkaClient, uniqueName, waitFor } from '../helpers/kafka.js';
import {
  batchesFromProgress,
  cleanTemps,
  inputRows,
  kindling,
  Kindling,
  readProgress,
  readSinkDir,
  readTopic,
  tempDir,
  type Offsets,
} from './kafka-harness.js';

/** A stream small enough to be quick and dense enough in crashes that crash-alerts emits rows, with late events. */
const STREAM = ['--start-time', '2024-11-25T10:40:00Z', '--event-rate', '400', '--users', '12', '--crash-one-in', '4', '--late-fraction', '0.05', '--late-spread-ms', '40000'];

afterEach(cleanTemps);

describeKafka('Kafka source (real broker)', (brokers) => {
  async function produce(topic: string, events: number, seed: number, extra: string[] = []): Promise<string> {
    const r = await kindling(['produce', '--brokers', brokers, '--topic', topic, '--rate', '0', '--events', String(events), '--seed', String(seed), ...STREAM, ...extra]);
    expect(r.stderr, r.stderr).toContain(`produce: done: ${events.toLocaleString('en-US')} events`);
    expect(r.code).toBe(0);
    return r.stderr;
  }

  function engineArgs(topic: string, group: string, out: string, progress: string, extra: string[] = []): string[] {
    return ['--brokers', brokers, '--topic', topic, '--group', group, '--sink', `jsonl:${out}`, '--progress-json', progress, '--no-ui', '--quiet', '--cores', '2', ...extra];
  }

  async function withAdmin<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
    const admin = kafkaClient(brokers).admin();
    await admin.connect();
    try {
      return await fn(admin);
    } finally {
      await admin.disconnect();
    }
  }

  it('reads a produced seeded stream from both topic partitions and writes exactly what the oracle computes on the same batches', async () => {
    const topic = uniqueName('e2e');
    const group = uniqueName('e2e-group');
    const dir = await tempDir();
    const produced = await produce(topic, 12_000, 11);
    expect(produced).toContain('(2 partition(s), created)');

    const out = join(dir, 'out');
    const progressFile = join(dir, 'progress.jsonl');
    const r = await kindling(engineArgs(topic, group, out, progressFile, ['--starting-offsets', 'earliest', '--available-now', '--partitions', '3']));
    expect(r.stderr).toContain('events in 12,000 | rejected 0');
    expect(r.code).toBe(0);

    const data = await readTopic(brokers, topic);
    expect([...data.values()].map((d) => d.length)).toEqual([6000, 6000]);
    const progress = await readProgress(progressFile);
    const last = progress.filter((p) => p.sources[0]!.endOffset !== null).at(-1)!;
    expect(last.sources[0]!.endOffset).toEqual({ [topic]: { '0': 6000, '1': 6000 } });
    const got = await readSinkDir(out);
    expect(Object.keys(got).length).toBeGreaterThan(0);
    expect(got).toEqual(expectedJsonl(crashAlertsPlan, batchesFromProgress(progress, topic, data)));

    // Consumer lag is in every data batch (Spark's metrics), and the group commit is advisory but made.
    const metrics = (last.sources[0] as { metrics?: Record<string, string> }).metrics;
    expect(metrics?.['maxOffsetsBehindLatest']).toBe('0');
    const committed = await withAdmin((admin) => admin.fetchOffsets({ groupId: group, topics: [topic] }));
    expect(committed[0]!.partitions.map((p) => [p.partition, p.offset]).sort()).toEqual([[0, '6000'], [1, '6000']]);
  });

  it('starts at the end of the topic with --starting-offsets latest (Spark\'s default) and at the beginning with earliest', async () => {
    const topic = uniqueName('latest');
    const dir = await tempDir();
    await produce(topic, 2000, 21);

    // latest: only what is produced after the run starts.
    const progressFile = join(dir, 'latest.jsonl');
    const live = new Kindling(engineArgs(topic, uniqueName('g'), join(dir, 'out-latest'), progressFile, ['--starting-offsets', 'latest']));
    await live.waitForLog(/kafka: reading .* from offset 1000.* from offset 1000 \(--starting-offsets latest\)/);
    await produce(topic, 1000, 22);
    await waitFor(async () => inputRows(await readProgress(progressFile)) >= 1000, { timeoutMs: 30_000, what: 'the 1,000 new events read' });
    expect(await live.interrupt()).toBe(0);
    const progress = await readProgress(progressFile);
    expect(inputRows(progress)).toBe(1000);
    const first = progress.find((p) => p.sources[0]!.startOffset !== null)!;
    expect(first.sources[0]!.startOffset).toEqual({ [topic]: { '0': 1000, '1': 1000 } });
    expect(live.stderr).toContain('events in 1,000');

    // latest with --available-now: nothing is new, so it stops at once having read nothing.
    const none = await kindling(engineArgs(topic, uniqueName('g'), join(dir, 'out-none'), join(dir, 'none.jsonl'), ['--available-now']));
    expect(none.code).toBe(0);
    expect(none.stderr).toContain('events in 0 |');

    // earliest: everything the topic holds.
    const all = await kindling(engineArgs(topic, uniqueName('g'), join(dir, 'out-all'), join(dir, 'all.jsonl'), ['--starting-offsets', 'earliest', '--available-now']));
    expect(all.code).toBe(0);
    expect(all.stderr).toContain('events in 3,000 | rejected 0');
  });

  it('cuts batches of at most --max-offsets-per-trigger offsets, split across topic partitions, and still equals the oracle', async () => {
    const topic = uniqueName('maxoff');
    const dir = await tempDir();
    await produce(topic, 9000, 31);
    const out = join(dir, 'out');
    const progressFile = join(dir, 'progress.jsonl');
    const r = await kindling(engineArgs(topic, uniqueName('g'), out, progressFile, ['--starting-offsets', 'earliest', '--available-now', '--max-offsets-per-trigger', '1000']));
    expect(r.code).toBe(0);
    const progress = await readProgress(progressFile);
    const sizes = progress
      .filter((p) => p.sources[0]!.startOffset !== null)
      .map((p) => {
        const s = p.sources[0]!;
        const start = (s.startOffset as Offsets)[topic]!;
        const end = (s.endOffset as Offsets)[topic]!;
        return Object.keys(start).map((k) => end[k]! - start[k]!);
      });
    expect(sizes.length).toBeGreaterThanOrEqual(9);
    for (const perPartition of sizes) expect(perPartition[0]! + perPartition[1]!).toBeLessThanOrEqual(1000);
    // With a backlog in both, each batch takes from both topic partitions.
    expect(sizes.filter(([a, b]) => a! > 0 && b! > 0).length).toBeGreaterThanOrEqual(sizes.length - 1);
    expect(inputRows(progress)).toBe(9000);
    const data = await readTopic(brokers, topic);
    expect(await readSinkDir(out)).toEqual(expectedJsonl(crashAlertsPlan, batchesFromProgress(progress, topic, data)));
  });

  it('counts corrupt values and logs each with its topic partition and offset, counts mistyped fields; a value with a raw newline stays one record', async () => {
    const topic = uniqueName('bad');
    const dir = await tempDir();
    await createTopic(brokers, topic, { partitions: 2 });
    const good = (i: number): string =>
      JSON.stringify({ timestamp: Date.parse('2024-11-25T10:40:00Z') + i * 100, status: 'OK', severity: 'High', source_ip: '192.168.1.7', user_id: `user_${1000 + (i % 3)}`, content: 'app crash' });
    const producer = kafkaClient(brokers).producer();
    await producer.connect();
    const bad: Array<{ partition: number; value: string | null }> = [
      { partition: 0, value: 'not json at all' },
      { partition: 1, value: '{"timestamp": "yesterday", "severity": "High", "user_id": "user_1", "content": "crash"}' },
      { partition: 1, value: null },
      { partition: 0, value: '{"timestamp": 1732531200000, "severity": "High", "user_id": "user_1", "content": "crash"' },
    ];
    const messages: Array<{ partition: number; value: string | null }> = [];
    for (let i = 0; i < 400; i++) messages.push({ partition: i % 2, value: good(i) });
    messages.splice(50, 0, bad[0]!);
    messages.splice(120, 0, bad[1]!);
    messages.splice(200, 0, bad[2]!);
    messages.splice(333, 0, bad[3]!);
    // Valid JSON with a raw newline between fields: one record, accepted.
    messages.push({ partition: 0, value: good(400).replace(',"status"', ',\n"status"') });
    await producer.send({ topic, messages });
    await producer.disconnect();

    const out = join(dir, 'out');
    const progressFile = join(dir, 'progress.jsonl');
    const r = await kindling(engineArgs(topic, uniqueName('g'), out, progressFile, ['--starting-offsets', 'earliest', '--available-now']));
    expect(r.code).toBe(0);
    // As Spark's from_json: only invalid JSON is corrupt (the records the pre-check skips, without "crash", are not parsed);
    // a mistyped timestamp is a null field of a kept record.
    expect(r.stderr).toContain('events in 405 | rejected 1');
    const data = await readTopic(brokers, topic);
    const offsetOf = (b: { partition: number; value: string | null }): number => data.get(b.partition)!.indexOf(b.value ?? '');
    expect(offsetOf(bad[3]!)).toBeGreaterThanOrEqual(0);
    expect(r.stderr).toMatch(new RegExp(`corrupt record \\(a row of nulls\\) at ${topic}-0 offset ${offsetOf(bad[3]!)}: `));
    const progress = await readProgress(progressFile);
    expect(progress.reduce((n, p) => n + (p.kindling.fieldNulls['timestamp']?.mistyped ?? 0), 0)).toBe(1);
    expect(await readSinkDir(out)).toEqual(expectedJsonl(crashAlertsPlan, batchesFromProgress(progress, topic, data)));
  });

  it('resumes from its checkpoint (not from --starting-offsets or the group), replaying logged batches cut exactly to their logged end offsets', async () => {
    const topic = uniqueName('ckpt');
    const dir = await tempDir();
    const out = join(dir, 'out');
    const ckpt = join(dir, 'ckpt');
    const checkpoint = ['--checkpoint-dir', ckpt, '--checkpoint-every', '3', '--max-offsets-per-trigger', '700'];
    await produce(topic, 6000, 41);

    // Run 1 reads it all: batches 0-8, snapshots after 2, 5 and 8.
    const progress1 = join(dir, 'p1.jsonl');
    const first = await kindling(engineArgs(topic, uniqueName('g'), out, progress1, ['--starting-offsets', 'earliest', '--available-now', ...checkpoint]));
    expect(first.code).toBe(0);
    const run1 = await readProgress(progress1);
    const logged = (await readdir(join(ckpt, 'offsets'))).map((f) => Number.parseInt(f, 10)).sort((a, b) => a - b);
    const last = logged.at(-1)!;
    expect(last).toBeGreaterThanOrEqual(8);
    // As if the disk had damaged every snapshot but the oldest, and a crash had come before the last
    // commit: recovery falls back to the oldest snapshot and replays every logged batch after it.
    const snapshots = (await readdir(join(ckpt, 'snapshots'))).sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10));
    expect(snapshots.length).toBeGreaterThanOrEqual(2);
    for (const file of snapshots.slice(1)) await writeFile(join(ckpt, 'snapshots', file), 'not a snapshot');
    await rm(join(ckpt, 'commits', `${last}.json`));

    // More input, then run 2: latest would skip everything, but the checkpoint decides.
    await produce(topic, 3000, 42);
    const progress2 = join(dir, 'p2.jsonl');
    const second = await kindling(engineArgs(topic, uniqueName('g'), out, progress2, ['--starting-offsets', 'latest', '--available-now', ...checkpoint]));
    expect(second.code).toBe(0);
    expect(second.stderr).toContain('(from the checkpoint)');
    const run2 = await readProgress(progress2);
    // The batches after the older snapshot ran again, each with the boundaries it had.
    const replayed = run2.filter((p) => p.batchId <= last);
    expect(replayed.length).toBeGreaterThanOrEqual(3);
    for (const p of replayed) {
      const before = run1.find((q) => q.batchId === p.batchId)!;
      expect([p.batchId, p.sources[0]!.startOffset, p.sources[0]!.endOffset]).toEqual([p.batchId, before.sources[0]!.startOffset, before.sources[0]!.endOffset]);
    }
    const data = await readTopic(brokers, topic);
    const batches = batchesFromProgress([...run1, ...run2], topic, data);
    expect(batches.reduce((n, b) => n + b.length, 0)).toBe(9000);
    expect(await readSinkDir(out)).toEqual(expectedJsonl(crashAlertsPlan, batches));
  });
});
