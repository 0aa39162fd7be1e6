// A file split as a byte range, read and cut into whole records by the thread that scans it (the main thread never reads the bytes).
import { Buffer } from 'node:buffer';
import { closeSync, openSync, readSync } from 'node:fs';

/**
 * Bytes [start, end) of a file of `size` bytes (its size when the run listed it). The split owns
 * the records that START in [start, end): a record starts at byte 0 or right after a newline. So
 * ranges cut anywhere, without looking at the bytes, still give every record to exactly one split,
 * and a position logged between batches may fall inside a record (the record belongs to the batch
 * before it).
 */
export interface FileRangePayload {
  readonly kind: 'file-range';
  readonly path: string;
  readonly start: number;
  readonly end: number;
  readonly size: number;
}

const NEWLINE = 10;
/** Read past `end` this much at first, to find the newline that ends the range's last record. */
const TAIL_BYTES = 64 * 1024;

function readFully(fd: number, into: Buffer, at: number, length: number, position: number): number {
  let filled = 0;
  while (filled < length) {
    const n = readSync(fd, into, at + filled, length - filled, position + filled);
    if (n === 0) break;
    filled += n;
  }
  return filled;
}

/**
 * Reads the records a range owns, newline-delimited (the last one's newline included when the file
 * has one), into a buffer from `allocate` (a fresh one by default; a larger one of its own when a record runs past the first read): [first record start, end of the record holding byte end - 1).
 * Empty when no record starts in the range (it lies inside one long record).
 */
export function readFileRange(range: FileRangePayload, allocate: (length: number) => Uint8Array = (length) => Buffer.allocUnsafeSlow(length)): Uint8Array {
  const { path, start, end, size } = range;
  const head = start > 0 ? start - 1 : 0;
  const fd = openSync(path, 'r');
  try {
    // `allocate` may hand out memory the scan reads in place (the byte kernel's): read straight into it.
    const space = allocate(Math.min(size, end + TAIL_BYTES) - head);
    let buf = Buffer.from(space.buffer, space.byteOffset, space.byteLength);
    let n = readFully(fd, buf, 0, buf.length, head);
    // The first record: at `start` if the byte before it ends a record, else after the next newline.
    let firstStart = 0;
    if (start > 0) {
      if (buf[0] === NEWLINE) firstStart = 1;
      else {
        const nl = buf.indexOf(NEWLINE, 1);
        if (nl === -1 || head + nl + 1 >= end) return new Uint8Array(0);
        firstStart = nl + 1;
      }
    }
    // The last record ends at the first newline at or after byte end - 1 (or at the end of the file).
    let from = end - 1 - head;
    for (;;) {
      const nl = buf.indexOf(NEWLINE, from);
      if (nl !== -1 && nl < n) return buf.subarray(firstStart, nl + 1);
      if (head + n >= size) return buf.subarray(firstStart, n);
      // One record longer than what was read: read on, doubling.
      const more = Buffer.allocUnsafeSlow(Math.min(size - head, 2 * buf.length));
      buf.copy(more, 0, 0, n);
      from = n;
      n += readFully(fd, more, n, more.length - n, head + n);
      buf = more;
    }
  } finally {
    closeSync(fd);
  }
}
