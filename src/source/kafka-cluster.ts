// The brokers of one topic as the Kafka source sees them: connections, partition leaders from Metadata, and ListOffsets.
import { KindlingError } from '../errors.js';
import { brokerAddressText } from './kafka-address.js';
import type { ConnectionFactory, KafkaConnection } from './kafka-connection.js';
import type { KafkaSecurity } from './kafka-security.js';
import {
  ApiKey,
  decodeMetadataV12,
  encodeMetadataV12,
  METADATA_TOPIC_ID_VERSION,
  type MetadataResponse,
  decodeDescribeConfigs,
  decodeListOffsets,
  decodeMetadata,
  encodeDescribeTopicConfigs,
  encodeListOffsets,
  encodeMetadata,
  kafkaError,
  kafkaErrorName,
  KafkaErrorCode,
  LIST_OFFSETS_ISOLATED_VERSION,
  type ApiName,
  type IsolationLevel,
} from './kafka-protocol.js';

/** The requests a broker must support for the source. */
const NEEDED_APIS: readonly ApiName[] = ['Metadata', 'ListOffsets', 'Fetch'];

/** A topic partition and the broker id leading it. */
export interface PartitionLeader {
  readonly partitionId: number;
  readonly leader: number;
}

export interface ClusterOptions {
  readonly brokers: readonly string[];
  readonly topic: string;
  readonly clientId: string;
  readonly connect: ConnectionFactory;
  readonly connectTimeoutMs: number;
  readonly requestTimeoutMs: number;
  /** read_committed (1): LATEST is the last stable offset, asked with ListOffsets v2. */
  readonly isolationLevel: IsolationLevel;
  /** TLS and SASL for every connection; absent: PLAINTEXT. */
  readonly security?: KafkaSecurity;
}

/**
 * One connection per broker address, opened on demand (concurrent callers share an opening), and
 * what the last Metadata said about the topic. Every failure is a KindlingError; retriable ones
 * (a broker away, a leader moving, a topic not there yet) are for the fetch loop to retry.
 */
export class KafkaCluster {
  private brokersById = new Map<number, string>();
  private readonly connections = new Map<string, KafkaConnection>();
  private readonly opening = new Map<string, Promise<KafkaConnection>>();
  /** Aborted by close: cancels connection attempts at once. */
  private readonly closing = new AbortController();
  private closed = false;

  constructor(private readonly o: ClusterOptions) {}

  async connection(address: string): Promise<KafkaConnection> {
    const existing = this.connections.get(address);
    if (existing && !existing.closed) return existing;
    let opening = this.opening.get(address);
    if (!opening) {
      opening = this.o
        .connect(address, NEEDED_APIS, {
          clientId: this.o.clientId,
          connectTimeoutMs: this.o.connectTimeoutMs,
          signal: this.closing.signal,
          ...(this.o.security ? { security: this.o.security } : {}),
        })
        .finally(() => this.opening.delete(address));
      this.opening.set(address, opening);
    }
    const conn = await opening;
    if (this.closed) {
      conn.close();
      throw new KindlingError('KAFKA_CLOSED', 'kafka source closed', { domain: 'external', retriable: true });
    }
    this.connections.set(address, conn);
    return conn;
  }

  /** A live connection to any broker: an open one, else the bootstrap brokers in turn. */
  async anyConnection(): Promise<{ conn: KafkaConnection; address: string }> {
    for (const [address, conn] of this.connections) if (!conn.closed) return { conn, address };
    const errors: string[] = [];
    for (const address of this.o.brokers) {
      try {
        return { conn: await this.connection(address), address };
      } catch (err) {
        if (!(err instanceof KindlingError) || !err.retriable) throw err;
        errors.push(err.message);
      }
    }
    throw new KindlingError('KAFKA_UNREACHABLE', errors.join('; '), { domain: 'external', retriable: true });
  }

  /** The topic's partitions and their leaders; retriable errors while the topic or a leader is missing. */
  /** The topic's id as the last Metadata answer gave it (null: the broker gives no ids). */
  topicId: string | null = null;

  /** True when this broker answers Metadata with topic ids. */
  static knowsTopicIds(conn: KafkaConnection): boolean {
    return (conn.versions?.get(ApiKey.Metadata)?.max ?? 0) >= METADATA_TOPIC_ID_VERSION;
  }

  /** Metadata of the topic: v12 (with its id) from a broker that speaks it, else v4. */
  private async metadata(conn: KafkaConnection): Promise<MetadataResponse> {
    const topics = [this.o.topic];
    if (!KafkaCluster.knowsTopicIds(conn)) return decodeMetadata(await conn.send('Metadata', encodeMetadata(topics), this.o.requestTimeoutMs));
    return decodeMetadataV12(await conn.send('Metadata', encodeMetadataV12(topics), this.o.requestTimeoutMs, METADATA_TOPIC_ID_VERSION));
  }

  /**
   * The topic's id as `conn` sees it now, or null (no ids, or no such topic). Sent right after a
   * Fetch on the same connection, its answer reflects the topic the fetch read: a broker handles
   * one connection's requests in order.
   */
  async topicIdOn(conn: KafkaConnection): Promise<string | null> {
    const md = await this.metadata(conn);
    return md.topics.find((x) => x.name === this.o.topic)?.topicId ?? null;
  }

