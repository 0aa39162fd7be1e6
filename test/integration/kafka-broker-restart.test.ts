// `npm run kafka` restarted on the data dir it keeps between runs: after a SIGKILL of both node and java (a closed session), after a start stopped half-way, and after a clean Ctrl-C — topics and records still there.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort, startBroker } from '../../src/kafka/broker.js';
import { describeKafka, kafkaClient, uniqueName, waitFor } from '../helpers/kafka.js';
import { readTopic } from './kafka-harness.js';

const CLI = resolve('dist/src/kafka/broker-cli.js');

/** `npm run kafka` as a user runs it, with its output so far. */
class BrokerCli {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor(port: number, dataDir: string) {
    this.child = spawn(process.execPath, [CLI, '--port', String(port), '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d: Buffer) => (this.stdout += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((res) => this.child.on('close', (code) => res(code)));
  }

  async ready(): Promise<void> {
    await waitFor(() => this.stdout.includes('Press Ctrl-C to stop.') || this.child.exitCode !== null, { timeoutMs: 240_000, intervalMs: 200, what: 'the broker CLI to say it is running' });
    if (!this.stdout.includes('is running')) throw new Error(`the broker CLI exited (${this.child.exitCode}) before it was running:\n${this.stderr.slice(-4000)}`);
  }

  /** The java process the CLI started (its only child). */
  javaPid(): number {
    const r = spawnSync('pgrep', ['-P', String(this.child.pid)], { encoding: 'utf8' });
    const pid = Number(r.stdout.trim().split('\n')[0]);
    if (!Number.isInteger(pid) || pid <= 0) throw new Error(`no java child of the broker CLI (pid ${this.child.pid})`);
    return pid;
  }
}

describeKafka('npm run kafka restarted on the data dir it keeps', () => {
  let dir = '';
  let port = 0;
  const clis: BrokerCli[] = [];
  const topic = uniqueName('restart');
  const sent = new Map<number, string[]>([[0, []], [1, []]]);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kindling-broker-restart-'));
    port = await freePort();
  });
  afterAll(async () => {
    for (const c of clis) {
      if (c.child.exitCode !== null) continue;
      try {
        process.kill(c.javaPid(), 'SIGKILL');
      } catch {
        // Already gone.
      }
      c.child.kill('SIGKILL');
    }
    await rm(dir, { recursive: true, force: true });
  });

  const dataDir = (): string => join(dir, 'kafka-data');
  const produce = async (brokers: string, from: number, to: number): Promise<void> => {
    const kafka = kafkaClient(brokers);
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      const messages = [];
      for (let i = from; i < to; i++) {
        const value = JSON.stringify({ i });
        messages.push({ partition: i % 2, value });
        sent.get(i % 2)!.push(value);
      }
      await producer.send({ topic, messages, acks: -1 });
    } finally {
      await producer.disconnect();
    }
  };

  it('comes back after node and java were both SIGKILLed, and after a start stopped half-way, with every record', async () => {
    const first = new BrokerCli(port, dataDir());
    clis.push(first);
    await first.ready();
    const brokers = `127.0.0.1:${port}`;
    const admin = kafkaClient(brokers).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
    await admin.disconnect();
    await produce(brokers, 0, 500);

    // A closed terminal or session: both processes die at once, nothing is shut down.
    process.kill(first.javaPid(), 'SIGKILL');
    first.child.kill('SIGKILL');
    await first.exited;
    expect(existsSync(join(dataDir(), 'data', '.kafka_cleanshutdown'))).toBe(false);

    // A start given up on (here at once, by a tiny progress deadline) must say why, not how java ended,
    // and must leave a data dir the next start can use.
    const err = await startBroker({ port, dataDir: dataDir(), readyTimeoutMs: 1 }).then(() => null, (e: unknown) => e as Error);
    expect(err?.message).toMatch(/did not become ready: no start-up progress for \d+ s .*so it was stopped/);
    expect(err?.message).not.toMatch(/raftManager\(\)" is null/);

    const second = new BrokerCli(port, dataDir());
    clis.push(second);
    await second.ready();
    expect(second.stderr).toContain('last stop was not clean');
    expect(await readTopic(brokers, topic)).toEqual(sent);
    await produce(brokers, 500, 700);

    // Ctrl-C: a clean stop (no SIGKILL however long it takes), so the next start recovers nothing.
    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);
    expect(second.stdout).toContain('Kafka broker stopped.');
    expect(existsSync(join(dataDir(), 'data', '.kafka_cleanshutdown'))).toBe(true);

    const third = new BrokerCli(port, dataDir());
    clis.push(third);
    await third.ready();
    expect(third.stderr).not.toContain('last stop was not clean');
    expect(await readTopic(brokers, topic)).toEqual(sent);
    third.child.kill('SIGINT');
    expect(await third.exited).toBe(0);
  }, 600_000);
});
