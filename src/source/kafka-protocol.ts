// Kafka's wire format for the few requests the Kafka source sends: pure encoders and decoders, no I/O.
//
// Versions are the oldest ones every broker from Kafka 0.11 to 4.x accepts (Kafka 4.0 raised the
// minima, KIP-896: Produce 3, Fetch 4, ListOffsets 1, OffsetCommit 2), all non-flexible, so no
// tagged fields.
// Field layouts: https://kafka.apache.org/protocol#protocol_messages
import { Buffer } from 'node:buffer';
import { KindlingError } from '../errors.js';

/** API keys of the requests Kindling sends. */
export const ApiKey = { Produce: 0, Fetch: 1, ListOffsets: 2, Metadata: 3, OffsetCommit: 8, FindCoordinator: 10, SaslHandshake: 17, ApiVersions: 18, DescribeConfigs: 32, SaslAuthenticate: 36 } as const;
export type ApiName = keyof typeof ApiKey;

/** The version Kindling speaks of each API. */
export const API_VERSION: Readonly<Record<ApiName, number>> = {
  Produce: 3,
  Fetch: 4,
  ListOffsets: 1,
  Metadata: 4,
  OffsetCommit: 2,
  FindCoordinator: 1,
  // SASL (KIP-152): the handshake picks the mechanism, then its messages go in SaslAuthenticate requests (Kafka 1.0+).
  SaslHandshake: 1,
  ApiVersions: 0,
  DescribeConfigs: 1,
  SaslAuthenticate: 1,
};

/** ListOffsets timestamps that mean "earliest" and "latest". */
export const EARLIEST = -2;
export const LATEST = -1;

/** Kafka error codes Kindling tells apart (https://kafka.apache.org/protocol#protocol_error_codes). */
export const KafkaErrorCode = {
  NONE: 0,
  OFFSET_OUT_OF_RANGE: 1,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  LEADER_NOT_AVAILABLE: 5,
  NOT_LEADER_OR_FOLLOWER: 6,
  REQUEST_TIMED_OUT: 7,
  REPLICA_NOT_AVAILABLE: 9,
  COORDINATOR_LOAD_IN_PROGRESS: 14,
  COORDINATOR_NOT_AVAILABLE: 15,
  NOT_COORDINATOR: 16,
  ILLEGAL_GENERATION: 22,
  UNKNOWN_MEMBER_ID: 25,
  REBALANCE_IN_PROGRESS: 27,
  TOPIC_AUTHORIZATION_FAILED: 29,
  GROUP_AUTHORIZATION_FAILED: 30,
  UNSUPPORTED_SASL_MECHANISM: 33,
  ILLEGAL_SASL_STATE: 34,
  UNSUPPORTED_VERSION: 35,
  KAFKA_STORAGE_ERROR: 56,
  SASL_AUTHENTICATION_FAILED: 58,
  FENCED_LEADER_EPOCH: 74,
  UNKNOWN_LEADER_EPOCH: 75,
  UNSUPPORTED_COMPRESSION_TYPE: 76,
  UNKNOWN_TOPIC_ID: 100,
} as const;

/** A Kafka error code's name, as Kafka's protocol guide spells it. */
export type KafkaErrorName = keyof typeof KafkaErrorCode;

const ERROR_NAMES = new Map<number, KafkaErrorName>(Object.entries(KafkaErrorCode).map(([name, code]) => [code, name as KafkaErrorName]));

/** A Kafka error code's name, e.g. `NOT_LEADER_OR_FOLLOWER (6)`. */
export function kafkaErrorName(code: number): string {
  return `${ERROR_NAMES.get(code) ?? 'KAFKA_ERROR'} (${code})`;
}

/** Errors that go away by themselves (a leader moves, a broker loads): refresh metadata and retry. */
const RETRIABLE = new Set<number>([
  KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  KafkaErrorCode.LEADER_NOT_AVAILABLE,
  KafkaErrorCode.NOT_LEADER_OR_FOLLOWER,
  KafkaErrorCode.REQUEST_TIMED_OUT,
  KafkaErrorCode.REPLICA_NOT_AVAILABLE,
  KafkaErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
  KafkaErrorCode.COORDINATOR_NOT_AVAILABLE,
  KafkaErrorCode.NOT_COORDINATOR,
  KafkaErrorCode.KAFKA_STORAGE_ERROR,
  KafkaErrorCode.FENCED_LEADER_EPOCH,
  KafkaErrorCode.UNKNOWN_LEADER_EPOCH,
  KafkaErrorCode.UNKNOWN_TOPIC_ID,
]);

