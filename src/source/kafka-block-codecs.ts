// LZ4 frames and raw snappy blocks decoded in JavaScript into one reusable buffer per thread: the native bindings' output buffers were never given back while a worker ran.
//
// Measured on a worker thread: 1,000 decompressions of a 650 KB batch with lz4-napi or snappy grew
// the RSS by 1.1 GB (their napi buffers are not released as they are dropped), against 86 MB with
// @mongodb-js/zstd; a compressed drain of 2M events peaked at 670 MB. Decoding here allocates
// nothing per batch. The native packages still compress (kindling produce).
import { Buffer } from 'node:buffer';

/** The thread's output buffer; a decoded batch is a view of it, valid until the next decode. */
let scratch = Buffer.allocUnsafeSlow(1 << 20);

/** The scratch buffer with room for `need` bytes, keeping the first `keep` bytes. */
function room(need: number, keep: number): Buffer {
  if (scratch.length >= need) return scratch;
  const next = Buffer.allocUnsafeSlow(Math.max(need, scratch.length * 2));
  scratch.copy(next, 0, 0, keep);
  scratch = next;
  return next;
}

const LZ4_MAGIC = 0x184d2204;
/** Block maximum sizes by the frame descriptor's BD bits 4-6 (values 4-7). */
const LZ4_BLOCK_MAX = [0, 0, 0, 0, 64 << 10, 256 << 10, 1 << 20, 4 << 20];

/**
 * Decodes one or more LZ4 frames (the format Kafka's lz4 codec uses): header, blocks (compressed or
 * stored; dependent ones may refer back into earlier output), end mark, optional checksums (skipped:
 * the record batch's CRC already covers these bytes).
 */
export function lz4DecodeFrames(src: Uint8Array): Buffer {
  let ip = 0;
  let op = 0;
  while (ip < src.length) {
    if (ip + 7 > src.length) throw new Error(`lz4 frame header cut at byte ${ip} of ${src.length}`);
    const magic = (src[ip]! | (src[ip + 1]! << 8) | (src[ip + 2]! << 16) | (src[ip + 3]! << 24)) >>> 0;
    if (magic !== LZ4_MAGIC) throw new Error(`not an lz4 frame at byte ${ip} (magic 0x${magic.toString(16)})`);
    const flg = src[ip + 4]!;
    const bd = src[ip + 5]!;
    if (flg >> 6 !== 1) throw new Error(`lz4 frame version ${flg >> 6} (only 1 exists)`);
    const blockChecksum = (flg & 0x10) !== 0;
    const contentChecksum = (flg & 0x04) !== 0;
    const blockMax = LZ4_BLOCK_MAX[(bd >> 4) & 7]!;
    if (blockMax === 0) throw new Error(`lz4 frame block size code ${(bd >> 4) & 7}`);
    ip += 6 + ((flg & 0x08) !== 0 ? 8 : 0) + ((flg & 0x01) !== 0 ? 4 : 0) + 1; // descriptor, content size, dictionary id, header checksum
    for (;;) {
      if (ip + 4 > src.length) throw new Error('lz4 frame ends without its end mark');
      const word = (src[ip]! | (src[ip + 1]! << 8) | (src[ip + 2]! << 16) | (src[ip + 3]! << 24)) >>> 0;
      ip += 4;
      if (word === 0) break;
      const size = word & 0x7fffffff;
      if (size > blockMax || ip + size > src.length) throw new Error(`lz4 block of ${size} bytes at byte ${ip - 4} runs past the frame (or its ${blockMax}-byte maximum)`);
      const out = room(op + blockMax, op);
      if ((word & 0x80000000) !== 0) {
        out.set(src.subarray(ip, ip + size), op);
        op += size;
      } else {
        op = lz4DecodeBlock(src, ip, ip + size, out, op, op + blockMax);
      }
      ip += size + (blockChecksum ? 4 : 0);
    }
    if (contentChecksum) ip += 4;
  }
  return scratch.subarray(0, op);
}

/** The length extendLength read (a second return value, without an allocation per sequence). */
let extended = 0;

/** Adds an LZ4 length's extension bytes (each 255 means another follows) to `length`, leaving it in `extended`; returns the position after them. */
function extendLength(src: Uint8Array, ip: number, end: number, length: number, what: string): number {
  let b: number;
  do {
    if (ip >= end) throw new Error(`lz4 ${what} length runs past the block`);
    b = src[ip++]!;
    length += b;
  } while (b === 255);
  extended = length;
  return ip;
}

