// Byte vectors recorded from a real broker (test/fixtures/kafka/record-vectors.mjs) and a connection factory that replays them.
import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { KindlingError } from '../../src/errors.js';
import type { ConnectionFactory, KafkaConnection } from '../../src/source/kafka-connection.js';
import { Reader, Writer, type ApiName } from '../../src/source/kafka-protocol.js';

export interface RecordedExchange {
  readonly api: ApiName;
  /** Request and response bodies, base64. */
  readonly request: string;
  readonly response: string;
}

interface RecordedFetch {
  readonly request: string;
  readonly response: string;
}

/** A KafkaSource reading a topic to its end (available-now), as recorded. */
export interface RecordedConversation {
  readonly topic: string;
  readonly tuning: { fetchMaxBytes: number; partitionFetchMaxBytes: number; fetchMaxWaitMs: number; fetchMinBytes: number };
  readonly exchanges: readonly RecordedExchange[];
  /** What kafkajs's consumer read from the same log at the same isolation level: the oracle. */
  readonly kafkajs: ReadonlyArray<{ offset: number; value: string | null }>;
}

/** The fixture file, as record-vectors.mjs writes it. */
export interface KafkaVectors {
  readonly recordedFrom: string;
  /** Plain, gzip, committed, aborted and (at the end) still-open transactions, read at read_uncommitted. */
  readonly mixed: RecordedConversation;
  /** The same topic read at read_committed. */
  readonly mixedCommitted: RecordedConversation;
  readonly codecs: Readonly<Record<'gzip' | 'snappy' | 'lz4' | 'zstd', { topic: string; compressedBy: string; fetch: RecordedFetch }>>;
  readonly apiVersions: { readonly response: string };
  readonly outOfRange: { readonly topic: string; readonly offset: number; readonly fetch: RecordedFetch };
  /** The values produced, in order (null: a null value). */
  readonly values: ReadonlyArray<string | null>;
}

export const vectors: KafkaVectors = JSON.parse(readFileSync(new URL('../fixtures/kafka/vectors.json', import.meta.url), 'utf8')) as KafkaVectors;

/** A response body as the connection hands it over: a reader positioned after the correlation id. */
export function responseReader(body: Buffer): Reader {
  const frame = Buffer.alloc(4 + body.length);
  body.copy(frame, 4);
  return new Reader(frame, 4);
}

/** One partition of a Fetch v4 response. */
export interface FetchPartitionAnswer {
  readonly partition: number;
  readonly errorCode: number;
  readonly highWatermark: number;
  readonly lastStableOffset: number;
  /** null: the broker sent a null array (it does at read_uncommitted). */
  readonly abortedTransactions: ReadonlyArray<{ producerId: number; firstOffset: number }> | null;
  readonly records: Buffer | null;
}

/** Reads a Fetch v4 response body completely (the source's decoder skips what it does not use). */
export function parseFetchResponse(body: Buffer): { throttleMs: number; topics: Array<{ topic: string; partitions: FetchPartitionAnswer[] }> } {
  const r = responseReader(body);
  const throttleMs = r.int32();
  const topics = r.array((x) => ({
    topic: x.string(),
    partitions: x.array((y) => {
      const partition = y.int32();
      const errorCode = y.int16();
      const highWatermark = y.int64();
      const lastStableOffset = y.int64();
      const aborted = y.int32();
      const abortedTransactions = aborted < 0 ? null : Array.from({ length: aborted }, () => ({ producerId: y.int64(), firstOffset: y.int64() }));
      const range = y.bytesRange();
      return { partition, errorCode, highWatermark, lastStableOffset, abortedTransactions, records: range ? Buffer.from(y.buf.subarray(range.start, range.end)) : null };
    }),
  }));
  return { throttleMs, topics };
}

/** Writes a Fetch v4 response body, field for field as the broker does (checked against recorded bytes). */
export function encodeFetchResponse(throttleMs: number, topics: ReadonlyArray<{ topic: string; partitions: readonly FetchPartitionAnswer[] }>): Buffer {
  // Writer has no raw-bytes field: each partition's header is written, then its records spliced in.
  const chunks: Buffer[] = [Buffer.from(new Writer().int32(throttleMs).int32(topics.length).bytes())];
  for (const t of topics) {
    chunks.push(Buffer.from(new Writer().string(t.topic).int32(t.partitions.length).bytes()));
    for (const p of t.partitions) {
      const w = new Writer().int32(p.partition).int16(p.errorCode).int64(p.highWatermark).int64(p.lastStableOffset);
      if (p.abortedTransactions === null) w.int32(-1);
      else w.array(p.abortedTransactions, (x, a) => x.int64(a.producerId).int64(a.firstOffset));
      chunks.push(Buffer.from(w.int32(p.records ? p.records.length : -1).bytes()));
      if (p.records) chunks.push(p.records);
    }
  }
  return Buffer.concat(chunks);
}

/** Answers a request from the recording; `rewrite` may replace the n-th answer (0-based, per API) to inject a failure. */
export type Rewrite = (api: ApiName, nth: number, recorded: Buffer) => Buffer;

/**
 * A connection factory that plays a recorded conversation back: each request gets the first unused
 * recorded answer to the same API and body, else the last one used (a repeated poll), else it
 * fails as unrecorded (not retriable, so a test that strays from the recording stops at once).
 */
export function replayingConnections(exchanges: readonly RecordedExchange[], rewrite: Rewrite = (_api, _n, b) => b): { connect: ConnectionFactory; sent: ApiName[] } {
  const used = new Set<number>();
  const lastFor = new Map<string, number>();
  const counts = new Map<ApiName, number>();
  const sent: ApiName[] = [];
  const answer = (api: ApiName, body: Buffer): Buffer => {
    const request = body.toString('base64');
    const key = `${api}:${request}`;
    let index = exchanges.findIndex((e, i) => !used.has(i) && e.api === api && e.request === request);
    if (index < 0) index = lastFor.get(key) ?? -1;
    if (index < 0) throw new KindlingError('KAFKA_PROTOCOL', `test replay: no recorded answer to ${api} ${request}`, { domain: 'internal' });
    used.add(index);
    lastFor.set(key, index);
    const nth = counts.get(api) ?? 0;
    counts.set(api, nth + 1);
    sent.push(api);
    return rewrite(api, nth, Buffer.from(exchanges[index]!.response, 'base64'));
  };
  const connect: ConnectionFactory = async (address) => {
    let closed = false;
    const conn: KafkaConnection = {
      address,
      get closed() {
        return closed;
      },
      close: () => {
        closed = true;
      },
      send: async (api, body) => {
        if (closed) throw new KindlingError('KAFKA_CLOSED', `connection to ${address} closed`, { domain: 'external', retriable: true });
        return responseReader(answer(api, body));
      },
    };
    return conn;
  };
  return { connect, sent };
}