/** True when a Kafka error code is worth retrying after a metadata refresh. */
export function isRetriableKafkaError(code: number): boolean {
  return RETRIABLE.has(code);
}

/** A Kafka error code as a KindlingError (domain external), with where it happened. */
export function kafkaError(code: number, where: string): KindlingError {
  return new KindlingError(`KAFKA_${ERROR_NAMES.get(code) ?? code}`, `${where}: broker answered ${kafkaErrorName(code)}`, {
    domain: 'external',
    retriable: isRetriableKafkaError(code),
  });
}

/** Appends big-endian fields to a growing buffer. */
export class Writer {
  private buf = Buffer.allocUnsafe(256);
  private at = 0;

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(next, 0, 0, this.at);
    this.buf = next;
  }

  int8(v: number): this {
    this.room(1);
    this.at = this.buf.writeInt8(v, this.at);
    return this;
  }

  int16(v: number): this {
    this.room(2);
    this.at = this.buf.writeInt16BE(v, this.at);
    return this;
  }

  int32(v: number): this {
    this.room(4);
    this.at = this.buf.writeInt32BE(v, this.at);
    return this;
  }

  int64(v: number): this {
    this.room(8);
    this.at = this.buf.writeBigInt64BE(BigInt(v), this.at);
    return this;
  }

  bool(v: boolean): this {
    return this.int8(v ? 1 : 0);
  }

  /** STRING (int16 length); null writes NULLABLE_STRING's -1. */
  string(v: string | null): this {
    if (v === null) return this.int16(-1);
    const len = Buffer.byteLength(v);
    this.int16(len);
    this.room(len);
    this.at += this.buf.write(v, this.at);
    return this;
  }

  /** ARRAY: int32 count, then each item. */
  array<T>(items: readonly T[], each: (w: this, item: T) => void): this {
    this.int32(items.length);
    for (const item of items) each(this, item);
    return this;
  }

  /** UNSIGNED_VARINT. */
  uvarint(v: number): this {
    while (v >= 0x80) {
      this.int8((((v & 0x7f) | 0x80) << 24) >> 24);
      v = Math.floor(v / 128);
    }
    return this.int8(v);
  }

  /** Raw bytes, as they are. */
  raw(b: Uint8Array): this {
    this.room(b.length);
    this.buf.set(b, this.at);
    this.at += b.length;
    return this;
  }

  /** The bytes written so far (a view; the writer must not be used afterwards). */
  bytes(): Buffer {
    return this.buf.subarray(0, this.at);
  }
}

/** Reads big-endian fields from a response body; reading past the end throws a protocol error. */
export class Reader {
  constructor(
    readonly buf: Buffer,
    public at = 0,
  ) {}

  private need(n: number): void {
    if (this.at + n > this.buf.length) {
      throw new KindlingError('KAFKA_PROTOCOL', `malformed Kafka response: needed ${n} byte(s) at ${this.at} of ${this.buf.length}`, { domain: 'external', retriable: true });
    }
  }

  int8(): number {
    this.need(1);
    return this.buf.readInt8(this.at++);
  }

  int16(): number {
    this.need(2);
    const v = this.buf.readInt16BE(this.at);
    this.at += 2;
    return v;
  }