/** One LZ4 block of src[ip, end) into out from `op` (at most up to `limit`); returns the new end of the output. */
function lz4DecodeBlock(src: Uint8Array, ip: number, end: number, out: Buffer, op: number, limit: number): number {
  while (ip < end) {
    const token = src[ip++]!;
    let literals = token >>> 4;
    if (literals === 15) {
      ip = extendLength(src, ip, end, literals, 'literal');
      literals = extended;
    }
    if (ip + literals > end || op + literals > limit) throw new Error('lz4 literals run past the block');
    if (literals > 16) out.set(src.subarray(ip, ip + literals), op);
    else for (let i = 0; i < literals; i++) out[op + i] = src[ip + i]!;
    ip += literals;
    op += literals;
    if (ip >= end) break; // the last sequence has literals only
    if (ip + 2 > end) throw new Error('lz4 match offset cut at the block end');
    const offset = src[ip]! | (src[ip + 1]! << 8);
    ip += 2;
    let length = (token & 15) + 4;
    if ((token & 15) === 15) {
      ip = extendLength(src, ip, end, length, 'match');
      length = extended;
    }
    const from = op - offset;
    if (offset === 0 || from < 0) throw new Error(`lz4 match offset ${offset} points before the output`);
    if (op + length > limit) throw new Error('lz4 match runs past the block maximum');
    if (offset >= length) out.copyWithin(op, from, from + length);
    else for (let i = 0; i < length; i++) out[op + i] = out[from + i]!;
    op += length;
  }
  return op;
}

/**
 * Decodes raw snappy blocks appended to the output from `op` (0 to start a batch); returns the new
 * end. Each block starts with its uncompressed length (varint), then literals and copies.
 */
export function snappyDecodeBlock(src: Uint8Array, op = 0): number {
  let ip = 0;
  let length = 0;
  for (let shift = 0; ; shift += 7) {
    if (ip >= src.length || shift > 28) throw new Error('snappy length preamble is cut or too long');
    const b = src[ip++]!;
    length += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) break;
  }
  const start = op;
  const end = op + length;
  const out = room(end, op);
  while (ip < src.length) {
    const tag = src[ip++]!;
    const kind = tag & 3;
    if (kind === 0) {
      let n = tag >>> 2;
      if (n >= 60) {
        const bytes = n - 59;
        if (ip + bytes > src.length) throw new Error('snappy literal length cut');
        n = 0;
        for (let i = 0; i < bytes; i++) n += src[ip + i]! * 2 ** (8 * i);
        ip += bytes;
      }
      n += 1;
      if (ip + n > src.length || op + n > end) throw new Error('snappy literal runs past the block');
      if (n > 16) out.set(src.subarray(ip, ip + n), op);
      else for (let i = 0; i < n; i++) out[op + i] = src[ip + i]!;
      ip += n;
      op += n;
      continue;
    }
    let n: number;
    let offset: number;
    if (kind === 1) {
      if (ip >= src.length) throw new Error('snappy copy cut');
      n = ((tag >>> 2) & 7) + 4;
      offset = ((tag >>> 5) << 8) | src[ip++]!;
    } else if (kind === 2) {
      if (ip + 2 > src.length) throw new Error('snappy copy cut');
      n = (tag >>> 2) + 1;
      offset = src[ip]! | (src[ip + 1]! << 8);
      ip += 2;
    } else {
      if (ip + 4 > src.length) throw new Error('snappy copy cut');
      n = (tag >>> 2) + 1;
      offset = (src[ip]! | (src[ip + 1]! << 8) | (src[ip + 2]! << 16) | (src[ip + 3]! << 24)) >>> 0;
      ip += 4;
    }
    const from = op - offset;
    if (offset === 0 || from < start || op + n > end) throw new Error(`snappy copy (offset ${offset}, ${n} bytes) outside the block`);
    if (offset >= n) out.copyWithin(op, from, from + n);
    else for (let i = 0; i < n; i++) out[op + i] = out[from + i]!;
    op += n;
  }
  if (op !== end) throw new Error(`snappy block decoded to ${op - start} bytes, its preamble says ${length}`);
  return op;
}

/** The scratch buffer's first `n` bytes (what the decoders above wrote). */
export function decoded(n: number): Buffer {
  return scratch.subarray(0, n);
}
