// A 3-node Kafka cluster of the test's own: a topic partition's leader moved by a partition reassignment, then one stopped mid-run; Kindling follows each new leader, nothing is lost or read twice.
import { join } from 'node:path';
import type { Admin } from 'kafkajs';
import { afterAll, afterEach, expect, it } from 'vitest';
import { startCluster, type KafkaCluster } from '../../src/kafka/broker.js';
import { crashAlertsPlan } from '../../src/plan/queries.js';
import { expectedJsonl } from '../helpers/oracle-jsonl.js';
import { describeKafka, kafkaClient, uniqueName, waitFor } from '../helpers/kafka.js';
import { batchesFromProgress, cleanTemps, inputRows, kindling, Kindling, readProgress, readSinkDir, readTopic, tempDir } from './kafka-harness.js';

const STREAM = ['--start-time', '2024-11-25T10:40:00Z', '--event-rate', '400', '--users', '12', '--crash-one-in', '4'];

afterEach(cleanTemps);

describeKafka('Kafka leader moves (a 3-node cluster of the test\'s own)', () => {
  let cluster: KafkaCluster | undefined;
  // Started once for both tests (the reassignment first: it needs all three nodes).
  const theCluster = async (): Promise<KafkaCluster> => (cluster ??= await startCluster({ nodes: 3 }));

  afterAll(async () => {
    await cluster?.stop();
  });

  const leaderOf = async (admin: Admin, topic: string, partition: number): Promise<number> => {
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    return meta.topics[0]!.partitions.find((p) => p.partitionId === partition)!.leader;
  };

  /**
   * Writes 6,000 events, starts the engine reading them in small spaced-out batches, calls `move`
   * once 1,500 are read (the run is still reading), writes 4,000 more (to the new leaders only), and
   * checks that all 10,000 were read once (contiguous offset ranges) and the rows are the oracle's.
   * @returns the engine's stderr
   */
  async function readAcrossMove(brokers: string, topic: string, move: () => Promise<void>, readBackFrom: () => string): Promise<string> {
    const produce = async (events: number, seed: number): Promise<void> => {
      const r = await kindling(['produce', '--brokers', brokers, '--topic', topic, '--rate', '0', '--events', String(events), '--seed', String(seed), ...STREAM]);
      expect(r.code, r.stderr).toBe(0);
    };
    await produce(6000, 61);
    const dir = await tempDir();
    const out = join(dir, 'out');
    const progressFile = join(dir, 'progress.jsonl');
    const engine = new Kindling([
      '--brokers', brokers, '--topic', topic, '--group', uniqueName('g'), '--starting-offsets', 'earliest', '--max-offsets-per-trigger', '400', '--trigger', '100',
      '--sink', `jsonl:${out}`, '--progress-json', progressFile, '--no-ui', '--quiet', '--cores', '2',
    ]);
    await waitFor(async () => inputRows(await readProgress(progressFile)) >= 1500 || engine.child.exitCode !== null, { timeoutMs: 60_000, intervalMs: 50, what: 'the first 1,500 events read' });
    expect(inputRows(await readProgress(progressFile))).toBeLessThan(6000);
    await move();
    await produce(4000, 62);
    await waitFor(async () => inputRows(await readProgress(progressFile)) >= 10_000 || engine.child.exitCode !== null, { timeoutMs: 120_000, intervalMs: 100, what: 'all 10,000 events read' });
    expect(await engine.interrupt()).toBe(0);
    const progress = await readProgress(progressFile);
    expect(inputRows(progress)).toBe(10_000);
    // Contiguous offset ranges (checked inside) and the oracle's rows for exactly those batches.
    const data = await readTopic(readBackFrom(), topic);
    expect(await readSinkDir(out)).toEqual(expectedJsonl(crashAlertsPlan, batchesFromProgress(progress, topic, data)));
    expect(engine.stderr).toContain('events in 10,000 | rejected 0');
    return engine.stderr;
  }

  it('follows a topic partition moved to another broker by a partition reassignment mid-run: every record read once, rows as the oracle says', async () => {
    const { brokers } = await theCluster();
    const topic = uniqueName('reassign');
    const admin = kafkaClient(brokers).admin();
    await admin.connect();
    try {
      // Partition 0 moves from nodes 1 and 2 to 3 and 2: node 1, its leader, stops holding it at all.
      await admin.createTopics({
        topics: [{ topic, replicaAssignment: [{ partition: 0, replicas: [1, 2] }, { partition: 1, replicas: [2, 1] }] }],
        waitForLeaders: true,
      });
      await readAcrossMove(brokers, topic, async () => {
        expect(await leaderOf(admin, topic, 0)).toBe(1);
        // What kafka-reassign-partitions --execute sends: AlterPartitionReassignments.
        await admin.alterPartitionReassignments({ topics: [{ topic, partitionAssignment: [{ partition: 0, replicas: [3, 2] }] }] });
        await waitFor(
          async () => (await admin.listPartitionReassignments({ topics: [{ topic, partitions: [0] }] })).topics.length === 0 && (await leaderOf(admin, topic, 0)) === 3,
          { timeoutMs: 60_000, intervalMs: 200, what: `${topic}-0 moved to node 3` },
        );
      }, () => brokers);
      const meta = await admin.fetchTopicMetadata({ topics: [topic] });
      expect(meta.topics[0]!.partitions.find((p) => p.partitionId === 0)!.replicas).toEqual([3, 2]);
    } finally {
      await admin.disconnect();
    }
  }, 300_000);

  it('follows the new leader when the leader of a topic partition is stopped mid-run: every record read once, rows as the oracle says', async () => {
    const c = await theCluster();
    const topic = uniqueName('leader-move');
    const admin = kafkaClient(c.brokers).admin();
    await admin.connect();
    let oldLeader = 0;
    try {
      await admin.createTopics({
        topics: [{ topic, numPartitions: 2, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }],
        waitForLeaders: true,
      });
      const stderr = await readAcrossMove(c.brokers, topic, async () => {
        oldLeader = await leaderOf(admin, topic, 0);
        // A topic with its only replica on that node goes offline with it. kindling produce must still
        // find its own topic (kafkajs's listTopics fails while any topic has a leaderless partition).
        await admin.createTopics({ topics: [{ topic: uniqueName('bystander'), replicaAssignment: [{ partition: 0, replicas: [oldLeader] }] }], waitForLeaders: true });
        await c.nodes[oldLeader - 1]!.stop();
        await waitFor(async () => (await leaderOf(admin, topic, 0).catch(() => oldLeader)) !== oldLeader, { timeoutMs: 60_000, intervalMs: 200, what: `a new leader for ${topic}-0` });
      }, () => c.nodes.filter((_, i) => i !== oldLeader - 1).map((n) => n.brokers).join(','));
      // The move was seen (a fetch from the stopped leader failed) and got over.
      expect(stderr).toMatch(/kafka: reading again after \d+\.\d s/);
    } finally {
      await admin.disconnect();
    }
  }, 300_000);
});