  int32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.at);
    this.at += 4;
    return v;
  }

  /** INT64 as a number: Kafka offsets stay far below 2^53. */
  int64(): number {
    this.need(8);
    const v = this.buf.readInt32BE(this.at) * 0x100000000 + this.buf.readUInt32BE(this.at + 4);
    this.at += 8;
    return v;
  }

  bool(): boolean {
    return this.int8() !== 0;
  }

  string(): string {
    const s = this.nullableString();
    return s ?? '';
  }

  nullableString(): string | null {
    const len = this.int16();
    if (len < 0) return null;
    this.need(len);
    const s = this.buf.toString('utf8', this.at, this.at + len);
    this.at += len;
    return s;
  }

  /** ARRAY (null reads as empty). */
  array<T>(each: (r: this) => T): T[] {
    const n = this.int32();
    const out: T[] = [];
    for (let i = 0; i < n; i++) out.push(each(this));
    return out;
  }

  /** UNSIGNED_VARINT (flexible versions' lengths). */
  uvarint(): number {
    let v = 0;
    for (let shift = 0; ; shift += 7) {
      const b = this.int8() & 0xff;
      v += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return v;
    }
  }

  /** COMPACT_NULLABLE_STRING: length + 1 as an unsigned varint (0: null). */
  compactNullableString(): string | null {
    const n = this.uvarint() - 1;
    if (n < 0) return null;
    this.need(n);
    const s = this.buf.toString('utf8', this.at, this.at + n);
    this.at += n;
    return s;
  }

  /** COMPACT_ARRAY (null reads as empty). */
  compactArray<T>(each: (r: this) => T): T[] {
    const n = this.uvarint() - 1;
    const out: T[] = [];
    for (let i = 0; i < n; i++) out.push(each(this));
    return out;
  }

  /** UUID as 32 hex digits. */
  uuid(): string {
    this.need(16);
    const s = this.buf.toString('hex', this.at, this.at + 16);
    this.at += 16;
    return s;
  }

  /** Skips a tagged-field section (flexible versions). */
  skipTaggedFields(): void {
    const n = this.uvarint();
    for (let i = 0; i < n; i++) {
      this.uvarint(); // tag
      const size = this.uvarint();
      this.need(size);
      this.at += size;
    }
  }

  /** NULLABLE_BYTES as a [start, end) range of `buf` (no copy), or null. */
  bytesRange(): { start: number; end: number } | null {
    const len = this.int32();
    if (len < 0) return null;
    this.need(len);
    const start = this.at;
    this.at += len;
    return { start, end: this.at };
  }
}

/** A whole request frame: size, header v1 (api key, version, correlation id, client id), body. */
export function encodeRequest(api: ApiName, correlationId: number, clientId: string, body: Buffer, version = API_VERSION[api]): Buffer {
  const w = new Writer().int32(0).int16(ApiKey[api]).int16(version).int32(correlationId).string(clientId);
  // Flexible versions (KIP-482) use request header v2: the same fields plus an empty tagged-field section.
  if (isFlexible(api, version)) w.int8(0);
  const header = w.bytes();
  const frame = Buffer.allocUnsafe(header.length + body.length);
  header.copy(frame, 0);
  body.copy(frame, header.length);
  frame.writeInt32BE(frame.length - 4, 0);
  return frame;
}

/** Flexible request versions Kindling sends (compact strings and arrays, tagged fields). */
function isFlexible(api: ApiName, version: number): boolean {
  return api === 'Metadata' && version >= 9;
}

// ---- ApiVersions v0

/** Supported [min, max] version per API key. */
export type ApiVersionRanges = Map<number, { min: number; max: number }>;

export function decodeApiVersions(r: Reader): ApiVersionRanges {
  const errorCode = r.int16();
  const ranges: ApiVersionRanges = new Map();
  for (const e of r.array((x) => ({ key: x.int16(), min: x.int16(), max: x.int16() }))) ranges.set(e.key, { min: e.min, max: e.max });
  if (errorCode !== 0) throw kafkaError(errorCode, 'ApiVersions');
  return ranges;
}

/** Names the APIs this broker cannot serve at the versions Kindling speaks (empty: all fine). */
export function unsupportedApis(ranges: ApiVersionRanges, needed: readonly ApiName[]): string[] {
  const out: string[] = [];
  for (const api of needed) {
    const range = ranges.get(ApiKey[api]);
    const v = API_VERSION[api];
    if (!range || v < range.min || v > range.max) out.push(`${api} v${v} (broker: ${range ? `v${range.min}-v${range.max}` : 'none'})`);
  }
  return out;
}

// ---- Metadata v4

export interface BrokerAddress {
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
}

export interface TopicMetadata {
  readonly errorCode: number;
  readonly name: string;
  /** 32 hex digits (Metadata v12); undefined or null when the broker gave none. */
  readonly topicId?: string | null;
  readonly partitions: ReadonlyArray<{ readonly errorCode: number; readonly partition: number; readonly leader: number }>;
}

