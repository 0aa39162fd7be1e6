// The Kafka source when the broker is not there: unreachable, topic missing, and a broker stopped mid-run and brought back.
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, expect, it } from 'vitest';
import { startBroker, type KafkaBroker } from '../../src/kafka/broker.js';
import { crashAlertsPlan } from '../../src/plan/queries.js';
import { expectedJsonl } from '../helpers/oracle-jsonl.js';
import { describeKafka, uniqueName, waitFor } from '../helpers/kafka.js';
import { batchesFromProgress, cleanTemps, inputRows, kindling, Kindling, readProgress, readSinkDir, readTopic, tempDir } from './kafka-harness.js';

const STREAM = ['--start-time', '2024-11-25T10:40:00Z', '--event-rate', '400', '--users', '12', '--crash-one-in', '4'];
const ENGINE = ['--no-ui', '--quiet', '--cores', '2', '--starting-offsets', 'earliest'];

/** A TCP port nobody listens on right now. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const running: Kindling[] = [];
afterEach(async () => {
  for (const k of running.splice(0)) if (k.child.exitCode === null) k.child.kill('SIGKILL');
  await cleanTemps();
});

describeKafka('Kafka source without a broker', (brokers) => {
  it('waits for an unreachable broker with a visible state, and Ctrl-C still stops it at once', async () => {
    const port = await freePort();
    const k = new Kindling(['--brokers', `127.0.0.1:${port}`, '--topic', 'logs', ...ENGINE, '--sink', 'none']);
    running.push(k);
    await k.waitForLog(new RegExp(`kafka: waiting for broker 127\\.0\\.0\\.1:${port}: .*connection refused.*retrying in .*Ctrl-C stops`));
    const t0 = Date.now();
    expect(await k.interrupt(10_000)).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(k.stderr).toContain('events in 0 |');
  });

  it('waits for a missing topic, then reads it once it is created', async () => {
    const topic = uniqueName('late-topic');
    const dir = await tempDir();
    const progressFile = join(dir, 'progress.jsonl');
    const k = new Kindling(['--brokers', brokers, '--topic', topic, ...ENGINE, '--sink', 'none', '--progress-json', progressFile]);
    running.push(k);
    await k.waitForLog(new RegExp(`kafka: waiting for topic ${topic}: it does not exist`));
    const produced = await kindling(['produce', '--brokers', brokers, '--topic', topic, '--rate', '0', '--events', '500', ...STREAM]);
    expect(produced.code).toBe(0);
    await waitFor(async () => inputRows(await readProgress(progressFile)) === 500, { timeoutMs: 30_000, what: 'the 500 events read' });
    expect(await k.interrupt()).toBe(0);
    expect(k.stderr).toMatch(/kafka: reading again after/);
  });
});

describeKafka('Kafka source across a broker restart', () => {
  let broker: KafkaBroker | null = null;
  afterAll(async () => {
    await broker?.stop();
  });

  it('keeps running while its broker is down and resumes with no loss when it returns on the same port and data', async () => {
    const dir = await tempDir();
    const port = await freePort();
    const controllerPort = await freePort();
    const dataDir = join(dir, 'kafka');
    broker = await startBroker({ port, controllerPort, dataDir });
    const brokers = broker.brokers;
    const topic = uniqueName('outage');
    const produce = async (events: number, seed: number): Promise<void> => {
      const r = await kindling(['produce', '--brokers', brokers, '--topic', topic, '--rate', '0', '--events', String(events), '--seed', String(seed), ...STREAM]);
      expect(r.stderr).toContain('produce: done');
      expect(r.code).toBe(0);
    };
    await produce(3000, 51);

    const out = join(dir, 'out');
    const progressFile = join(dir, 'progress.jsonl');
    const engine = new Kindling(['--brokers', brokers, '--topic', topic, ...ENGINE, '--sink', `jsonl:${out}`, '--progress-json', progressFile]);
    running.push(engine);
    await waitFor(async () => inputRows(await readProgress(progressFile)) === 3000, { timeoutMs: 30_000, what: 'the first 3,000 events read' });

    await broker.stop();
    await engine.waitForLog(new RegExp(`kafka: waiting for broker ${brokers.replace(/\./g, '\\.')}`));
    expect(engine.child.exitCode).toBeNull();

    broker = await startBroker({ port, controllerPort, dataDir });
    await produce(3000, 52);
    await waitFor(async () => inputRows(await readProgress(progressFile)) === 6000, { timeoutMs: 60_000, what: 'all 6,000 events read after the restart' });
    await engine.waitForLog(/kafka: reading again after/);
    expect(await engine.interrupt()).toBe(0);
    expect(engine.stderr).toContain('events in 6,000 | rejected 0');

    const data = await readTopic(brokers, topic);
    const progress = await readProgress(progressFile);
    const batches = batchesFromProgress(progress, topic, data);
    expect(batches.reduce((n, b) => n + b.length, 0)).toBe(6000);
    expect(await readSinkDir(out)).toEqual(expectedJsonl(crashAlertsPlan, batches));
    // Two broker starts (6-17 s each on a loaded 2-core machine) and two produce runs: 60 s was too tight.
  }, 240_000);
});
