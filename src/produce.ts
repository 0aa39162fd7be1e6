// `kindling produce`: writes the generator's seeded event stream to a Kafka topic (the lab's load generator, without Docker).
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { answerText, flagNamed, parseFlags, renderHelp, restyle, STANDARD_FLAGS, standardAnswer, type FlagSpec, type StandardAnswer } from './cli.js';
import { GENERATOR_FLAGS, generatorSpecFrom, RUN_FLAGS, SECURITY_FLAG_NAMES, securityFromFlags } from './config.js';
import { kafkajsSecurity } from './sink/kafka.js';
import type { KafkaSecurity } from './source/kafka-security.js';
import { KindlingError, UsageError } from './errors.js';
import { brokerAddressText, parseBrokerList } from './source/kafka-address.js';
import { BrokerConnection } from './source/kafka-connection.js';
import { API_VERSION, decodeMetadata, decodeProduce, encodeMetadata, encodeProduce, isRetriableKafkaError, kafkaError, kafkaErrorName, PRODUCE_ZSTD_VERSION, type ProducePartition } from './source/kafka-protocol.js';
import { CODECS, type CodecName } from './source/kafka-codecs.js';
import { compressRecordBatch, encodeRecordBatch } from './source/kafka-records.js';
import { labEventJson, type GeneratorSpec } from './source/lab-events.js';
import { backoffDelayMs, type BackoffPolicy } from './backoff.js';
import { sleepUnlessAborted } from './sleep.js';

const KAFKA = 'Kafka';
const GEN = 'Events (the same knobs as the generator source)';
const OUT = 'Output';

/** The flags of `kindling produce`: Kafka's, then the generator's own specs (shared with `kindling run`). */
export const PRODUCE_FLAGS = [
  restyle(flagNamed(RUN_FLAGS, 'brokers'), { group: KAFKA, help: 'Kafka bootstrap brokers (npm run kafka starts one on 127.0.0.1:9092)' }),
  restyle(flagNamed(RUN_FLAGS, 'topic'), { group: KAFKA, help: 'topic to write; created with --partitions partitions if missing' }),
  { name: 'partitions', kind: 'int', group: KAFKA, min: 1, max: 10_000, default: 2, help: "partitions of the topic when it has to be created (the lab's topic has 2); an existing topic keeps its own" },
  { name: 'compression', kind: 'enum', group: KAFKA, choices: CODECS, default: 'none', help: "record batch codec, as a producer's compression.type (snappy in Java's xerial framing, lz4 in the frame format)" },
  // The same TLS and SASL flags, rules and password handling as the Kafka source's.
  ...SECURITY_FLAG_NAMES.map((name) => restyle(flagNamed(RUN_FLAGS, name), { group: KAFKA })),
  ...GENERATOR_FLAGS.map((f) =>
    restyle(f, {
      group: GEN,
      ...(f.name === 'events' ? { help: 'stop after N events' } : {}),
      ...(f.name === 'seed' ? { help: 'random seed: the same seed and start time give the same events (give each of several producers its own seed, or they write the same events)' } : {}),
    }),
  ),
  { name: 'quiet', kind: 'bool', group: OUT, help: 'no live line; only the final summary' },
  ...STANDARD_FLAGS,
] as const satisfies readonly FlagSpec[];

const USAGE = 'Usage: kindling produce --brokers HOST:PORT [--topic logs] [--rate R] [--events N] [flags]';
const INTRO =
  "Writes the lab's log events to a Kafka topic, as the lab's load-generator container does: seeded and deterministic\n" +
  "(the generator source's stream, event i to topic partition i mod partitions), at --rate events/s, in batched sends,\n" +
  'with a live line of the achieved rate. Several can run at once, like the lab\'s replicas (give each its own --seed).\n' +
  'Ctrl-C stops after the send in flight.';

/** Everything a produce run needs. */
export interface ProduceConfig {
  readonly brokers: string[];
  readonly topic: string;
  readonly partitions: number;
  readonly spec: GeneratorSpec;
  /** Events per second; 0: as fast as the broker takes them. */
  readonly rate: number;
  readonly events: number | null;
  /** Codec of every record batch sent. */
  readonly compression: CodecName;
  readonly quiet: boolean;
  /** TLS and SASL; absent: PLAINTEXT. */
  readonly security?: KafkaSecurity;
}

