// The Kafka fetch path without a broker: byte vectors recorded from a real one, replayed through the source and its pieces.
import { Buffer } from 'node:buffer';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { KindlingError } from '../../src/errors.js';
import { BrokerConnection } from '../../src/source/kafka-connection.js';
import { applyFetchResponse, type FetchedPartition } from '../../src/source/kafka-fetch.js';
import { KafkaErrorCode } from '../../src/source/kafka-protocol.js';
import { decodeRecordSet, PartitionBuffer } from '../../src/source/kafka-records.js';
import { KafkaSource, type KafkaIsolationLevel } from '../../src/source/kafka.js';
import { waitFor } from '../../src/kafka/wait.js';
import { splitRecords } from '../helpers/kafka-splits.js';
import { encodeFetchResponse, parseFetchResponse, replayingConnections, responseReader, vectors, type RecordedConversation, type Rewrite } from '../helpers/kafka-vectors.js';

const { mixed } = vectors;
const recordedFetches = mixed.exchanges.filter((e) => e.api === 'Fetch').map((e) => Buffer.from(e.response, 'base64'));

/** Reads the recorded topic through a KafkaSource on replayed connections: offset and value of every record, and the log. */
async function readReplayed(
  rewrite?: Rewrite,
  conversation: RecordedConversation = mixed,
  isolationLevel: KafkaIsolationLevel = 'read_uncommitted',
): Promise<{ records: Array<{ offset: number; value: string }>; logs: string[]; endOffsets: unknown[]; progress: unknown[] }> {
  const { connect } = replayingConnections(conversation.exchanges, rewrite);
  const logs: string[] = [];
  const source = new KafkaSource({
    brokers: ['127.0.0.1:19092'],
    topic: conversation.topic,
    groupId: 'replay',
    startingOffsets: 'earliest',
    maxOffsetsPerTrigger: null,
    availableNow: true,
    splitBytes: 1 << 20,
    log: (l) => logs.push(l),
    connect,
    tuning: { ...conversation.tuning, retryInitialMs: 1, retryMaxMs: 5 },
    isolationLevel,
  });
  const records: Array<{ offset: number; value: string }> = [];
  const endOffsets: unknown[] = [];
  const progress: unknown[] = [];
  try {
    for (;;) {
      const r = await source.poll();
      if (r.kind === 'end') break;
      if (r.kind !== 'batch') continue;
      endOffsets.push(r.batch.endOffsets);
      progress.push(r.batch.progress);
      for (const split of r.batch.splits) records.push(...(await splitRecords(split)));
    }
  } finally {
    await source.close();
  }
  return { records, logs, endOffsets, progress };
}

/** The last stable offset the recorded read_committed fetches reported: where read_committed stops. */
function lastCommittedEnd(c: RecordedConversation): number {
  const last = c.exchanges.filter((e) => e.api === 'Fetch').at(-1)!;
  return parseFetchResponse(Buffer.from(last.response, 'base64')).topics[0]!.partitions[0]!.lastStableOffset;
}

/** kafkajs's reading of the same log; Kindling reads a null value as an empty record. */
const oracle = mixed.kafkajs.map((r) => ({ offset: r.offset, value: r.value ?? '' }));
const lastOffset = oracle[oracle.length - 1]!.offset;

function partitionAt(offset: number): FetchedPartition {
  return { partitionId: 0, label: 't-0', leader: 1, buffer: new PartitionBuffer(offset, 1 << 20), highWatermark: -1, target: null, maxBytes: 1 << 20 };
}

/** The recorded fetch response with its partition's fields changed. */
function withPartition(body: Buffer, change: (p: ReturnType<typeof parseFetchResponse>['topics'][0]['partitions'][0]) => Partial<ReturnType<typeof parseFetchResponse>['topics'][0]['partitions'][0]>): Buffer {
  const parsed = parseFetchResponse(body);
  return encodeFetchResponse(
    parsed.throttleMs,
    parsed.topics.map((t) => ({ topic: t.topic, partitions: t.partitions.map((p) => ({ ...p, ...change(p) })) })),
  );
}