export interface MetadataResponse {
  readonly brokers: readonly BrokerAddress[];
  readonly clusterId: string | null;
  readonly topics: readonly TopicMetadata[];
}

export function encodeMetadata(topics: readonly string[]): Buffer {
  return new Writer().array(topics, (w, t) => w.string(t)).bool(false).bytes();
}

export function decodeMetadata(r: Reader): MetadataResponse {
  r.int32(); // throttle_time_ms
  const brokers = r.array((x) => {
    const b = { nodeId: x.int32(), host: x.string(), port: x.int32() };
    x.nullableString(); // rack
    return b;
  });
  const clusterId = r.nullableString();
  r.int32(); // controller_id
  const topics = r.array((x) => {
    const errorCode = x.int16();
    const name = x.string();
    x.bool(); // is_internal
    const partitions = x.array((y) => {
      const p = { errorCode: y.int16(), partition: y.int32(), leader: y.int32() };
      y.array((z) => z.int32()); // replicas
      y.array((z) => z.int32()); // isr
      return p;
    });
    return { errorCode, name, partitions };
  });
  return { brokers, clusterId, topics };
}

// ---- Metadata v12: the same, plus each topic's id (a deleted and recreated topic gets a new one)

/** Metadata v12 (brokers from Kafka 3.1 answer it): flexible, and carries topic ids; older brokers get v4 and no ids. */
export const METADATA_TOPIC_ID_VERSION = 12;

/** The all-zero topic id brokers send for "no id". */
const NO_TOPIC_ID = '0'.repeat(32);

export function encodeMetadataV12(topics: readonly string[]): Buffer {
  const w = new Writer().uvarint(topics.length + 1); // compact array
  for (const t of topics) {
    const name = Buffer.from(t);
    w.int32(0).int32(0).int32(0).int32(0); // topic_id: zero, asking by name
    w.uvarint(name.length + 1).raw(name);
    w.int8(0); // tagged fields
  }
  return w.bool(false).bool(false).int8(0).bytes();
}

/** A Metadata v12 response (after the response header's correlation id), with topic ids. */
export function decodeMetadataV12(r: Reader): MetadataResponse {
  r.skipTaggedFields(); // response header v1
  r.int32(); // throttle_time_ms
  const brokers = r.compactArray((x) => {
    const b = { nodeId: x.int32(), host: x.compactNullableString() ?? '', port: x.int32() };
    x.compactNullableString(); // rack
    x.skipTaggedFields();
    return b;
  });
  const clusterId = r.compactNullableString();
  r.int32(); // controller_id
  const topics = r.compactArray((x) => {
    const errorCode = x.int16();
    const name = x.compactNullableString() ?? '';
    const topicId = x.uuid();
    x.bool(); // is_internal
    const partitions = x.compactArray((y) => {
      const p = { errorCode: y.int16(), partition: y.int32(), leader: y.int32() };
      y.int32(); // leader_epoch
      y.compactArray((z) => z.int32()); // replicas
      y.compactArray((z) => z.int32()); // isr
      y.compactArray((z) => z.int32()); // offline replicas
      y.skipTaggedFields();
      return p;
    });
    x.int32(); // topic_authorized_operations
    x.skipTaggedFields();
    return { errorCode, name, topicId: topicId === NO_TOPIC_ID ? null : topicId, partitions };
  });
  r.skipTaggedFields();
  return { brokers, clusterId, topics };
}

// ---- ListOffsets v1, and v2 for read_committed

/** Kafka's isolation levels: 0 read_uncommitted (the default), 1 read_committed. */
export type IsolationLevel = 0 | 1;

/**
 * ListOffsets v2 adds the isolation level: at read_committed, LATEST answers the last stable
 * offset (the first offset of a still-open transaction) instead of the high watermark.
 */
export const LIST_OFFSETS_ISOLATED_VERSION = 2;

/** A ListOffsets request; with `isolationLevel` it is v2 (send it at {@link LIST_OFFSETS_ISOLATED_VERSION}). */
export function encodeListOffsets(topic: string, partitions: readonly number[], timestamp: number, isolationLevel?: IsolationLevel): Buffer {
  const w = new Writer().int32(-1);
  if (isolationLevel !== undefined) w.int8(isolationLevel);
  return w.array([topic], (x, t) => x.string(t).array(partitions, (y, p) => y.int32(p).int64(timestamp))).bytes();
}

