// Stage 1 over a split's bytes: newline-delimited records go to the compiled plan's byte scanner, records with explicit ends (Kafka values) one by one.
import { Buffer } from 'node:buffer';
import { byteKernel, hitFinder, isKernelTerm } from '../kernel/byte-kernel.js';
import type { CompiledQuery, ScanResult } from '../plan/compile-plan.js';

/**
 * Scans UTF-8 `bytes`: newline-delimited records, or records ending at `recordEnds` (exclusive
 * offsets; Kafka values, which sit end to end and may hold newlines of their own).
 */
export function scanRecordBytes(query: CompiledQuery, bytes: Uint8Array, recordEnds?: Uint32Array): ScanResult {
  if (recordEnds === undefined) return query.scanBytes(bytes);
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hits = recordsWithHits(query, bytes, recordEnds);
  const records = new Array<string>(recordEnds.length);
  let start = 0;
  for (let i = 0; i < recordEnds.length; i++) {
    const end = recordEnds[i]!;
    // A record the kernel found nothing in stands as '': the pre-check skips it just as it would
    // skip its text (no term, escape or non-ASCII byte), without decoding it; indices are kept.
    records[i] = hits === null || hits[i] === 1 ? buf.toString('utf8', start, end) : '';
    start = end;
  }
  return query.scan(records);
}

/**
 * Which records hold a term of the pre-check's first group, a backslash or a non-ASCII byte (1),
 * found by the SIMD byte kernel over all the values at once; null when the kernel cannot judge
 * (no pre-check, or terms that are not ASCII). A term found across two values marks the first:
 * an extra record to check, never a missed one.
 */
function recordsWithHits(query: CompiledQuery, bytes: Uint8Array, recordEnds: Uint32Array): Uint8Array | null {
  const terms = query.precheck[0];
  if (terms === undefined || !terms.every(isKernelTerm)) return null;
  const kernel = byteKernel();
  kernel.load(bytes);
  const n = recordEnds.length > 0 ? recordEnds[recordEnds.length - 1]! : 0;
  const hits = new Uint8Array(recordEnds.length);
  const hitAt = hitFinder(kernel, terms, 0, n);
  for (let pos = 0, i = 0; pos < n && i < recordEnds.length; ) {
    const hit = hitAt(pos);
    if (hit === Infinity) break;
    while (recordEnds[i]! <= hit) i++;
    hits[i] = 1;
    pos = recordEnds[i]!;
    i++;
  }
  return hits;
}
