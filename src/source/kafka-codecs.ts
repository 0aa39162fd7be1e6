// Kafka's record batch codecs: gzip, snappy (raw and xerial-framed), lz4 (frame format) and zstd, both ways.
//
// Packages (docs/kafka.md says why each): node:zlib for gzip, `snappy` and `lz4-napi` (napi-rs
// bindings whose prebuilt binaries come inside per-platform npm packages: nothing is downloaded
// at install) to compress, `@mongodb-js/zstd` 1.x both ways (the same build style; 2.x and later
// fetch binaries at install). snappy and lz4 are decoded in kafka-block-codecs.ts.
import { Buffer } from 'node:buffer';
import { createRequire } from 'node:module';
import { gunzipSync, gzipSync } from 'node:zlib';
import { decoded, lz4DecodeFrames, snappyDecodeBlock } from './kafka-block-codecs.js';

/** Codec ids of a record batch's attributes (bits 0-2). */
export const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
export type CodecName = (typeof CODECS)[number];

/** A codec id's name, or `codec N` for an id Kafka does not define. */
export function codecName(id: number): string {
  return CODECS[id] ?? `codec ${id}`;
}

interface Snappy {
  compressSync(input: Uint8Array): Buffer;
}
interface Lz4 {
  compressFrameSync(input: Buffer): Buffer;
}
interface Zstd {
  compress(input: Buffer, level?: number): Promise<Buffer>;
  decompress(input: Buffer): Promise<Buffer>;
}

// Loaded on first use: a run that never meets a snappy, lz4 or zstd batch never loads a native binding.
const require = createRequire(import.meta.url);
let snappy: Snappy | null = null;
let lz4: Lz4 | null = null;
let zstd: Zstd | null = null;
const snappyLib = (): Snappy => (snappy ??= require('snappy') as Snappy);
const lz4Lib = (): Lz4 => (lz4 ??= require('lz4-napi') as Lz4);
const zstdLib = (): Zstd => (zstd ??= require('@mongodb-js/zstd') as Zstd);

/** The xerial snappy-java stream header Java producers (and brokers recompressing) write: magic, version 1, compatible version 1. */
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_BYTES = 16;
/** snappy-java's default block size. */
const XERIAL_BLOCK_BYTES = 32 * 1024;

function isXerial(data: Uint8Array): boolean {
  if (data.length < XERIAL_HEADER_BYTES) return false;
  for (let i = 0; i < XERIAL_MAGIC.length; i++) if (data[i] !== XERIAL_MAGIC[i]) return false;
  return true;
}

/** Raw snappy, or xerial framing: the header, then blocks of [int32 compressed length][raw snappy block]; decoded in JavaScript (kafka-block-codecs.ts says why). */
function snappyDecompress(data: Buffer): Buffer {
  if (!isXerial(data)) return decoded(snappyDecodeBlock(data));
  let op = 0;
  let at = XERIAL_HEADER_BYTES;
  while (at < data.length) {
    if (at + 4 > data.length) throw new Error(`xerial snappy block header cut at byte ${at} of ${data.length}`);
    const size = data.readInt32BE(at);
    at += 4;
    if (size < 0 || at + size > data.length) throw new Error(`xerial snappy block of ${size} bytes at byte ${at - 4} runs past the ${data.length}-byte payload`);
    op = snappyDecodeBlock(data.subarray(at, at + size), op);
    at += size;
  }
  return decoded(op);
}

function snappyCompress(data: Buffer): Buffer {
  const lib = snappyLib();
  const parts: Buffer[] = [XERIAL_MAGIC, Buffer.from([0, 0, 0, 1, 0, 0, 0, 1])];
  for (let at = 0; at < data.length; at += XERIAL_BLOCK_BYTES) {
    const block = lib.compressSync(data.subarray(at, Math.min(data.length, at + XERIAL_BLOCK_BYTES)));
    const size = Buffer.allocUnsafe(4);
    size.writeInt32BE(block.length, 0);
    parts.push(size, block);
  }
  return Buffer.concat(parts);
}

/**
 * The records section of a batch compressed with codec `id`, decompressed. snappy and lz4 come back
 * as a view of this thread's decode buffer, valid until the next decompress: use the bytes first.
 * zstd is asynchronous (its binding works off the calling thread), so this returns a promise;
 * callers are worker tasks.
 * @throws Error for an unknown codec or bytes the codec cannot decode (the caller adds where).
 */
export async function decompress(id: number, data: Buffer): Promise<Buffer> {
  switch (id) {
    case 0:
      return data;
    case 1:
      return gunzipSync(data);
    case 2:
      return snappyDecompress(data);
    case 3:
      return lz4DecodeFrames(data);
    case 4:
      return zstdLib().decompress(data);
    default:
      throw new Error(`unknown compression codec ${id} (Kafka defines 0-4)`);
  }
}

/** Compresses a batch's records section as Java producers do (snappy: xerial framing; lz4: the frame format). */
export async function compress(codec: CodecName, data: Buffer): Promise<Buffer> {
  switch (codec) {
    case 'none':
      return data;
    case 'gzip':
      return gzipSync(data);
    case 'snappy':
      return snappyCompress(data);
    case 'lz4':
      return lz4Lib().compressFrameSync(data);
    case 'zstd':
      return zstdLib().compress(data, 3);
  }
}
