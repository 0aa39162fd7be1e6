// The Kafka record path without kafkajs: record batches encoded and decoded, buffers cut exactly at offsets, and what kafkajs writes read back.
import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { CompressionTypes } from 'kafkajs';
import { crc32c, decodeRecordSet, encodeRecordBatch, PartitionBuffer, type BufferedChunk, type RecordChunk } from '../../src/source/kafka-records.js';
import { KafkaSource } from '../../src/source/kafka.js';
import type { Split } from '../../src/source/source.js';
import { createTopic, describeKafka, kafkaClient, uniqueName } from '../helpers/kafka.js';
import { splitRecords } from '../helpers/kafka-splits.js';

/** A record set as a Fetch returns it: batches of `sizes` values, offsets from `first`. */
function recordSet(values: readonly string[], sizes: readonly number[], first = 0): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (const size of sizes) {
    const batch = encodeRecordBatch(values.slice(at, at + size), 1_732_531_200_000);
    batch.writeBigInt64BE(BigInt(first + at), 0);
    parts.push(batch);
    at += size;
  }
  return Buffer.concat(parts);
}

/** Chunks of decoded values (these tests write uncompressed batches only). */
function plain(chunks: readonly BufferedChunk[]): RecordChunk[] {
  return chunks.map((c) => {
    if (c.kind === 'batches') throw new Error('a compressed chunk from uncompressed batches');
    return c;
  });
}

/** The values and offsets in chunks. */
function unpack(chunks: readonly BufferedChunk[]): Array<[number, string]> {
  const out: Array<[number, string]> = [];
  for (const c of plain(chunks)) {
    let s = 0;
    c.recordEnds.forEach((e, k) => {
      out.push([c.offsets[k]!, c.bytes.toString('utf8', s, e)]);
      s = e;
    });
  }
  return out;
}

const VALUES = Array.from({ length: 50 }, (_, i) => (i === 7 ? '' : i === 9 ? 'two\nlines' : `{"i":${i},"pad":"${'x'.repeat(i * 3)}","é":"ü"}`));

describe('Kafka record batches', () => {
  it('computes CRC-32C as Kafka does (check value of "123456789")', () => {
    expect(crc32c(Buffer.from('123456789')).toString(16)).toBe('e3069283');
  });

  it('decodes what it encodes: every value, offsets from the batch base, newlines and UTF-8 inside values kept', () => {
    const set = recordSet(VALUES, [20, 1, 29], 100);
    const buf = new PartitionBuffer(100, 1 << 20);
    expect(decodeRecordSet(set, 0, set.length, buf, 't-0')).toEqual({ batches: 3, records: 50, compressed: false });
    expect(buf.endOffset).toBe(150);
    expect(unpack(buf.take(150))).toEqual(VALUES.map((v, i) => [100 + i, v]));
  });

  it('leaves a partial batch at the end of a fetch for the next one', () => {
    const set = recordSet(VALUES, [25, 25]);
    const buf = new PartitionBuffer(0, 1 << 20);
    expect(decodeRecordSet(set, 0, set.length - 10, buf, 't-0')).toEqual({ batches: 1, records: 25, compressed: false });
    expect(buf.endOffset).toBe(25);
  });

  it('skips records below the fetch offset when a fetch starts inside a batch (after a seek)', () => {
    const set = recordSet(VALUES, [50]);
    const buf = new PartitionBuffer(17, 1 << 20);
    decodeRecordSet(set, 0, set.length, buf, 't-0');
    expect(unpack(buf.take(50)).map(([o]) => o)).toEqual(Array.from({ length: 33 }, (_, i) => 17 + i));
  });

  it.each([
    { name: 'one big chunk', chunkBytes: 1 << 20 },
    { name: 'chunks of a few records', chunkBytes: 300 },
  ])('cuts exactly at any offset and every chunk owns its ArrayBuffer ($name)', ({ chunkBytes }) => {
    const set = recordSet(VALUES, [10, 15, 25]);
    for (const cuts of [[0, 50], [1, 49, 50], [7, 8, 9, 10, 30, 50], [25, 26, 50]]) {
      const buf = new PartitionBuffer(0, chunkBytes);
      decodeRecordSet(set, 0, set.length, buf, 't-0');
      const seen: Array<[number, string]> = [];
      const buffers = new Set<ArrayBufferLike>();
      let from = 0;
      for (const cut of cuts) {
        const chunks = plain(buf.take(cut));
        const got = unpack(chunks);
        expect(got.map(([o]) => o)).toEqual(Array.from({ length: cut - from }, (_, i) => from + i));
        for (const c of chunks) {
          // Transferring bytes.buffer must not take anything still buffered or already handed out.
          expect(buffers.has(c.bytes.buffer)).toBe(false);
          buffers.add(c.bytes.buffer);
          expect(c.recordEnds.length).toBe(c.offsets.length);
        }
        seen.push(...got);
        from = cut;
      }
      expect(seen).toEqual(VALUES.map((v, i) => [i, v]));
      expect(buf.bytes).toBe(0);
      expect(buf.records).toBe(0);
    }
  });
});

describeKafka('Kafka record batches from kafkajs (real broker)', (brokers) => {
  it('reads what kafkajs produces: keys ignored, headers skipped, gzip batches, null values as empty records, in offset order per topic partition', async () => {
    const topic = uniqueName('records');
    await createTopic(brokers, topic, { partitions: 2 });
    const producer = kafkaClient(brokers).producer();
    await producer.connect();
    const messages = Array.from({ length: 600 }, (_, i) => ({
      partition: i % 2,
      key: i % 3 === 0 ? null : `key-${i}`,
      value: i === 11 ? null : i === 13 ? 'with\na newline' : JSON.stringify({ i }),
      headers: i % 5 === 0 ? { trace: `t${i}`, other: 'x' } : undefined,
    }));
    await producer.send({ topic, messages: messages.slice(0, 300) });
    await producer.send({ topic, messages: messages.slice(300), compression: CompressionTypes.GZIP });
    await producer.disconnect();

    const logs: string[] = [];
    const source = new KafkaSource({ brokers: [brokers], topic, groupId: uniqueName('g'), startingOffsets: 'earliest', maxOffsetsPerTrigger: null, availableNow: true, splitBytes: 4096, log: (l) => logs.push(l) });
    const seen = new Map<number, string[]>([[0, []], [1, []]]);
    try {
      for (;;) {
        const r = await source.poll();
        if (r.kind === 'end') break;
        if (r.kind !== 'batch') continue;
        for (const split of r.batch.splits as Split[]) {
          const partition = Number(split.origin.label.slice(topic.length + 1));
          for (const { offset, value } of await splitRecords(split)) {
            expect(offset).toBe(seen.get(partition)!.length);
            seen.get(partition)!.push(value);
          }
        }
      }
    } finally {
      await source.close();
    }
    for (const partition of [0, 1]) {
      expect(seen.get(partition)).toEqual(messages.filter((m) => m.partition === partition).map((m) => m.value ?? ''));
    }
    expect(logs.join('\n')).toContain('(--starting-offsets earliest)');
  });
});