export interface PartitionOffset {
  readonly partition: number;
  readonly errorCode: number;
  readonly offset: number;
}

export function decodeListOffsets(r: Reader, version = API_VERSION.ListOffsets): PartitionOffset[] {
  const out: PartitionOffset[] = [];
  if (version >= 2) r.int32(); // throttle_time_ms
  r.array((x) => {
    x.string();
    x.array((y) => {
      const partition = y.int32();
      const errorCode = y.int16();
      y.int64(); // timestamp
      out.push({ partition, errorCode, offset: y.int64() });
    });
  });
  return out;
}

// ---- Fetch v4

export interface FetchPartitionRequest {
  readonly partition: number;
  readonly fetchOffset: number;
  readonly maxBytes: number;
}

/** isolation_level 0 (read_uncommitted) unless given: the Kafka consumer's and Spark's default. */
export function encodeFetch(
  topic: string,
  partitions: readonly FetchPartitionRequest[],
  o: { maxWaitMs: number; minBytes: number; maxBytes: number; isolationLevel?: IsolationLevel },
): Buffer {
  return new Writer()
    .int32(-1)
    .int32(o.maxWaitMs)
    .int32(o.minBytes)
    .int32(o.maxBytes)
    .int8(o.isolationLevel ?? 0)
    .array([topic], (w, t) => w.string(t).array(partitions, (x, p) => x.int32(p.partition).int64(p.fetchOffset).int32(p.maxBytes)))
    .bytes();
}

/** An aborted transaction in a Fetch response: its producer and the offset its records start at. */
export interface AbortedTransaction {
  readonly producerId: number;
  readonly firstOffset: number;
}

export interface FetchPartitionResponse {
  readonly partition: number;
  readonly errorCode: number;
  readonly highWatermark: number;
  /** The first offset of a still-open transaction (or the high watermark): read_committed reads up to here. */
  readonly lastStableOffset: number;
  /** At read_committed: transactions aborted in the fetched range, by producer and first offset. */
  readonly abortedTransactions: readonly AbortedTransaction[];
  /** The record set's [start, end) in the response buffer, or null. */
  readonly records: { start: number; end: number } | null;
}

/** Decodes the Fetch response's headers; the record sets stay as ranges of `r.buf` for the record decoder. */
export function decodeFetch(r: Reader): FetchPartitionResponse[] {
  r.int32(); // throttle_time_ms
  const out: FetchPartitionResponse[] = [];
  r.array((x) => {
    x.string();
    x.array((y) => {
      const partition = y.int32();
      const errorCode = y.int16();
      const highWatermark = y.int64();
      const lastStableOffset = y.int64();
      const abortedTransactions = y.array((z) => ({ producerId: z.int64(), firstOffset: z.int64() }));
      out.push({ partition, errorCode, highWatermark, lastStableOffset, abortedTransactions, records: y.bytesRange() });
    });
  });
  return out;
}

// ---- DescribeConfigs v1 (a topic's compression.type, for the message about an undecodable batch)

/** Asks for some configs of one topic (resource type 2). */
export function encodeDescribeTopicConfigs(topic: string, names: readonly string[]): Buffer {
  return new Writer()
    .array([topic], (w, t) => w.int8(2).string(t).array(names, (x, n) => x.string(n)))
    .bool(false)
    .bytes();
}

/** The topic's configs by name (null values stay null); a broker error for the topic as a KindlingError. */
export function decodeDescribeConfigs(r: Reader): Map<string, string | null> {
  r.int32(); // throttle_time_ms
  const out = new Map<string, string | null>();
  r.array((x) => {
    const errorCode = x.int16();
    x.nullableString(); // error_message
    x.int8(); // resource_type
    const name = x.string();
    x.array((y) => {
      const key = y.string();
      out.set(key, y.nullableString());
      y.bool(); // read_only
      y.int8(); // config_source
      y.bool(); // is_sensitive
      y.array((z) => (z.string(), z.nullableString(), z.int8())); // synonyms
    });
    if (errorCode !== 0) throw kafkaError(errorCode, `configs of topic ${name}`);
  });
  return out;
}

