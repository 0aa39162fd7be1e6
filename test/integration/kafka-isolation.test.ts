// --kafka-isolation-level on the real broker: kafkajs transactions committed, aborted and left open, read at both levels.
import { join } from 'node:path';
import { CompressionTypes } from 'kafkajs';
import { afterEach, expect, it } from 'vitest';
import { crashAlertsPlan } from '../../src/plan/queries.js';
import { expectedJsonl } from '../helpers/oracle-jsonl.js';
import { DEFAULT_GENERATOR, labEventJson } from '../../src/source/lab-events.js';
import { KafkaSource, type KafkaIsolationLevel } from '../../src/source/kafka.js';
import { createTopic, describeKafka, kafkaClient, uniqueName, waitFor } from '../helpers/kafka.js';
import { splitRecords } from '../helpers/kafka-splits.js';
import { cleanTemps, kindling, readProgress, readSinkDir, tempDir, type Offsets } from './kafka-harness.js';

afterEach(cleanTemps);

/** Lab events (crashes every 4th) over 150 s of event time: crash-alerts emits rows. */
const SPEC = { ...DEFAULT_GENERATOR, seed: 5, startTimeMs: Date.parse('2024-11-25T10:40:00Z'), eventsPerSecond: 20, users: 6, crashOneIn: 4, lateFraction: 0 };
const event = (i: number): string => labEventJson(SPEC, i);

describeKafka('Kafka isolation levels (real broker, kafkajs transactions)', (brokers) => {
  /**
   * Writes events 0-2999 into one topic partition: plain sends, committed transactions, aborted
   * ones (plain and gzip), then a transaction left open. Returns the open transaction (to abort at
   * the end) and which event indexes each level must read.
   */
  async function fill(topic: string): Promise<{ abortOpen: () => Promise<void>; committed: number[]; uncommitted: number[] }> {
    await createTopic(brokers, topic, { partitions: 1 });
    const kafka = kafkaClient(brokers);
    const plain = kafka.producer();
    await plain.connect();
    const tx = kafka.producer({ transactionalId: uniqueName('tx'), idempotent: true, maxInFlightRequests: 1 });
    await tx.connect();
    const committed: number[] = [];
    const uncommitted: number[] = [];
    const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, k) => from + k);
    const messages = (ids: number[]) => ids.map((i) => ({ value: event(i) }));
    for (let block = 0; block < 10; block++) {
      const base = block * 300;
      const a = range(base, base + 100);
      await plain.send({ topic, messages: messages(a) });
      const t1 = await tx.transaction();
      const b = range(base + 100, base + 200);
      await t1.send({ topic, messages: messages(b.slice(0, 50)) });
      await t1.send({ topic, messages: messages(b.slice(50)), compression: CompressionTypes.GZIP });
      await t1.commit();
      const t2 = await tx.transaction();
      const c = range(base + 200, base + 300);
      await t2.send({ topic, messages: messages(c.slice(0, 50)), compression: block % 2 ? CompressionTypes.GZIP : CompressionTypes.None });
      await t2.send({ topic, messages: messages(c.slice(50)) });
      await t2.abort();
      committed.push(...a, ...b);
      uncommitted.push(...a, ...b, ...c);
    }
    const open = kafka.producer({ transactionalId: uniqueName('open'), idempotent: true, maxInFlightRequests: 1 });
    await open.connect();
    const t3 = await open.transaction();
    await t3.send({ topic, messages: messages(range(3000, 3050)) });
    uncommitted.push(...range(3000, 3050));
    await plain.disconnect();
    await tx.disconnect();
    return {
      committed,
      uncommitted,
      abortOpen: async () => {
        await t3.abort();
        await open.disconnect();
      },
    };
  }

  async function readAll(topic: string, isolationLevel: KafkaIsolationLevel): Promise<{ values: string[]; lastEnd: number }> {
    const source = new KafkaSource({ brokers: [brokers], topic, groupId: uniqueName('g'), startingOffsets: 'earliest', maxOffsetsPerTrigger: 700, availableNow: true, splitBytes: 8192, log: () => undefined, isolationLevel });
    const values: string[] = [];
    let lastEnd = 0;
    try {
      for (let r = await source.poll(); r.kind !== 'end'; r = await source.poll()) {
        if (r.kind !== 'batch') continue;
        for (const s of r.batch.splits) values.push(...(await splitRecords(s)).map((x) => x.value));
        lastEnd = r.batch.endOffsets[topic]!['0']!;
      }
    } finally {
      await source.close();
    }
    return { values, lastEnd };
  }

  it('read_committed drops aborted transactions (plain and gzip batches) and stops before an open one; read_uncommitted reads them all', async () => {
    const topic = uniqueName('isolation');
    const { committed, uncommitted, abortOpen } = await fill(topic);
    try {
      const atCommitted = await readAll(topic, 'read_committed');
      expect(atCommitted.values).toEqual(committed.map(event));
      const atUncommitted = await readAll(topic, 'read_uncommitted');
      expect(atUncommitted.values).toEqual(uncommitted.map(event));
      // kafkajs at read_committed (its default) agrees on where the readable part ends: the open transaction's first offset.
      const admin = kafkaClient(brokers).admin();
      await admin.connect();
      const [lso] = await admin.fetchTopicOffsets(topic);
      await admin.disconnect();
      expect(atCommitted.lastEnd).toBe(Number(lso!.high));
      expect(atUncommitted.lastEnd).toBeGreaterThan(atCommitted.lastEnd);
    } finally {
      await abortOpen();
    }
  }, 120_000);

  it('the engine with --kafka-isolation-level read_committed writes what the oracle computes on the committed events, batch by batch', async () => {
    const topic = uniqueName('isolation-engine');
    const { committed, abortOpen } = await fill(topic);
    await abortOpen();
    const dir = await tempDir();
    const out = join(dir, 'out');
    const progressFile = join(dir, 'progress.jsonl');
    const r = await kindling([
      '--brokers', brokers, '--topic', topic, '--group', uniqueName('g'), '--sink', `jsonl:${out}`, '--progress-json', progressFile, '--no-ui', '--quiet',
      '--cores', '2', '--starting-offsets', 'earliest', '--available-now', '--max-offsets-per-trigger', '900', '--kafka-isolation-level', 'read_committed',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`events in ${committed.length.toLocaleString('en-US')} | rejected 0`);
    // The oracle's batches: the committed events whose offsets fall in each batch's recorded range (kafkajs gives each event's offset).
    const offsetOf = new Map<string, number>();
    const consumer = kafkaClient(brokers).consumer({ groupId: uniqueName('reader') });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void offsetOf.set(message.value!.toString(), Number(message.offset)) });
    await waitFor(() => offsetOf.size === committed.length, { timeoutMs: 30_000, intervalMs: 50, what: 'committed events read back by kafkajs' });
    await consumer.disconnect();
    const progress = await readProgress(progressFile);
    const batches = progress.map((p) => {
      const s = p.sources[0]!;
      if (s.startOffset === null) return [];
      const [from, to] = [(s.startOffset as Offsets)[topic]!['0']!, (s.endOffset as Offsets)[topic]!['0']!];
      return committed.map(event).filter((v) => offsetOf.get(v)! >= from && offsetOf.get(v)! < to);
    });
    expect(batches.flat().length).toBe(committed.length);
    const got = await readSinkDir(out);
    expect(Object.keys(got).length).toBeGreaterThan(0);
    expect(got).toEqual(expectedJsonl(crashAlertsPlan, batches));
  }, 120_000);
});
