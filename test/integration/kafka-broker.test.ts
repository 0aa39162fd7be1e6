// Smoke test of the real local Kafka broker with kafkajs: topics, produce, group consume, commit, resume.

import { afterAll, beforeAll, expect, it } from 'vitest';
import { Partitioners, type Admin, type Kafka } from 'kafkajs';
import { createTopic, describeKafka, kafkaClient, uniqueName, waitFor } from '../helpers/kafka.js';

interface Seen {
  partition: number;
  offset: string;
  i: number;
}

/**
 * Runs one consumer of `groupId` (manual commits, eachBatch) until `expected` messages have been
 * processed and committed, then disconnects it. Returns what it saw.
 */
async function consumeRound(kafka: Kafka, groupId: string, topic: string, expected: number): Promise<Seen[]> {
  const consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 1000, maxWaitTimeInMs: 250 });
  const seen: Seen[] = [];
  let committed = 0;
  await consumer.connect();
  try {
    // fromBeginning only applies when the group has no committed offset for a partition.
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        let next: bigint | undefined;
        let n = 0;
        for (const m of batch.messages) {
          if (!isRunning() || isStale()) break;
          seen.push({ partition: batch.partition, offset: m.offset, i: (JSON.parse(m.value!.toString()) as { i: number }).i });
          resolveOffset(m.offset);
          next = BigInt(m.offset) + 1n;
          n++;
        }
        if (next !== undefined) {
          await consumer.commitOffsets([{ topic, partition: batch.partition, offset: next.toString() }]);
          committed += n;
        }
        await heartbeat();
      },
    });
    await waitFor(() => committed >= expected, {
      timeoutMs: 45_000,
      intervalMs: 50,
      what: `${expected} committed messages of ${topic} in group ${groupId} (so far ${committed})`,
    });
  } finally {
    await consumer.disconnect();
  }
  return seen;
}

async function produce(kafka: Kafka, topic: string, from: number, to: number): Promise<void> {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  await producer.connect();
  try {
    const messages = [];
    for (let i = from; i < to; i++) messages.push({ partition: i % 2, key: `user-${i}`, value: JSON.stringify({ i }) });
    await producer.send({ topic, messages, acks: -1 });
  } finally {
    await producer.disconnect();
  }
}

describeKafka('real Kafka broker (smoke)', (brokers) => {
  let kafka: Kafka;
  let admin: Admin;

  beforeAll(async () => {
    kafka = kafkaClient(brokers);
    admin = kafka.admin();
    await admin.connect();
  });

  afterAll(async () => {
    await admin?.disconnect();
  });

  it('describes a single-node cluster advertised on 127.0.0.1', async () => {
    const cluster = await admin.describeCluster();
    expect(cluster.brokers).toHaveLength(1);
    expect(cluster.brokers[0]?.host).toBe('127.0.0.1');
    expect(cluster.controller).not.toBeNull();
  });

  it('produces, consumes in a group with eachBatch, commits, and resumes from the commit after reconnecting', async () => {
    const topic = uniqueName('smoke');
    const groupId = uniqueName('smoke-group');
    await createTopic(brokers, topic, { partitions: 2 });

    await produce(kafka, topic, 0, 20);
    const afterFirst = await admin.fetchTopicOffsets(topic);
    expect(afterFirst.map((p) => [p.partition, p.low, p.high]).sort()).toEqual([[0, '0', '10'], [1, '0', '10']]);

    const first = await consumeRound(kafka, groupId, topic, 20);
    expect(first.map((s) => s.i).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(new Set(first.filter((s) => s.partition === 0).map((s) => s.i % 2))).toEqual(new Set([0]));

    const committedFirst = await admin.fetchOffsets({ groupId, topics: [topic] });
    expect(committedFirst[0]?.partitions.map((p) => [p.partition, p.offset]).sort()).toEqual([[0, '10'], [1, '10']]);

    // A new consumer of the same group must start at the committed offsets, not at the beginning.
    await produce(kafka, topic, 20, 30);
    const second = await consumeRound(kafka, groupId, topic, 10);
    expect(second.map((s) => s.i).sort((a, b) => a - b)).toEqual(Array.from({ length: 10 }, (_, i) => 20 + i));
    expect(second.every((s) => BigInt(s.offset) >= 10n)).toBe(true);

    const end = await admin.fetchTopicOffsets(topic);
    expect(end.map((p) => [p.partition, p.high]).sort()).toEqual([[0, '15'], [1, '15']]);
    const committedEnd = await admin.fetchOffsets({ groupId, topics: [topic] });
    expect(committedEnd[0]?.partitions.map((p) => [p.partition, p.offset]).sort()).toEqual([[0, '15'], [1, '15']]);

    await admin.deleteTopics({ topics: [topic] });
  });
});
