// Reads the records out of the Kafka source's splits, as a worker would: decoded values as they are, compressed batches through the worker's decoder.
import { Buffer } from 'node:buffer';
import { decodeCompressedChunk } from '../../src/source/kafka-records.js';
import type { Split } from '../../src/source/source.js';

/** Offset and value of every record in a split, in order. */
export async function splitRecords(split: Split): Promise<Array<{ offset: number; value: string }>> {
  const p = split.payload;
  if (p.kind === 'kafka-batches') {
    const d = await decodeCompressedChunk(Buffer.from(p.bytes.buffer, p.bytes.byteOffset, p.bytes.byteLength), p.startOffset, p.endOffset, p.label, p.compressedBy);
    return unpack(Buffer.from(d.bytes.buffer, d.bytes.byteOffset, d.bytes.byteLength), d.recordEnds, (k) => d.offsets[k]!);
  }
  if (p.kind !== 'bytes' || !p.recordEnds) throw new Error(`a Kafka split of kind ${p.kind} without record ends`);
  const offsets = split.origin.recordOffsets!;
  return unpack(Buffer.from(p.bytes.buffer, p.bytes.byteOffset, p.bytes.byteLength), p.recordEnds, (k) => offsets[k]!);
}

function unpack(bytes: Buffer, recordEnds: Uint32Array, offsetOf: (k: number) => number): Array<{ offset: number; value: string }> {
  const out: Array<{ offset: number; value: string }> = [];
  let s = 0;
  recordEnds.forEach((e, k) => {
    out.push({ offset: offsetOf(k), value: bytes.toString('utf8', s, e) });
    s = e;
  });
  return out;
}
