// `kindling produce` keeps each topic partition's events in stream order across a broker error that fails sends for a while.
import { afterEach, expect, it } from 'vitest';
import { parseProduceArgs } from '../../src/produce.js';
import { labEventJson } from '../../src/source/lab-events.js';
import { createTopic, describeKafka, uniqueName } from '../helpers/kafka.js';
import { KafkaProxy } from '../helpers/kafka-proxy.js';
import { cleanTemps, Kindling, readTopic } from './kafka-harness.js';

const PARTITIONS = 2;
const EVENTS = 40_000;

/** Where `got` first differs from `want` (-1 if equal), with the values there, for a readable failure. */
function firstDifference(got: readonly string[], want: readonly string[]): { at: number; got?: string; want?: string } {
  const n = Math.max(got.length, want.length);
  for (let i = 0; i < n; i++) if (got[i] !== want[i]) return { at: i, ...(got[i] !== undefined ? { got: got[i] } : {}), ...(want[i] !== undefined ? { want: want[i] } : {}) };
  return { at: -1 };
}

const running: Kindling[] = [];
const proxies: KafkaProxy[] = [];
afterEach(async () => {
  for (const k of running.splice(0)) if (k.child.exitCode === null) k.child.kill('SIGKILL');
  for (const p of proxies.splice(0)) await p.close();
  await cleanTemps();
});

describeKafka('kindling produce across a broker error', (brokers) => {
  it('writes every topic partition in stream order, each event once first, when the broker drops every connection for a while mid-stream', async () => {
    const topic = uniqueName('produce-order');
    await createTopic(brokers, topic, { partitions: PARTITIONS });
    const proxy = await KafkaProxy.start(brokers.split(',')[0]!);
    proxies.push(proxy);
    const args = ['--brokers', proxy.address, '--topic', topic, '--rate', '20000', '--events', String(EVENTS), '--start-time', '2024-11-25T10:40:00Z', '--event-rate', '400', '--seed', '17'];
    const producer = new Kindling(['produce', ...args]);
    running.push(producer);
    // Once a thousand events or more are in, the broker is gone for 1.5 s (connections cut, new ones refused): the
    // sends on the way fail and are retried with backoff while later sends fall due.
    await producer.waitForLog(/produce: \d{1,3},\d{3} events to \S+ \| /);
    proxy.cut(1500);
    expect(await producer.finish(90_000), producer.stderr).toBe(0);
    expect(proxy.cuts).toBeGreaterThan(0);
    expect(producer.stderr).toMatch(/produce: waiting for broker[^]*produce: broker back after/);
    expect(producer.stderr).toContain(`produce: done: ${EVENTS.toLocaleString('en-US')} events`);

    // The oracle: the generator's stream, event i to topic partition i mod partitions, in order of i.
    const parsed = parseProduceArgs(args, {});
    if (typeof parsed === 'string') throw new Error(`produce flags parsed as --${parsed}`);
    const spec = parsed.spec;
    const want = Array.from({ length: PARTITIONS }, (_, p) => Array.from({ length: EVENTS / PARTITIONS }, (_, k) => labEventJson(spec, k * PARTITIONS + p)));
    // Every event is distinct, so an event's first appearance is where it was first written.
    for (const list of want) expect(new Set(list).size).toBe(list.length);
    const data = await readTopic(brokers, topic);
    for (let p = 0; p < PARTITIONS; p++) {
      // A send cut off after the broker wrote it is written again (at-least-once): a duplicate may
      // follow it, but no event may come before one that precedes it in the stream.
      const got = data.get(p) ?? [];
      const firstTimes = [...new Set(got)];
      expect({ partition: p, firstDifference: firstDifference(firstTimes, want[p]!) }).toEqual({ partition: p, firstDifference: { at: -1 } });
    }
  }, 120_000);
});
