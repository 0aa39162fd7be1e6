// A 3-node Kafka cluster of the test's own: the leader of a topic partition is stopped mid-run, Kindling follows the new leader, nothing is lost or read twice.
import { join } from 'node:path';
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

  afterAll(async () => {
    await cluster?.stop();
  });

  it('follows the new leader when the leader of a topic partition is stopped mid-run: every record read once, rows as the oracle says', async () => {
    cluster = await startCluster({ nodes: 3 });
    const brokers = cluster.brokers;
    const topic = uniqueName('leader-move');
    const admin = kafkaClient(brokers).admin();
    await admin.connect();
    try {
      await admin.createTopics({
        topics: [{ topic, numPartitions: 2, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }],
        waitForLeaders: true,
      });
      const produce = async (events: number, seed: number): Promise<void> => {
        const r = await kindling(['produce', '--brokers', brokers, '--topic', topic, '--rate', '0', '--events', String(events), '--seed', String(seed), ...STREAM]);
        expect(r.code, r.stderr).toBe(0);
      };
      await produce(6000, 61);

      const dir = await tempDir();
      const out = join(dir, 'out');
      const progressFile = join(dir, 'progress.jsonl');
      // Small batches spaced out, so the run is still reading when the leader goes.
      const engine = new Kindling([
        '--brokers', brokers, '--topic', topic, '--group', uniqueName('g'), '--starting-offsets', 'earliest', '--max-offsets-per-trigger', '400', '--trigger', '100',
        '--sink', `jsonl:${out}`, '--progress-json', progressFile, '--no-ui', '--quiet', '--cores', '2',
      ]);
      await waitFor(async () => inputRows(await readProgress(progressFile)) >= 1500 || engine.child.exitCode !== null, { timeoutMs: 60_000, intervalMs: 50, what: 'the first 1,500 events read' });

      const leaderOf = async (partition: number): Promise<number> => {
        const meta = await admin.fetchTopicMetadata({ topics: [topic] });
        return meta.topics[0]!.partitions.find((p) => p.partitionId === partition)!.leader;
      };
      const oldLeader = await leaderOf(0);
      expect(inputRows(await readProgress(progressFile))).toBeLessThan(6000);
      await cluster.nodes[oldLeader - 1]!.stop();
      await waitFor(async () => (await leaderOf(0).catch(() => oldLeader)) !== oldLeader, { timeoutMs: 60_000, intervalMs: 200, what: `a new leader for ${topic}-0` });
      // Written while the old leader is away: read from the new leaders only.
      await produce(4000, 62);

      await waitFor(async () => inputRows(await readProgress(progressFile)) >= 10_000 || engine.child.exitCode !== null, { timeoutMs: 120_000, intervalMs: 100, what: 'all 10,000 events read' });
      expect(await engine.interrupt()).toBe(0);
      const progress = await readProgress(progressFile);
      expect(inputRows(progress)).toBe(10_000);
      // Contiguous offset ranges (checked inside) and the oracle's rows for exactly those batches.
      const live = cluster.nodes.filter((_, i) => i !== oldLeader - 1).map((n) => n.brokers).join(',');
      const data = await readTopic(live, topic);
      expect(await readSinkDir(out)).toEqual(expectedJsonl(crashAlertsPlan, batchesFromProgress(progress, topic, data)));
      expect(engine.stderr).toContain('events in 10,000 | rejected 0');
      // The move was seen (a fetch from the stopped leader failed) and got over.
      expect(engine.stderr).toMatch(/kafka: reading again after \d+\.\d s/);
    } finally {
      await admin.disconnect();
    }
  }, 300_000);
});