/** Parses `kindling produce` argv (UsageError on bad flags); the answer instead for --help or --version. */
export function parseProduceArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env, nowMs = Date.now()): ProduceConfig | StandardAnswer {
  const { values, positionals, given } = parseFlags(argv, PRODUCE_FLAGS, env);
  const answer = standardAnswer(values);
  if (answer) return answer;
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'; flags start with -- (see kindling produce --help)`);
  const security = securityFromFlags(values, given, env);
  return {
    brokers: parseBrokerList(values['brokers'], 'kindling produce'),
    topic: values['topic'],
    partitions: values['partitions'],
    spec: generatorSpecFrom(values, nowMs),
    rate: values['rate'],
    events: values['events'] ?? null,
    compression: values['compression'],
    quiet: values['quiet'],
    ...(security ? { security } : {}),
  };
}

/** What a produce run did. */
export interface ProduceSummary {
  readonly events: number;
  /** From the first send (time spent waiting for the broker to appear is not counted). */
  readonly elapsedMs: number;
  readonly topicPartitions: number;
  readonly stoppedBy: 'events' | 'signal';
}

/** Events per send: large enough that a send's overhead is noise, small enough to keep a low rate smooth. */
const MAX_SEND_EVENTS = 10_000;
/**
 * Sends encoded ahead of the one being written. Only one send is written at a time (one request in
 * flight per topic partition), and a failed one is retried before the next starts: with several in
 * flight, each retried on its own, a later send could land before an earlier one after a broker error.
 */
const MAX_ENCODED_AHEAD = 2;
/** A rate-limited producer sends at most this often, so sends stay batched (like a producer's linger.ms). */
const LINGER_MS = 5;
const REQUEST_TIMEOUT_MS = 30_000;
/** Kafka's error code for a topic the broker does not know. */
const UNKNOWN_TOPIC_OR_PARTITION = 3;

/**
 * Writes record batches to a topic's partition leaders with Produce requests. kafkajs's producer
 * topped out near 19-37k events/s here (it builds objects per record and groups a send's messages
 * by partition with an array copy per message, quadratic in the send's size); the lab's
 * TARGET_RPS range goes up to 100,000 events/s (Kindling's default --rate is its low end, 10,000),
 * so batches are encoded directly (kafka-records.ts).
 */
class TopicWriter {
  private leaders = new Map<number, string>();
  private readonly connections = new Map<string, BrokerConnection>();
  private stale = true;

  /** v3 (every broker from 0.11 on) unless the batches are zstd, which brokers take from v7 (Kafka 2.1) on. */
  private readonly produceVersion: number;

  constructor(
    private readonly brokers: readonly string[],
    private readonly topic: string,
    private readonly codec: CodecName,
    private readonly security: KafkaSecurity | undefined,
  ) {
    this.produceVersion = codec === 'zstd' ? PRODUCE_ZSTD_VERSION : API_VERSION.Produce;
  }

  /** Topic partitions, as the last metadata said. */
  get partitions(): number {
    return this.leaders.size;
  }

  private async connection(address: string): Promise<BrokerConnection> {
    const c = this.connections.get(address);
    if (c && !c.closed) return c;
    const fresh = await BrokerConnection.open(address, ['Metadata', 'Produce'], {
      clientId: `kindling-produce-${process.pid}`,
      connectTimeoutMs: 3000,
      ...(this.security ? { security: this.security } : {}),
    });
    this.connections.set(address, fresh);
    return fresh;
  }

  /**
   * Asks the first bootstrap broker that answers. A TLS or SASL failure (untrusted certificate, no
   * client certificate, wrong password) or another non-retriable error is thrown at once, not
   * retried on the next broker.
   */
  private async askBootstrap<T>(ask: (conn: BrokerConnection) => Promise<T>): Promise<T> {
    let lastError: unknown = null;
    for (const address of this.brokers) {
      try {
        return await ask(await this.connection(address));
      } catch (err) {
        if (err instanceof KindlingError && !err.retriable) throw err;
        lastError = err;
      }
    }
    throw lastError;
  }

