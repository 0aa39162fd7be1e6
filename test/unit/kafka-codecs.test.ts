// Kafka codecs on byte vectors the broker compressed itself (Java's gzip, xerial snappy, lz4 frames, zstd), decoded as the worker does.
import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { compress, decompress } from '../../src/source/kafka-codecs.js';
import { compressRecordBatch, crc32c, decodeCompressedChunk, decodeRecordSet, encodeRecordBatch, PartitionBuffer, type CompressedChunk } from '../../src/source/kafka-records.js';
import { KafkaSource } from '../../src/source/kafka.js';
import { splitRecords } from '../helpers/kafka-splits.js';
import { parseFetchResponse, replayingConnections, vectors } from '../helpers/kafka-vectors.js';

const CODECS = ['gzip', 'snappy', 'lz4', 'zstd'] as const;
/** The oracle: what the recorder produced, in order, at offsets 0-39 (a null value reads as an empty record). */
const produced = vectors.values.map((v, offset) => ({ offset, value: v ?? '' }));

/** The record set the broker answered for a codec's topic, from offset 0. */
function recordSet(codec: (typeof CODECS)[number]): Buffer {
  return parseFetchResponse(Buffer.from(vectors.codecs[codec].fetch.response, 'base64')).topics[0]!.partitions[0]!.records!;
}

/** The compressed chunks the main thread buffers for a record set (it decompresses nothing). */
function bufferedChunks(set: Buffer, cuts: readonly number[]): CompressedChunk[] {
  const buf = new PartitionBuffer(0, 1 << 20);
  decodeRecordSet(set, 0, set.length, buf, 't-0');
  return cuts.flatMap((cut) =>
    buf.take(cut).map((c) => {
      if (c.kind !== 'batches') throw new Error('the main thread decoded a compressed batch');
      return c;
    }),
  );
}

async function decodeAll(chunks: readonly CompressedChunk[], compressedBy = 'the test'): Promise<Array<{ offset: number; value: string }>> {
  const out: Array<{ offset: number; value: string }> = [];
  for (const c of chunks) {
    const d = await decodeCompressedChunk(c.bytes, c.startOffset, c.endOffset, 't-0', compressedBy);
    const bytes = Buffer.from(d.bytes.buffer, d.bytes.byteOffset, d.bytes.byteLength);
    d.recordEnds.forEach((e, k) => out.push({ offset: d.offsets[k]!, value: bytes.toString('utf8', k === 0 ? 0 : d.recordEnds[k - 1]!, e) }));
  }
  return out;
}

/** A record set's batches with their records section re-encoded by `recode` (codec id `codec`). */
async function recoded(set: Buffer, codec: number, recode: (plain: Buffer) => Buffer | Promise<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let at = 0; at + 61 <= set.length; ) {
    const end = at + 12 + set.readInt32BE(at + 8);
    const plain = await decompress(set.readInt16BE(at + 21) & 7, set.subarray(at + 61, end));
    const body = await recode(plain);
    const batch = Buffer.concat([set.subarray(at, at + 61), body]);
    batch.writeInt32BE(batch.length - 12, 8);
    batch.writeInt16BE((set.readInt16BE(at + 21) & ~7) | codec, 21);
    batch.writeUInt32BE(crc32c(batch, 21, batch.length), 17);
    parts.push(batch);
    at = end;
  }
  return Buffer.concat(parts);
}

