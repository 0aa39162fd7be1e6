// The worker-thread side of a compressed Kafka split: decompress and decode its batches, then scan the values like any other bytes.
import { Buffer } from 'node:buffer';
import type { KafkaBatchesPayload } from '../engine/protocol.js';
import type { Scanner, ScanOutput } from '../query/scan.js';
import { QueryCodeError } from '../query/user-code.js';
import { decodeCompressedChunk } from './kafka-records.js';

/**
 * Scans a split of compressed record batches. Decompression runs here, on the worker, so the main
 * thread's fetch loop only copies compressed bytes. Rejected samples come back with their Kafka
 * offset as recordIndex, and so does a failing record of the query's code (the main thread never
 * saw these records; their origin says so).
 */
export async function scanKafkaBatches(scanner: Scanner, split: KafkaBatchesPayload): Promise<ScanOutput> {
  // Structured cloning delivers a plain Uint8Array; the decoder reads it through Buffer's methods.
  const bytes = Buffer.from(split.bytes.buffer, split.bytes.byteOffset, split.bytes.byteLength);
  const decoded = await decodeCompressedChunk(bytes, split.startOffset, split.endOffset, split.label, split.compressedBy);
  let out: ScanOutput;
  try {
    out = scanner.scanBytes(decoded.bytes, decoded.recordEnds);
  } catch (err) {
    // The query's own code failed on a record: name it by offset too.
    if (err instanceof QueryCodeError && err.recordIndex !== null) throw new QueryCodeError(err.queryFunction, decoded.offsets[err.recordIndex]!, err.thrown);
    throw err;
  }
  return { ...out, samples: out.samples.map((s) => ({ ...s, recordIndex: decoded.offsets[s.recordIndex]! })) };
}