  /** Connects to a bootstrap broker: a refused login or certificate surfaces here, before kafkajs's admin (which would report it less clearly). */
  async reachBootstrap(): Promise<void> {
    await this.askBootstrap(async () => undefined);
  }

  /**
   * Whether the topic exists, from a Metadata request for it alone (auto-creation off). Not kafkajs's
   * listTopics: that asks for every topic, and kafkajs fails the whole answer while any partition of
   * any other topic has no leader (a broker of the cluster down), so produce would wait forever.
   */
  async topicExists(): Promise<boolean> {
    return this.askBootstrap(async (conn) => {
      const md = decodeMetadata(await conn.send('Metadata', encodeMetadata([this.topic]), REQUEST_TIMEOUT_MS));
      const t = md.topics.find((x) => x.name === this.topic);
      return t !== undefined && t.errorCode !== UNKNOWN_TOPIC_OR_PARTITION;
    });
  }

  /** Finds each topic partition's leader (the first reachable bootstrap broker answers). */
  async refresh(): Promise<void> {
    await this.askBootstrap(async (conn) => {
      const md = decodeMetadata(await conn.send('Metadata', encodeMetadata([this.topic]), REQUEST_TIMEOUT_MS));
      const byId = new Map(md.brokers.map((b) => [b.nodeId, brokerAddressText(b.host, b.port)]));
      const t = md.topics.find((x) => x.name === this.topic);
      if (!t || t.errorCode !== 0 || t.partitions.length === 0) throw kafkaError(t?.errorCode ?? UNKNOWN_TOPIC_OR_PARTITION, `metadata of topic ${this.topic}`);
      const leaders = new Map<number, string>();
      for (const p of t.partitions) {
        const leader = byId.get(p.leader);
        if (leader === undefined) throw new KindlingError('KAFKA_NO_LEADER', `${this.topic}-${p.partition} has no leader yet`, { domain: 'external', retriable: true });
        leaders.set(p.partition, leader);
      }
      this.leaders = leaders;
      this.stale = false;
    });
  }

  /** Encodes events [first, first + count) of the stream, event i to topic partition i mod partitions: one record batch per topic partition. */
  async encode(spec: GeneratorSpec, first: number, count: number, partitions: number): Promise<Map<number, ProducePartition>> {
    const values = Array.from({ length: partitions }, () => [] as string[]);
    for (let i = first; i < first + count; i++) values[i % partitions]!.push(labEventJson(spec, i));
    const now = Date.now();
    const batches = new Map<number, ProducePartition>();
    for (const [partition, vs] of values.entries()) {
      if (vs.length > 0) batches.set(partition, { partition, records: await compressRecordBatch(encodeRecordBatch(vs, now), this.codec) });
    }
    return batches;
  }

  /**
   * Writes `pending` (topic partition -> record batch) to the leaders, removing each batch the broker
   * took; throws when any was refused or its answer lost, leaving those for the retry. Every leader's
   * request is settled before it returns, so a retry never overlaps a request still in flight.
   */
  async write(pending: Map<number, ProducePartition>): Promise<void> {
    if (this.stale) await this.refresh();
    const byLeader = new Map<string, ProducePartition[]>();
    for (const batch of pending.values()) {
      const leader = this.leaders.get(batch.partition)!;
      const list = byLeader.get(leader) ?? [];
      list.push(batch);
      byLeader.set(leader, list);
    }
    const outcomes = await Promise.allSettled(
      [...byLeader].map(async ([address, parts]) => {
        const conn = await this.connection(address);
        const request = encodeProduce(this.topic, parts, { acks: -1, timeoutMs: REQUEST_TIMEOUT_MS });
        const answer = decodeProduce(await conn.send('Produce', request, REQUEST_TIMEOUT_MS + 5000, this.produceVersion), this.produceVersion);
        let failure: KindlingError | null = null;
        for (const r of answer) {
          if (r.errorCode === 0) pending.delete(r.partition);
          else if (isRetriableKafkaError(r.errorCode)) failure ??= kafkaError(r.errorCode, `produce to ${this.topic}-${r.partition}`);
          else throw new KindlingError('KAFKA_PRODUCE', `produce to ${this.topic}-${r.partition}: broker answered ${kafkaErrorName(r.errorCode)}`, { domain: 'external' });
        }
        if (failure) throw failure;
      }),
    );
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed) {
      this.stale = true;
      throw failed.reason;
    }
  }

  close(): void {
    for (const c of this.connections.values()) c.close();
    this.connections.clear();
  }
}
/** Waiting for a broker that is away: exact delays (one producer has no one to collide with). */
const RETRY: BackoffPolicy = { initialMs: 250, maxMs: 5000, jitter: 0 };