describe(`Kafka codecs on batches ${vectors.recordedFrom} compressed (topic compression.type)`, () => {
  it.each(CODECS)('%s: the main thread buffers the batches as fetched; the worker decodes exactly the produced records', async (codec) => {
    const chunks = bufferedChunks(recordSet(codec), [40]);
    expect(chunks.length).toBe(1);
    expect(await decodeAll(chunks)).toEqual(produced);
  });

  it.each(CODECS)('%s: a cut inside a batch sends the same bytes to both batches, each decoding only its own offsets', async (codec) => {
    for (const cuts of [[1, 40], [13, 14, 39, 40], [20, 40]]) {
      const chunks = bufferedChunks(recordSet(codec), cuts);
      expect(chunks.map((c) => [c.startOffset, c.endOffset])).toEqual(cuts.map((cut, i) => [i === 0 ? 0 : cuts[i - 1]!, cut]));
      expect(await decodeAll(chunks)).toEqual(produced);
    }
  });

  it('snappy without the xerial framing (raw blocks, as some non-Java producers write) decodes the same', async () => {
    const snappy = (await import('snappy')) as unknown as { compressSync(b: Buffer): Buffer };
    const raw = await recoded(recordSet('snappy'), 2, (plain) => snappy.compressSync(plain));
    expect(raw.subarray(61, 69).equals(Buffer.from('\x82SNAPPY\0', 'latin1'))).toBe(false);
    expect(await decodeAll(bufferedChunks(raw, [40]))).toEqual(produced);
  });

  it.each(CODECS)("%s written by Kindling's producer decodes to what was encoded", async (codec) => {
    const values = vectors.values.map((v) => v ?? '');
    const batch = await compressRecordBatch(encodeRecordBatch(values, 1_732_531_200_000), codec);
    expect(batch.readInt16BE(21) & 7).toBe(CODECS.indexOf(codec) + 1);
    expect(crc32c(batch, 21, batch.length)).toBe(batch.readUInt32BE(17));
    expect(await decodeAll(bufferedChunks(batch, [40]))).toEqual(values.map((value, offset) => ({ offset, value })));
  });

  it.each(CODECS)('%s: an undecodable batch names the topic partition, offset, codec and who compressed it', async (codec) => {
    const bad = await recoded(recordSet(codec), CODECS.indexOf(codec) + 1, async (plain) => {
      // The compressed stream cut in half: every codec must notice (snappy and lz4 carry no checksum to catch flipped bits).
      const body = await compress(codec, plain);
      return body.subarray(0, body.length >> 1);
    });
    const chunks = bufferedChunks(bad, [40]);
    await expect(decodeAll(chunks, 'the broker, as the topic\'s compression.type=' + codec + ' says')).rejects.toThrow(
      new RegExp(`^t-0 offset 0: cannot decode a record batch compressed with ${codec} \\(compressed by the broker, as the topic's compression.type=${codec} says\\): `),
    );
  });

  it('a codec id Kafka does not define fails the same way, naming the id', async () => {
    const set = Buffer.from(recordSet('gzip'));
    set.writeInt16BE((set.readInt16BE(21) & ~7) | 5, 21);
    await expect(decodeAll(bufferedChunks(set, [40]))).rejects.toThrow(/^t-0 offset 0: cannot decode a record batch compressed with codec 5 .*unknown compression codec 5/);
  });

  it("the source names who compressed from the topic's compression.type (recorded DescribeConfigs: producer), and hands gzip batches to the workers", async () => {
    const { connect } = replayingConnections(vectors.mixed.exchanges);
    const source = new KafkaSource({
      brokers: ['127.0.0.1:19092'], topic: vectors.mixed.topic, groupId: 'replay', startingOffsets: 'earliest', maxOffsetsPerTrigger: null, availableNow: true,
      splitBytes: 1 << 20, log: () => undefined, connect, tuning: vectors.mixed.tuning,
    });
    const compressed = [];
    try {
      for (let r = await source.poll(); r.kind !== 'end'; r = await source.poll()) {
        if (r.kind === 'batch') for (const s of r.batch.splits) if (s.payload.kind === 'kafka-batches') compressed.push({ payload: s.payload, records: await splitRecords(s) });
      }
    } finally {
      await source.close();
    }
    expect(compressed.length).toBeGreaterThan(0);
    for (const c of compressed) expect(c.payload.compressedBy).toBe('the producer (the topic keeps what producers send: compression.type=producer)');
    // The gzip batches kafkajs sent (offsets 10-19, and part of the aborted transaction), as kafkajs reads them.
    const got = compressed.flatMap((c) => c.records);
    expect(got.slice(0, 10).map((r) => r.offset)).toEqual(Array.from({ length: 10 }, (_, i) => 10 + i));
    const oracle = new Map(vectors.mixed.kafkajs.map((r) => [r.offset, r.value ?? '']));
    for (const r of got) expect(r.value).toBe(oracle.get(r.offset));
  });
});

describe('the buffer budget of compressed chunks', () => {
  it("counts a chunk at its records' decoded size (256 bytes each, at least its own bytes), and returns to 0 once all is taken, cut inside or not", () => {
    const buf = new PartitionBuffer(0, 1 << 20);
    const bytes = Buffer.alloc(1000);
    buf.appendCompressed(bytes, 100, 100);
    expect(buf.bytes).toBe(100 * 256);
    buf.appendCompressed(Buffer.alloc(50_000), 110, 10);
    expect(buf.bytes).toBe(100 * 256 + 50_000);
    buf.take(30);
    expect(buf.bytes).toBe(70 * 256 + 50_000);
    buf.take(105);
    expect(buf.bytes).toBe(50_000);
    buf.take(110);
    expect(buf.bytes).toBe(0);
  });
});