// ---- FindCoordinator v1 and OffsetCommit v2 (advisory commits)

export function encodeFindCoordinator(groupId: string): Buffer {
  return new Writer().string(groupId).int8(0).bytes();
}

export function decodeFindCoordinator(r: Reader): { errorCode: number; message: string | null; coordinator: BrokerAddress } {
  r.int32(); // throttle
  const errorCode = r.int16();
  const message = r.nullableString();
  return { errorCode, message, coordinator: { nodeId: r.int32(), host: r.string(), port: r.int32() } };
}

/** A commit outside any group generation (generation -1, no member): what a standalone consumer sends. */
export function encodeOffsetCommit(groupId: string, topic: string, offsets: ReadonlyArray<{ partition: number; offset: number }>): Buffer {
  return new Writer()
    .string(groupId)
    .int32(-1)
    .string('')
    .int64(-1)
    .array([topic], (w, t) => w.string(t).array(offsets, (x, o) => x.int32(o.partition).int64(o.offset).string(null)))
    .bytes();
}

export function decodeOffsetCommit(r: Reader): Array<{ partition: number; errorCode: number }> {
  const out: Array<{ partition: number; errorCode: number }> = [];
  r.array((x) => {
    x.string();
    x.array((y) => out.push({ partition: y.int32(), errorCode: y.int16() }));
  });
  return out;
}

// ---- Produce v3 (kindling produce)

/** One topic partition's record batch to produce. */
export interface ProducePartition {
  readonly partition: number;
  readonly records: Buffer;
}

/** A Produce request, no transaction; `acks` -1 waits for every in-sync replica. */
export function encodeProduce(topic: string, partitions: readonly ProducePartition[], o: { acks: number; timeoutMs: number }): Buffer {
  const w = new Writer().string(null).int16(o.acks).int32(o.timeoutMs);
  const head = w.array([topic], (x, t) => x.string(t).int32(partitions.length)).bytes();
  // The record batches are large: write them after the header without copying through the Writer.
  let size = head.length;
  for (const p of partitions) size += 8 + p.records.length;
  const out = Buffer.allocUnsafe(size);
  head.copy(out, 0);
  let at = head.length;
  for (const p of partitions) {
    at = out.writeInt32BE(p.partition, at);
    at = out.writeInt32BE(p.records.length, at);
    at += p.records.copy(out, at);
  }
  return out;
}

/**
 * Produce v7: the same request as v3, but brokers take zstd batches only from v7 on (KIP-110);
 * its response adds log_start_offset (v5+).
 */
export const PRODUCE_ZSTD_VERSION = 7;

export function decodeProduce(r: Reader, version = API_VERSION.Produce): Array<{ partition: number; errorCode: number; baseOffset: number }> {
  const out: Array<{ partition: number; errorCode: number; baseOffset: number }> = [];
  r.array((x) => {
    x.string();
    x.array((y) => {
      const partition = y.int32();
      const errorCode = y.int16();
      const baseOffset = y.int64();
      y.int64(); // log_append_time
      if (version >= 5) y.int64(); // log_start_offset
      out.push({ partition, errorCode, baseOffset });
    });
  });
  return out;
}

// ---- SaslHandshake v1, SaslAuthenticate v1

export function encodeSaslHandshake(mechanism: string): Buffer {
  return new Writer().string(mechanism).bytes();
}

export function decodeSaslHandshake(r: Reader): { errorCode: number; mechanisms: string[] } {
  const errorCode = r.int16();
  return { errorCode, mechanisms: r.array((x) => x.string()) };
}

/** One SASL message (BYTES: int32 length, then the bytes). */
export function encodeSaslAuthenticate(authBytes: Buffer): Buffer {
  return new Writer().int32(authBytes.length).raw(authBytes).bytes();
}

export function decodeSaslAuthenticate(r: Reader): { errorCode: number; message: string | null; authBytes: Buffer } {
  const errorCode = r.int16();
  const message = r.nullableString();
  const range = r.bytesRange();
  r.int64(); // session lifetime: brokers ask for re-authentication only when connections.max.reauth.ms is set
  return { errorCode, message, authBytes: range ? r.buf.subarray(range.start, range.end) : Buffer.alloc(0) };
}