const n = (x: number): string => Math.round(x).toLocaleString('en-US');

const sleep = sleepUnlessAborted;

/**
 * Produces until --events are written or `signal` aborts. Broker trouble (unreachable, gone
 * mid-run) is retried with backoff and a visible "waiting for broker" line; a failed send is sent
 * again before any later one, so each topic partition keeps the stream's order, but a broker that
 * dies mid-send can leave duplicates (at-least-once, like the lab's producer).
 */
export async function produce(config: ProduceConfig, signal: AbortSignal, log: (line: string) => void, live: ((line: string) => void) | null): Promise<ProduceSummary> {
  const kafka = new Kafka({
    clientId: `kindling-produce-${process.pid}`,
    brokers: config.brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3000,
    requestTimeout: 30_000,
    retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 2000 },
    ...kafkajsSecurity(config.security),
  });
  const admin = kafka.admin();
  const writer = new TopicWriter(config.brokers, config.topic, config.compression, config.security);
  let failures = 0;
  let waitingSince: number | null = null;
  /** Runs `step` until it succeeds or the signal aborts, logging while the broker is away. */
  const retrying = async <T>(what: string, step: () => Promise<T>): Promise<T | null> => {
    for (;;) {
      if (signal.aborted) return null;
      try {
        const out = await step();
        if (waitingSince !== null) log(`produce: broker back after ${((Date.now() - waitingSince) / 1000).toFixed(1)} s`);
        waitingSince = null;
        failures = 0;
        return out;
      } catch (err) {
        if (err instanceof KindlingError && !err.retriable) throw err;
        failures++;
        const delay = backoffDelayMs(failures, RETRY);
        if (waitingSince === null || failures % 10 === 0) {
          log(`produce: waiting for broker ${config.brokers.join(',')} (${what}: ${(err as Error).message}); retrying in ${(delay / 1000).toFixed(1)} s, Ctrl-C stops`);
        }
        waitingSince ??= Date.now();
        await sleep(delay, signal);
      }
    }
  };

  let started = Date.now();
  let sent = 0;
  let topicPartitions = 0;
  try {
    const ready = await retrying('connecting', async () => {
      await writer.reachBootstrap();
      let created = false;
      if (!(await writer.topicExists())) {
        await admin.connect();
        created = await createTopic(admin, config);
      }
      await writer.refresh();
      return { partitions: writer.partitions, created };
    });
    await admin.disconnect().catch(() => undefined);
    if (ready === null) return { events: 0, elapsedMs: Date.now() - started, topicPartitions: 0, stoppedBy: 'signal' };
    topicPartitions = ready.partitions;
    log(
      `produce: ${config.events === null ? 'events' : `${n(config.events)} events`} to ${config.topic} (${topicPartitions} partition(s)${ready.created ? ', created' : ''}) on ${config.brokers.join(',')}, ` +
        `${config.rate === 0 ? 'as fast as possible' : `${n(config.rate)} events/s`}, seed ${config.spec.seed}${config.compression === 'none' ? '' : `, ${config.compression} compression`}`,
    );
    const clockStart = Date.now();
    started = clockStart; // the rate counts from the first send, not from waiting for the broker
    let lastLiveMs = 0;
    let lastLiveSent = 0;
    let lastLiveAt = clockStart;
    const showLive = (final: boolean): void => {
      if (!live) return;
      const now = Date.now();
      if (!final && now - lastLiveMs < 1000) return;
      const recent = now > lastLiveAt ? ((sent - lastLiveSent) * 1000) / (now - lastLiveAt) : 0;
      const overall = now > clockStart ? (sent * 1000) / (now - clockStart) : 0;
      live(`produce: ${n(sent)} events to ${config.topic} | ${n(recent)} events/s now, ${n(overall)} overall${config.rate > 0 ? ` (target ${n(config.rate)})` : ''}`);
      lastLiveMs = now;
      lastLiveSent = sent;
      lastLiveAt = now;
    };
    let dispatched = 0;
    /** Encoded sends not yet written; each is written after the one before it (`lastWrite`). */
    const queued = new Set<Promise<void>>();
    let lastWrite: Promise<unknown> = Promise.resolve();
    while (!signal.aborted && (config.events === null || dispatched < config.events)) {
      let due = config.rate === 0 ? MAX_SEND_EVENTS : Math.floor(((Date.now() - clockStart) * config.rate) / 1000) - dispatched;
      if (config.events !== null) due = Math.min(due, config.events - dispatched);
      due = Math.min(due, MAX_SEND_EVENTS);
      if (due <= 0) {
        // Wait for the next event's time, but not for less than a few ms: sends stay batched.
        const nextMs = clockStart + ((dispatched + 1) * 1000) / config.rate;
        await sleep(Math.max(LINGER_MS, nextMs - Date.now()), signal);
        showLive(false);
        continue;
      }
      while (queued.size >= MAX_ENCODED_AHEAD) await Promise.race(queued);
      if (signal.aborted) break;
      const pending = await writer.encode(config.spec, dispatched, due, topicPartitions);
      dispatched += due;
      const send: Promise<void> = lastWrite
        .then(() => retrying('sending', () => writer.write(pending)))
        .then((ok) => {
          if (ok !== null) sent += due;
          showLive(false);
        })
        .finally(() => queued.delete(send));
      // A failure surfaces through the loop's race or the final await; the chain stops at it.
      send.catch(() => undefined);
      queued.add(send);
      lastWrite = send;
    }
    await Promise.all(queued);
    showLive(true);
  } finally {
    writer.close();
    await admin.disconnect().catch(() => undefined);
  }
  return { events: sent, elapsedMs: Date.now() - started, topicPartitions, stoppedBy: signal.aborted ? 'signal' : 'events' };
}