describe(`Kafka fetch path on byte vectors recorded from ${vectors.recordedFrom}`, () => {
  it('the test encoder writes a Fetch response byte for byte as the broker did (so the injected failures below are well-formed)', () => {
    for (const body of [...recordedFetches, Buffer.from(vectors.outOfRange.fetch.response, 'base64')]) {
      const parsed = parseFetchResponse(body);
      expect(encodeFetchResponse(parsed.throttleMs, parsed.topics).equals(body)).toBe(true);
    }
  });

  it('replays the recorded conversation through the source: every record kafkajs reads, at its offset; control batches (transaction markers) skipped, gzip, keys, headers and a null value handled, batches the broker cut short fetched again', async () => {
    const { records, endOffsets } = await readReplayed();
    expect(records).toEqual(oracle);
    // The last record is followed by nothing; the commit and abort markers (offsets kafkajs skips) were stepped over.
    expect(endOffsets[endOffsets.length - 1]).toEqual({ [mixed.topic]: { '0': lastOffset + 1 } });
    expect(oracle.map((r) => r.offset)).not.toEqual(Array.from({ length: oracle.length }, (_, i) => i));
  });

  it('read_committed (the recorded read_committed conversation): exactly what kafkajs reads at read_committed; aborted transactions (plain and gzip batches) dropped, the open transaction not reached, lag counted from the last stable offset', async () => {
    const committed = vectors.mixedCommitted;
    const expected = committed.kafkajs.map((r) => ({ offset: r.offset, value: r.value ?? '' }));
    const { records, endOffsets, progress } = await readReplayed(undefined, committed, 'read_committed');
    expect(records).toEqual(expected);
    // Aborted records are there at read_uncommitted and gone here; the open transaction starts where the read stops.
    const aborted = oracle.filter((r) => !expected.some((e) => e.offset === r.offset) && r.offset < lastCommittedEnd(committed));
    expect(aborted.length).toBeGreaterThan(0);
    const stop = (endOffsets.at(-1) as Record<string, Record<string, number>>)[committed.topic]!['0']!;
    expect(stop).toBe(lastCommittedEnd(committed));
    expect(oracle.some((r) => r.offset >= stop)).toBe(true);
    expect((progress.at(-1) as { latestOffset: Record<string, Record<string, number>> }).latestOffset[committed.topic]!['0']).toBe(stop);
  });

  it('NOT_LEADER_OR_FOLLOWER: waits, refreshes metadata, fetches again and reads exactly the same records', async () => {
    const rewrite: Rewrite = (api, nth, body) => (api === 'Fetch' && nth === 0 ? withPartition(body, () => ({ errorCode: KafkaErrorCode.NOT_LEADER_OR_FOLLOWER, records: null })) : body);
    const { records, logs } = await readReplayed(rewrite);
    expect(records).toEqual(oracle);
    expect(logs.join('\n')).toMatch(/waiting for broker .*NOT_LEADER_OR_FOLLOWER \(6\)/);
    expect(logs.join('\n')).toContain('reading again');
  });

  it('NOT_LEADER_OR_FOLLOWER in one response: a retriable error, the buffer untouched', () => {
    const body = withPartition(recordedFetches[0]!, () => ({ errorCode: KafkaErrorCode.NOT_LEADER_OR_FOLLOWER, records: null }));
    const p = partitionAt(0);
    const outcome = applyFetchResponse(responseReader(body), new Map([[0, p]]), new Map([[0, 0]]), 'b:1');
    expect(outcome.retry).toBeInstanceOf(KindlingError);
    expect(outcome.retry!.retriable).toBe(true);
    expect(outcome.retry!.message).toBe('fetch of t-0 from b:1: broker answered NOT_LEADER_OR_FOLLOWER (6)');
    expect(p.buffer.endOffset).toBe(0);
  });

  it("OFFSET_OUT_OF_RANGE (the broker's own answer to a fetch past the end): the run stops, naming the topic partition, the offset and what the topic partition holds", async () => {
    const outOfRange = Buffer.from(vectors.outOfRange.fetch.response, 'base64');
    const p = partitionAt(vectors.outOfRange.offset);
    const outcome = applyFetchResponse(responseReader(outOfRange), new Map([[0, p]]), new Map([[0, vectors.outOfRange.offset]]), 'b:1');
    expect(outcome.outOfRange).toBe(p);
    // Through the source: its first fetch answered so; the range comes from the recorded ListOffsets.
    const failed = readReplayed((api, nth, body) => (api === 'Fetch' && nth === 0 ? outOfRange : body));
    await expect(failed).rejects.toMatchObject({ code: 'KAFKA_DATA_LOSS' });
    await expect(failed).rejects.toThrow(`${mixed.topic}-0: offset 0 is out of range (it now holds [0, ${lastOffset + 1}))`);
  });

  it('a corrupt batch in a later fetch: every record fetched before it still goes out in batches, then the run stops naming where', async () => {
    let corruptAt = -1;
    const rewrite: Rewrite = (api, nth, body) => {
      if (api !== 'Fetch' || nth !== 1) return body;
      return withPartition(body, (p) => {
        const records = Buffer.from(p.records!);
        corruptAt = Number(records.readBigInt64BE(0));
        records.writeInt32BE(-61, 8);
        return { records };
      });
    };
    const { connect } = replayingConnections(mixed.exchanges, rewrite);
    const source = new KafkaSource({
      brokers: ['127.0.0.1:19092'], topic: mixed.topic, groupId: 'replay', startingOffsets: 'earliest', maxOffsetsPerTrigger: 5, availableNow: true,
      splitBytes: 1 << 20, log: () => undefined, connect, tuning: mixed.tuning,
    });
    const before: Array<{ offset: number; value: string }> = [];
    const take = async (): Promise<boolean> => {
      const r = await source.poll();
      if (r.kind === 'batch') for (const split of r.batch.splits) before.push(...(await splitRecords(split)));
      return r.kind === 'batch';
    };
    try {
      while (!(await take()));
      // The fetch loop has met the corrupt batch while most fetched records still wait in the buffer.
      await waitFor(() => source.state.kind === 'failed', { timeoutMs: 10_000, intervalMs: 5, what: 'the fetch loop to fail' });
      let error: unknown = null;
      try {
        for (;;) await take();
      } catch (err) {
        error = err;
      }
      expect(error).toMatchObject({ code: 'KAFKA_CORRUPT_BATCH' });
      expect((error as Error).message).toMatch(new RegExp(`^${mixed.topic}-0 offset ${corruptAt}: corrupt record batch: record batch length -61`));
    } finally {
      await source.close();
    }
    expect(corruptAt).toBeGreaterThan(5);
    expect(before).toEqual(oracle.filter((r) => r.offset < corruptAt));
  });

  it('a truncated response (any prefix of a recorded one) is a retriable protocol error, never a partial read', () => {
    const body = recordedFetches[0]!;
    for (let cut = 0; cut < body.length; cut += 7) {
      const p = partitionAt(0);
      let error: unknown = null;
      try {
        applyFetchResponse(responseReader(body.subarray(0, cut)), new Map([[0, p]]), new Map([[0, 0]]), 'b:1');
      } catch (err) {
        error = err;
      }
      expect(error, `cut at ${cut}`).toMatchObject({ code: 'KAFKA_PROTOCOL', retriable: true });
    }
  });

  it.each([
    { name: 'negative (would move the read position backwards)', length: -61 },
    { name: 'below the batch header', length: 10 },
    { name: 'larger than any fetch', length: 0x7fffffff },
  ])('a record batch length that is $name: a clear error naming where', ({ length }) => {
    const { records } = parseFetchResponse(recordedFetches[0]!).topics[0]!.partitions[0]!;
    const bad = Buffer.from(records!);
    bad.writeInt32BE(length, 8);
    const p = partitionAt(0);
    expect(() => decodeRecordSet(bad, 0, bad.length, p.buffer, 't-0')).toThrow(new RegExp(`^t-0 offset 0: corrupt record batch: record batch length ${length} is outside`));
    expect(p.buffer.endOffset).toBe(0);
  });

  it('a record whose length runs past its batch: a clear error, not the next record read as this one', () => {
    const { records } = parseFetchResponse(recordedFetches[0]!).topics[0]!.partitions[0]!;
    const bad = Buffer.from(records!);
    // The first record's length, a two-byte varint here, set to 8191 (zigzag 0x3ffe): far past this batch's end.
    expect(bad[61]! & 0x80).toBe(0x80);
    bad[61] = 0xfe;
    bad[62] = 0x7f;
    expect(() => decodeRecordSet(bad, 0, bad.length, new PartitionBuffer(0, 1 << 20), 't-0')).toThrow(/^t-0 offset 0: corrupt record batch: record 0 of \d+ has length 8191, past the batch's end/);
  });
});

describe('Kafka response frames on a real socket (a server answering with recorded bytes)', () => {
  let server: Server | null = null;
  afterEach(() => {
    server?.close();
    server = null;
  });

  /** A server that answers ApiVersions with the recorded answer, then writes `afterwards` for the next request. */
  async function brokerSending(afterwards: (socket: Socket, correlationId: number) => void): Promise<string> {
    const versions = Buffer.from(vectors.apiVersions.response, 'base64');
    server = createServer((socket) => {
      let seen = Buffer.alloc(0);
      let requests = 0;
      socket.on('data', (d) => {
        seen = Buffer.concat([seen, d]);
        while (seen.length >= 4 && seen.length >= 4 + seen.readInt32BE(0)) {
          const correlationId = seen.readInt32BE(8);
          seen = seen.subarray(4 + seen.readInt32BE(0));
          if (requests++ === 0) {
            const head = Buffer.alloc(8);
            head.writeInt32BE(4 + versions.length, 0);
            head.writeInt32BE(correlationId, 4);
            socket.write(Buffer.concat([head, versions]));
          } else afterwards(socket, correlationId);
        }
      });
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return `127.0.0.1:${(server!.address() as AddressInfo).port}`;
  }

  it.each([
    { name: 'negative', size: -1 },
    { name: 'huge', size: 0x7fffffff },
  ])('a $name frame size fails the connection at once with a clear, non-retriable error', async ({ size }) => {
    const address = await brokerSending((socket) => {
      const head = Buffer.alloc(4);
      head.writeInt32BE(size, 0);
      socket.write(head);
    });
    const conn = await BrokerConnection.open(address, ['Fetch'], { clientId: 't', connectTimeoutMs: 3000 });
    const answer = conn.send('Fetch', Buffer.alloc(0), 60_000);
    await expect(answer).rejects.toMatchObject({ code: 'KAFKA_BAD_FRAME', retriable: false });
    await expect(answer).rejects.toThrow(`broker ${address} sent a response frame of ${size} bytes`);
    expect(conn.closed).toBe(true);
  });

  it('a frame cut off by the broker closing the connection fails the request as a retriable disconnect', async () => {
    const fetch = recordedFetches[0]!;
    const address = await brokerSending((socket, correlationId) => {
      const head = Buffer.alloc(8);
      head.writeInt32BE(4 + fetch.length, 0);
      head.writeInt32BE(correlationId, 4);
      socket.end(Buffer.concat([head, fetch.subarray(0, fetch.length >> 1)]));
    });
    const conn = await BrokerConnection.open(address, ['Fetch'], { clientId: 't', connectTimeoutMs: 3000 });
    await expect(conn.send('Fetch', Buffer.alloc(0), 60_000)).rejects.toMatchObject({ code: 'KAFKA_DISCONNECTED', retriable: true });
  });
});
