// The JavaScript LZ4-frame and snappy decoders against the native compressors (lz4-napi, snappy): any bytes round-trip, damaged ones are refused.
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decoded, lz4DecodeFrames, snappyDecodeBlock } from '../../src/source/kafka-block-codecs.js';

const require = createRequire(import.meta.url);
const lz4 = require('lz4-napi') as { compressFrameSync(b: Buffer): Buffer };
const snappy = require('snappy') as { compressSync(b: Buffer): Buffer };

/** Text with repeats at every distance (matches, overlapping copies) and incompressible stretches (literals). */
const inputs = fc
  .array(fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('{"user_id":"user_1001","severity":"High"}', 'crash '), fc.uint8Array({ maxLength: 300 }).map((u) => Buffer.from(u).toString('latin1'))), { maxLength: 400 })
  .chain((parts) => fc.integer({ min: 1, max: 40 }).map((times) => Buffer.from(parts.join('').repeat(times), 'latin1')));

describe('lz4 frames', () => {
  it('decodes what lz4-napi compresses, byte for byte', () => {
    fc.assert(
      fc.property(inputs, (input) => {
        expect(lz4DecodeFrames(lz4.compressFrameSync(input)).equals(input)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('decodes frames of several blocks (inputs over 64 KiB) and frames back to back', () => {
    const big = Buffer.from(Array.from({ length: 30_000 }, (_, i) => `{"n":${i},"v":"${(i * 7919) % 1000}"}`).join('\n'));
    expect(lz4DecodeFrames(lz4.compressFrameSync(big)).equals(big)).toBe(true);
    const two = Buffer.concat([lz4.compressFrameSync(Buffer.from('first ')), lz4.compressFrameSync(Buffer.from('second'))]);
    expect(lz4DecodeFrames(two).toString()).toBe('first second');
  });

  it('refuses a bad magic, a cut frame and a match pointing before the output', () => {
    const frame = lz4.compressFrameSync(Buffer.from('hello hello hello hello hello'));
    expect(() => lz4DecodeFrames(Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]))).toThrow(/not an lz4 frame/);
    expect(() => lz4DecodeFrames(frame.subarray(0, frame.length - 6))).toThrow(/lz4/);
    // A block of one sequence: 1 literal, then a match 9 bytes back.
    const bad = Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x82, 4, 0, 0, 0, 0x10, 0x41, 9, 0, 0, 0, 0, 0]);
    expect(() => lz4DecodeFrames(bad)).toThrow(/points before the output/);
  });
});

describe('snappy blocks', () => {
  it('decodes what snappy compresses, byte for byte, and appends blocks one after another', () => {
    fc.assert(
      fc.property(inputs, inputs, (a, b) => {
        const end = snappyDecodeBlock(snappy.compressSync(b), snappyDecodeBlock(snappy.compressSync(a)));
        expect(decoded(end).equals(Buffer.concat([a, b]))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('refuses a block shorter than its preamble says, and a copy before the block', () => {
    const block = snappy.compressSync(Buffer.from('abcabcabcabcabcabcabc'));
    expect(() => snappyDecodeBlock(block.subarray(0, block.length - 1))).toThrow(/snappy/);
    // Preamble 8, then a 1-byte-offset copy of 4 bytes 5 back at the very start.
    expect(() => snappyDecodeBlock(Buffer.from([8, 0x01, 5]))).toThrow(/outside the block/);
  });
});
