// The worker-thread side of a compressed Kafka split: decompress and decode its batches, then scan the values like any other bytes.
import { Buffer } from 'node:buffer';
import type { KafkaBatchesPayload } from '../engine/protocol.js';
import { byteKernel } from '../kernel/byte-kernel.js';
import type { ScanResult } from '../plan/compile-plan.js';
import { QueryRuntimeError } from '../plan/types.js';
import { decodeCompressedChunk } from './kafka-records.js';

/**
 * Scans a split of compressed record batches. Decompression runs here, on the worker, so the main
 * thread's fetch loop only copies compressed bytes. Corrupt samples come back with their Kafka
 * offset as recordIndex, and so does a record ANSI mode failed the query on (the main thread never
 * saw these records; their origin says so).
 */
export async function scanKafkaBatches(scan: (bytes: Uint8Array, recordEnds: Uint32Array) => ScanResult, split: KafkaBatchesPayload): Promise<ScanResult> {
  // Structured cloning delivers a plain Uint8Array; the decoder reads it through Buffer's methods.
  const bytes = Buffer.from(split.bytes.buffer, split.bytes.byteOffset, split.bytes.byteLength);
  // Values are decoded straight into the byte kernel's memory, which the scan reads in place: one copy of the split, reused split after split.
  const decoded = await decodeCompressedChunk(bytes, split.startOffset, split.endOffset, split.label, split.compressedBy, (length) => byteKernel().reserve(length));
  let out: ScanResult;
  try {
    out = scan(decoded.bytes, decoded.recordEnds);
  } catch (err) {
    if (err instanceof QueryRuntimeError && err.recordIndex !== null) err.recordIndex = decoded.offsets[err.recordIndex]!;
    throw err;
  }
  const samples = out.corruptSamples.map((s) => ({ ...s, recordIndex: decoded.offsets[s.recordIndex]! }));
  out.corruptSamples.splice(0, samples.length, ...samples);
  return out;
}