/** Creates the topic when missing (several producers may race: one creates, the others find it). */
/** Creates the missing topic with --partitions partitions; false if another producer created it first. */
async function createTopic(admin: Admin, config: ProduceConfig): Promise<boolean> {
  const cluster = await admin.describeCluster();
  return admin.createTopics({
    topics: [{ topic: config.topic, numPartitions: config.partitions, replicationFactor: Math.min(3, cluster.brokers.length) }],
    waitForLeaders: true,
  });
}

/** The `kindling produce` command: parses flags, runs until done or Ctrl-C, prints the summary. */
export async function produceCommand(argv: readonly string[], log: (line: string) => void): Promise<number> {
  const config = parseProduceArgs(argv);
  if (typeof config === 'string') {
    process.stdout.write(answerText(config, () => renderHelp(USAGE, INTRO, PRODUCE_FLAGS)));
    return 0;
  }
  const stop = new AbortController();
  let signals = 0;
  const onSignal = (): void => {
    if (++signals === 1) stop.abort();
    else process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const tty = process.stderr.isTTY === true;
  let liveShown = false;
  const live = config.quiet
    ? null
    : tty
      ? (line: string): void => {
          process.stderr.write(`\r\u001b[2K${line}`);
          liveShown = true;
        }
      : log;
  const out = (line: string): void => {
    if (liveShown) process.stderr.write('\n');
    liveShown = false;
    log(line);
  };
  try {
    const summary = await produce(config, stop.signal, out, live);
    const seconds = summary.elapsedMs / 1000;
    out(
      `produce: ${summary.stoppedBy === 'signal' ? 'stopped' : 'done'}: ${n(summary.events)} events to ${config.topic} in ${seconds.toFixed(2)} s ` +
        `(${n(seconds > 0 ? summary.events / seconds : 0)} events/s)`,
    );
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return 0;
}