  async leaders(): Promise<PartitionLeader[]> {
    const { topic } = this.o;
    const { conn, address } = await this.anyConnection();
    const md = await this.metadata(conn);
    this.brokersById = new Map(md.brokers.map((b) => [b.nodeId, brokerAddressText(b.host, b.port)]));
    const t = md.topics.find((x) => x.name === topic);
    if (!t || t.errorCode === KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION || (t.errorCode === 0 && t.partitions.length === 0)) {
      throw new KindlingError('KAFKA_NO_TOPIC', `it does not exist on ${address} (\`kindling produce --topic ${topic}\` creates it with 2 partitions)`, { domain: 'external', retriable: true });
    }
    if (t.errorCode === KafkaErrorCode.TOPIC_AUTHORIZATION_FAILED) {
      throw new KindlingError('KAFKA_NOT_AUTHORIZED', `topic ${topic}: the broker refuses access (${kafkaErrorName(t.errorCode)})`, { domain: 'external' });
    }
    if (t.errorCode !== 0) throw kafkaError(t.errorCode, `metadata of topic ${topic}`);
    for (const p of t.partitions) {
      if (p.leader < 0 || (p.errorCode !== 0 && p.errorCode !== KafkaErrorCode.REPLICA_NOT_AVAILABLE)) {
        throw new KindlingError('KAFKA_NO_LEADER', `${topic}-${p.partition} has no leader yet${p.errorCode ? ` (${kafkaErrorName(p.errorCode)})` : ''}`, { domain: 'external', retriable: true });
      }
      if (!this.brokersById.has(p.leader)) throw new KindlingError('KAFKA_NO_LEADER', `${topic}-${p.partition}: leader ${p.leader} is not among the brokers`, { domain: 'external', retriable: true });
    }
    this.topicId = t.topicId ?? null;
    return t.partitions.map((p) => ({ partitionId: p.partition, leader: p.leader }));
  }

  /** Where a topic partition's leader listens; a retriable error (refresh metadata) when it is not known. */
  leaderAddress(p: PartitionLeader): string {
    const address = this.brokersById.get(p.leader);
    if (address === undefined) {
      throw new KindlingError('KAFKA_NO_LEADER', `${this.o.topic}-${p.partitionId}: leader ${p.leader} is not among the known brokers`, { domain: 'external', retriable: true });
    }
    return address;
  }

  /** ListOffsets at `timestamp` (EARLIEST or LATEST: at read_committed the last stable offset) for each topic partition, asked of its leader. */
  async listOffsets(parts: readonly PartitionLeader[], timestamp: number): Promise<Map<number, number>> {
    const { topic } = this.o;
    const out = new Map<number, number>();
    const byLeader = groupBy(parts, (p) => this.leaderAddress(p));
    await Promise.all(
      [...byLeader].map(async ([address, ps]) => {
        const conn = await this.connection(address);
        const ids = ps.map((p) => p.partitionId);
        const answer =
          this.o.isolationLevel === 1
            ? decodeListOffsets(
                await conn.send('ListOffsets', encodeListOffsets(topic, ids, timestamp, 1), this.o.requestTimeoutMs, LIST_OFFSETS_ISOLATED_VERSION),
                LIST_OFFSETS_ISOLATED_VERSION,
              )
            : decodeListOffsets(await conn.send('ListOffsets', encodeListOffsets(topic, ids, timestamp), this.o.requestTimeoutMs));
        for (const a of answer) {
          if (a.errorCode !== 0) throw kafkaError(a.errorCode, `offsets of ${topic}-${a.partition}`);
          out.set(a.partition, a.offset);
        }
      }),
    );
    for (const p of parts) if (!out.has(p.partitionId)) throw new KindlingError('KAFKA_PROTOCOL', `no offsets for ${topic}-${p.partitionId}`, { domain: 'external', retriable: true });
    return out;
  }

  /**
   * Who compresses the topic's record batches, in words for an error message: the topic's
   * compression.type is `producer` (the default: batches stay as producers sent them) or a codec
   * the broker recompresses to. Only a message depends on it, so any failure gives a vaguer answer.
   */
  async compressedBy(): Promise<string> {
    try {
      const { conn } = await this.anyConnection();
      const configs = decodeDescribeConfigs(await conn.send('DescribeConfigs', encodeDescribeTopicConfigs(this.o.topic, ['compression.type']), this.o.requestTimeoutMs));
      const value = configs.get('compression.type');
      if (value === 'producer') return 'the producer (the topic keeps what producers send: compression.type=producer)';
      if (value) return `the broker, as the topic's compression.type=${value} says`;
    } catch {
      // Fall through: the broker may not allow DescribeConfigs to this client.
    }
    return "the producer or the broker (the topic's compression.type could not be read)";
  }

  close(): void {
    this.closed = true;
    this.closing.abort();
    for (const c of this.connections.values()) c.close();
    this.connections.clear();
  }
}

/** Items grouped by a key, each group in input order. */
export function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}
