// Stage 1 over a split's bytes: newline-delimited records go to the compiled plan's byte scanner, records with explicit ends (Kafka values) one by one.
import { Buffer } from 'node:buffer';
import type { CompiledQuery, ScanResult } from '../plan/compile-plan.js';

/**
 * Scans UTF-8 `bytes`: newline-delimited records, or records ending at `recordEnds` (exclusive
 * offsets; Kafka values, which sit end to end and may hold newlines of their own).
 */
export function scanRecordBytes(query: CompiledQuery, bytes: Uint8Array, recordEnds?: Uint32Array): ScanResult {
  if (recordEnds === undefined) return query.scanBytes(bytes);
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records = new Array<string>(recordEnds.length);
  let start = 0;
  for (let i = 0; i < recordEnds.length; i++) {
    const end = recordEnds[i]!;
    records[i] = buf.toString('utf8', start, end);
    start = end;
  }
  return query.scan(records);
}
