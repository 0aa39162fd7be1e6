// The Kafka sink: each batch's rows as JSON values keyed by the grouping key; with a checkpoint, one Kafka transaction per batch that also records the batch id, so a restart writes every row exactly once.
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { Kafka, logLevel, type Producer, type SASLOptions } from 'kafkajs';
import type { CheckpointLog } from '../checkpoint/log.js';
import { KindlingError } from '../errors.js';
import type { KafkaSecurity } from '../source/kafka-security.js';
import type { Row } from '../plan/types.js';
import { jsonLine, type EmittedBatch, type Sink } from './sink.js';

/** Settings of the Kafka sink. */
export interface KafkaSinkOptions {
  readonly brokers: readonly string[];
  readonly topic: string;
  /** The run's checkpoint; null: no checkpoint, so no restart to guard: rows are sent at least once, as Spark's Kafka sink does. */
  readonly checkpoint: CheckpointLog | null;
  readonly security?: KafkaSecurity;
  readonly log: (line: string) => void;
}

/** The batch id a transactional id last committed, kept as the committed offset of partition 0 of the topic (offset = batch id + 1) in a group named like the transactional id. */
const MARKER_PARTITION = 0;

/**
 * The transactional id of one checkpoint and topic: the checkpoint folder and its creation time
 * (a checkpoint deleted and started again under the same path is another one) and the topic.
 */
export function transactionalIdOf(checkpointDir: string, checkpointCreatedAt: string, topic: string): string {
  const digest = createHash('sha256').update(`${resolve(checkpointDir)}\u0000${checkpointCreatedAt}\u0000${topic}`).digest('hex');
  return `kindling-sink-${digest.slice(0, 24)}`;
}

/** kafkajs's spelling of Kindling's security settings (also used by `kindling produce` for its admin calls). */
export function kafkajsSecurity(security: KafkaSecurity | undefined): { ssl?: { ca?: string[]; cert?: string; key?: string } | boolean; sasl?: SASLOptions } {
  if (!security || security.protocol === 'PLAINTEXT') return {};
  const out: { ssl?: { ca?: string[]; cert?: string; key?: string } | boolean; sasl?: SASLOptions } = {};
  if (security.protocol === 'SSL' || security.protocol === 'SASL_SSL') {
    const t = security.tls;
    out.ssl = t?.ca || t?.keystore ? { ...(t.ca ? { ca: [t.ca.toString('utf8')] } : {}), ...(t.keystore ? { cert: t.keystore.toString('utf8'), key: t.keystore.toString('utf8') } : {}) } : true;
  }
  const sasl = security.sasl;
  if (sasl) {
    const { username, password } = sasl;
    out.sasl =
      sasl.mechanism === 'PLAIN'
        ? { mechanism: 'plain', username, password }
        : sasl.mechanism === 'SCRAM-SHA-256'
          ? { mechanism: 'scram-sha-256', username, password }
          : { mechanism: 'scram-sha-512', username, password };
  }
  return out;
}

/**
 * Writes every row of a batch to one topic: the value is the row in Spark's JSON shape (as the
 * jsonl sink writes it), the key the row's grouping key, so one key's rows stay in one topic
 * partition in order. With a checkpoint the rows of batch N go in one transaction that also
 * commits "N + 1" as a group offset: a restart finds which batches Kafka already holds and skips
 * them, and a batch cut off by a crash is aborted (the restarted producer fences it) and written
 * again, whole. Readers at read_committed see every row exactly once.
 */
export class KafkaSink implements Sink {
  readonly name: string;
  private producer: Producer | null = null;
  private opening: Promise<Producer> | null = null;
  /** With a checkpoint: the last batch id a committed transaction holds (-1: none). */
  private committedBatchId = -1;
  private transactionalId: string | null = null;
  private skipped = 0;

  constructor(private readonly o: KafkaSinkOptions) {
    this.name = `kafka:${o.topic}`;
  }

