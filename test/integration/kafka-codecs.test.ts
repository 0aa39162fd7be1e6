// Every Kafka codec end to end on the real broker: topics compressed by Kindling's producer and by the broker itself give exactly the uncompressed topic's rows.
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { crashAlertsPlan } from '../../src/plan/queries.js';
import { expectedJsonl } from '../helpers/oracle-jsonl.js';
import { codecName } from '../../src/source/kafka-codecs.js';
import { BrokerConnection } from '../../src/source/kafka-connection.js';
import { decodeFetch, encodeFetch } from '../../src/source/kafka-protocol.js';
import { describeKafka, kafkaClient, uniqueName } from '../helpers/kafka.js';
import { batchesFromProgress, cleanTemps, kindling, readProgress, readSinkDir, readTopic, tempDir } from './kafka-harness.js';

// 150 s of event time: windows close and emit rows within the run.
const STREAM = ['--start-time', '2024-11-25T10:40:00Z', '--event-rate', '40', '--users', '12', '--crash-one-in', '4', '--late-fraction', '0.05', '--late-spread-ms', '40000'];
const EVENTS = 6000;
const SEED = 21;
const CODECS = ['gzip', 'snappy', 'lz4', 'zstd'] as const;

afterEach(cleanTemps);

describeKafka('Kafka codecs (real broker)', (brokers) => {
  async function createTopic(topic: string, compressionType: string | null): Promise<void> {
    const admin = kafkaClient(brokers).admin();
    await admin.connect();
    try {
      const configEntries = compressionType === null ? [] : [{ name: 'compression.type', value: compressionType }];
      await admin.createTopics({ topics: [{ topic, numPartitions: 2, replicationFactor: 1, configEntries }], waitForLeaders: true });
    } finally {
      await admin.disconnect();
    }
  }

  async function produce(topic: string, extra: string[] = []): Promise<void> {
    const r = await kindling(['produce', '--brokers', brokers, '--topic', topic, '--rate', '0', '--events', String(EVENTS), '--seed', String(SEED), ...STREAM, ...extra]);
    expect(r.stderr, r.stderr).toContain(`produce: done: ${EVENTS.toLocaleString('en-US')} events`);
    expect(r.code).toBe(0);
  }

  /** The codec of the first record batch of topic partition 0, as the broker stores it. */
  async function storedCodec(topic: string): Promise<string> {
    const conn = await BrokerConnection.open(brokers, ['Fetch'], { clientId: 'codec-check', connectTimeoutMs: 3000 });
    try {
      const reader = await conn.send('Fetch', encodeFetch(topic, [{ partition: 0, fetchOffset: 0, maxBytes: 1 << 16 }], { maxWaitMs: 100, minBytes: 1, maxBytes: 1 << 16 }), 10_000);
      const records = decodeFetch(reader)[0]!.records!;
      return codecName(reader.buf.readInt16BE(records.start + 21) & 0x07);
    } finally {
      conn.close();
    }
  }

  /** Runs the engine over the whole topic in batches of at most 1,500 offsets (cut inside compressed batches) and checks it against the oracle fed `data`. */
  async function expectRows(topic: string, data: ReadonlyMap<number, readonly string[]>): Promise<string> {
    const dir = await tempDir();
    const out = join(dir, 'out');
    const progressFile = join(dir, 'progress.jsonl');
    const r = await kindling([
      '--brokers', brokers, '--topic', topic, '--group', uniqueName('codec-group'), '--sink', `jsonl:${out}`, '--progress-json', progressFile,
      '--no-ui', '--quiet', '--cores', '2', '--starting-offsets', 'earliest', '--available-now', '--max-offsets-per-trigger', '1500',
    ]);
    expect(r.stderr).toContain(`events in ${EVENTS.toLocaleString('en-US')} | rejected 0`);
    expect(r.code, r.stderr).toBe(0);
    const progress = await readProgress(progressFile);
    const got = await readSinkDir(out);
    expect(Object.keys(got).length).toBeGreaterThan(0);
    // The oracle reads the uncompressed topic: the same seed wrote the same events at the same offsets.
    expect(got).toEqual(expectedJsonl(crashAlertsPlan, batchesFromProgress(progress, topic, data)));
    return r.stderr;
  }

  it("reads every codec, whether Kindling's producer compressed the batches or the broker did (topic compression.type, Java's codecs), exactly as the uncompressed topic", async () => {
    const plain = uniqueName('codec-none');
    await createTopic(plain, null);
    await produce(plain);
    const data = await readTopic(brokers, plain);
    expect([...data.values()].map((d) => d.length)).toEqual([EVENTS / 2, EVENTS / 2]);
    await expectRows(plain, data);

    for (const codec of CODECS) {
      const byProducer = uniqueName(`codec-${codec}-producer`);
      await createTopic(byProducer, null);
      await produce(byProducer, ['--compression', codec]);
      expect(await storedCodec(byProducer)).toBe(codec);
      await expectRows(byProducer, data);

      const byBroker = uniqueName(`codec-${codec}-topic`);
      await createTopic(byBroker, codec);
      await produce(byBroker);
      expect(await storedCodec(byBroker)).toBe(codec);
      await expectRows(byBroker, data);
    }
  }, 240_000);

  it('a producer compressing to one codec and a topic recompressing to another: the broker (Java) decodes what Kindling wrote, Kindling decodes what the broker wrote', async () => {
    const plain = uniqueName('codec-none');
    await createTopic(plain, null);
    await produce(plain);
    const data = await readTopic(brokers, plain);
    for (const [sent, stored] of [['lz4', 'snappy'], ['snappy', 'zstd'], ['zstd', 'lz4']] as const) {
      const topic = uniqueName(`codec-${sent}-to-${stored}`);
      await createTopic(topic, stored);
      await produce(topic, ['--compression', sent]);
      expect(await storedCodec(topic)).toBe(stored);
      await expectRows(topic, data);
    }
  }, 180_000);
});
