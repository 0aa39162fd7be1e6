// The floor: the fastest one-thread byte scan this process can do over the bench's files (read, count lines, find the term).
import { Buffer } from 'node:buffer';
import { closeSync, fstatSync, openSync, readdirSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ByteKernel } from '../src/kernel/byte-kernel.js';

/** Bytes per read: large enough that the syscalls are noise, small enough to stay in cache-friendly sizes. */
const CHUNK_BYTES = 4 << 20;

/** One way of scanning the files, and what it found. */
export interface FloorVariant {
  readonly name: string;
  /** Fastest of the repeats (the page cache is warm after the first). */
  readonly elapsedMs: number;
  readonly lines: number;
  readonly termHits: number;
  readonly bytes: number;
  readonly eventsPerSecond: number;
  readonly gigabytesPerSecond: number;
}

/** The floor: every variant measured, and the fastest, whose events/s is the floor rate of one thread. */
export interface FloorResult {
  readonly term: string;
  readonly variants: FloorVariant[];
  readonly best: FloorVariant;
}

type Scan = (fd: number, size: number, counts: { lines: number; termHits: number }) => void;

/** Reads each chunk into the WebAssembly kernel's own memory (no copy) and scans it there with SIMD; the term in any ASCII case. */
function wasmScan(term: string): Scan {
  const kernel = new ByteKernel();
  return (fd, size, counts) => {
    // The last term.length - 1 bytes of a chunk are read again with the next one, so no hit is cut in two.
    const overlap = term.length - 1;
    for (let pos = 0; pos < size; ) {
      const view = kernel.reserve(Math.min(CHUNK_BYTES, size - pos));
      const n = readFully(fd, view, pos);
      const fresh = pos === 0 ? 0 : overlap;
      counts.lines += kernel.countNewlines(fresh, n);
      for (let at = kernel.indexOfTerm(term, 0, n); at !== -1; at = kernel.indexOfTerm(term, at + term.length, n)) counts.termHits++;
      if (pos + n >= size) break;
      pos += n - overlap;
    }
  };
}

/** memchr/memmem through Buffer.indexOf: lines, and the term as written (case-sensitive, as the C loop with memmem). */
function indexOfScan(term: string): Scan {
  const buf = Buffer.allocUnsafeSlow(CHUNK_BYTES);
  const needle = Buffer.from(term, 'latin1');
  return (fd, size, counts) => {
    const overlap = term.length - 1;
    for (let pos = 0; pos < size; ) {
      const n = readFully(fd, buf.subarray(0, Math.min(CHUNK_BYTES, size - pos)), pos);
      const view = buf.subarray(0, n);
      for (let s = view.indexOf(10, pos === 0 ? 0 : overlap); s !== -1; s = view.indexOf(10, s + 1)) counts.lines++;
      for (let at = view.indexOf(needle, 0); at !== -1; at = view.indexOf(needle, at + needle.length)) counts.termHits++;
      if (pos + n >= size) break;
      pos += n - overlap;
    }
  };
}

function readFully(fd: number, into: Uint8Array, position: number): number {
  let filled = 0;
  while (filled < into.length) {
    const n = readSync(fd, into, filled, into.length - filled, position + filled);
    if (n === 0) break;
    filled += n;
  }
  return filled;
}

/**
 * Measures the floor over the NDJSON files in `dir`: each variant reads every file in 4 MiB
 * chunks and counts newlines and occurrences of `term`, `repeats` times; its fastest pass counts.
 * Events/s are lines / time, comparable with the engine's events/s over the same files.
 */
export function measureFloor(dir: string, term: string, repeats = 3): FloorResult {
  const files = readdirSync(dir)
    .filter((n) => !n.startsWith('.'))
    .sort()
    .map((n) => join(dir, n));
  const variants: FloorVariant[] = [];
  for (const [name, scan] of [
    ['WebAssembly SIMD kernel (term in any case)', wasmScan(term)],
    ['Buffer.indexOf loops (term as written)', indexOfScan(term)],
  ] as Array<[string, Scan]>) {
    let best: FloorVariant | null = null;
    for (let r = 0; r < repeats; r++) {
      const counts = { lines: 0, termHits: 0 };
      let bytes = 0;
      const started = performance.now();
      for (const file of files) {
        const fd = openSync(file, 'r');
        try {
          const size = fstatSync(fd).size;
          scan(fd, size, counts);
          bytes += size;
        } finally {
          closeSync(fd);
        }
      }
      const elapsedMs = performance.now() - started;
      if (best === null || elapsedMs < best.elapsedMs) {
        best = { name, elapsedMs, ...counts, bytes, eventsPerSecond: (counts.lines * 1000) / elapsedMs, gigabytesPerSecond: bytes / elapsedMs / 1e6 };
      }
    }
    variants.push(best!);
  }
  const best = variants.reduce((a, b) => (b.eventsPerSecond > a.eventsPerSecond ? b : a));
  return { term, variants, best };
}