  async emit(batch: EmittedBatch): Promise<void> {
    const producer = await (this.opening ??= this.open());
    if (batch.batchId <= this.committedBatchId) {
      // Written and committed before the restart; only Kindling's own commit log missed it.
      if (this.skipped++ === 0) this.o.log(`kafka sink: batch ${batch.batchId} is already in ${this.o.topic} (a transaction committed it before the restart); not written again`);
      return;
    }
    if (batch.rows.length === 0) return;
    const keyAt = keyColumn(batch);
    const messages = batch.rows.map((row) => ({ key: keyAt === -1 ? null : keyText(row, keyAt), value: jsonLine(batch, row) }));
    const { topic } = this.o;
    try {
      if (this.transactionalId === null) {
        await producer.send({ topic, messages, acks: -1 });
        return;
      }
      const txn = await producer.transaction();
      try {
        await txn.send({ topic, messages, acks: -1 });
        await txn.sendOffsets({ consumerGroupId: this.transactionalId, topics: [{ topic, partitions: [{ partition: MARKER_PARTITION, offset: String(batch.batchId + 1) }] }] });
        await txn.commit();
      } catch (err) {
        await txn.abort().catch(() => undefined);
        throw err;
      }
      this.committedBatchId = batch.batchId;
    } catch (err) {
      throw new KindlingError('SINK_WRITE', `batch ${batch.batchId}: kafka sink cannot write to ${topic} on ${this.o.brokers.join(',')}: ${(err as Error).message}`, { domain: 'external', cause: err });
    }
  }

  async close(): Promise<void> {
    const producer = this.producer ?? (this.opening ? await this.opening.catch(() => null) : null);
    await producer?.disconnect().catch(() => undefined);
  }

  /**
   * Connects at the first batch, when the checkpoint's metadata exists: creates the topic if
   * missing, reads the last committed batch id, and (with a checkpoint) starts the transactional
   * producer, which fences and aborts what an earlier run of this checkpoint left open.
   */
  private async open(): Promise<Producer> {
    const { brokers, topic, checkpoint } = this.o;
    const kafka = new Kafka({
      clientId: `kindling-sink-${process.pid}`,
      brokers: [...brokers],
      logLevel: logLevel.NOTHING,
      connectionTimeout: 3000,
      requestTimeout: 30_000,
      ...kafkajsSecurity(this.o.security),
    });
    const admin = kafka.admin();
    let producer: Producer;
    try {
      await admin.connect();
      if (!(await admin.listTopics()).includes(topic)) {
        const cluster = await admin.describeCluster();
        await admin.createTopics({ topics: [{ topic, replicationFactor: Math.min(3, cluster.brokers.length) }], waitForLeaders: true });
      }
      if (checkpoint !== null) this.transactionalId = transactionalIdOf(checkpoint.dir, (await checkpoint.readMetadata())?.createdAt ?? '', topic);
      producer =
        this.transactionalId === null
          ? kafka.producer({ allowAutoTopicCreation: false })
          : kafka.producer({ transactionalId: this.transactionalId, idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
      // Connecting fences an earlier run's producer: its open transaction is aborted, one it was committing completes first.
      await producer.connect();
      if (this.transactionalId !== null) {
        // Read after the fence, so a commit that was still completing is counted.
        const [committed] = await admin.fetchOffsets({ groupId: this.transactionalId, topics: [topic] });
        const offset = Number(committed?.partitions.find((p) => p.partition === MARKER_PARTITION)?.offset ?? -1);
        this.committedBatchId = offset > 0 ? offset - 1 : -1;
      }
    } catch (err) {
      throw new KindlingError('SINK_WRITE', `kafka sink: cannot reach ${topic} on ${brokers.join(',')}: ${(err as Error).message}`, { domain: 'external', cause: err });
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    this.producer = producer;
    const how = this.transactionalId === null ? 'at least once (no --checkpoint-dir)' : `exactly once, one transaction per batch (transactional id ${this.transactionalId}; batches up to ${this.committedBatchId} already written)`;
    this.o.log(`kafka sink: writing rows to ${topic} on ${brokers.join(',')}, ${how}`);
    return producer;
  }
}

/**
 * The column that keys the messages: one named `key`, as Spark's Kafka sink takes it, else the
 * first column that is not a window (crash-alerts: user_id), so one key's rows stay in one topic
 * partition in order; -1: none (no key).
 */
function keyColumn(batch: EmittedBatch): number {
  const named = batch.columns.findIndex((c) => c.name === 'key');
  return named !== -1 ? named : batch.columns.findIndex((c) => c.type !== 'window');
}

/** A key cell as text (null stays null: Kafka's null key). */
function keyText(row: Row, at: number): string | null {
  const v = row[at] ?? null;
  return v === null ? null : typeof v === 'object' ? JSON.stringify(v) : String(v);
}
