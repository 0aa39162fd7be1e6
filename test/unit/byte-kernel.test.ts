// The WebAssembly SIMD byte kernel agrees with plain JS (a byte loop, a case-insensitive regex over latin1) on any bytes.
import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteKernel, countNewlines, isKernelTerm, termOffsets } from '../../src/kernel/byte-kernel.js';

/** The oracle: every start of `term` in the bytes viewed as latin1, by a case-insensitive regex (overlaps too). */
function regexOffsets(bytes: Uint8Array, term: string): number[] {
  const text = Buffer.from(bytes).toString('latin1');
  const re = new RegExp(term.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi');
  const out: number[] = [];
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    out.push(m.index);
    re.lastIndex = m.index + 1;
  }
  return out;
}

/** Bytes rich in the term's letters in both cases, newlines, and the bytes that `| 0x20` confuses. */
const bytesArb = fc.array(fc.constantFrom(0x0a, 0x63, 0x43, 0x72, 0x52, 0x61, 0x41, 0x73, 0x53, 0x68, 0x48, 0x20, 0x00, 0x5f, 0x7f, 0x40, 0x60, 0xe3, 0xc3), { maxLength: 300 }).map((a) => Uint8Array.from(a));
const termArb = fc.constantFrom('crash', 'c', 'ch', 'CRASH', 'ash', 'a_c', 'a c', 'hhhhhhhhhhhhhhhhhhhh', 'rash\n');

describe('byte kernel', () => {
  it('counts newlines as a byte loop does, at every length and alignment', () => {
    fc.assert(
      fc.property(bytesArb, fc.nat(20), (bytes, skip) => {
        const from = Math.min(skip, bytes.length);
        const k = new ByteKernel();
        k.load(bytes);
        expect(k.countNewlines(from, bytes.length)).toBe(bytes.subarray(from).filter((b) => b === 0x0a).length);
        expect(countNewlines(bytes)).toBe(bytes.filter((b) => b === 0x0a).length);
      }),
      { numRuns: 500 },
    );
  });

  it('finds a term where a case-insensitive regex over latin1 does, and nowhere else', () => {
    fc.assert(
      fc.property(bytesArb, termArb, (bytes, term) => {
        expect(termOffsets(bytes, term)).toEqual(regexOffsets(bytes, term));
      }),
      { numRuns: 1000 },
    );
  });

  it('respects the range it is given, and a term at the very end', () => {
    const k = new ByteKernel();
    const text = 'x'.repeat(70) + 'Crash';
    k.load(Buffer.from(text, 'latin1'));
    expect(k.indexOfTerm('crash')).toBe(70);
    expect(k.indexOfTerm('crash', 0, 74)).toBe(-1);
    expect(k.indexOfTerm('crash', 71)).toBe(-1);
    expect(() => k.indexOfTerm('crash', 0, 76)).toThrow(/outside/);
  });

  it('grows its memory for large inputs, and refuses terms it cannot search', () => {
    const big = Buffer.alloc(3 << 20, 0x61);
    big[big.length - 1] = 0x0a;
    expect(countNewlines(big)).toBe(1);
    expect(isKernelTerm('crash')).toBe(true);
    expect(isKernelTerm('')).toBe(false);
    expect(isKernelTerm('cräsh')).toBe(false);
    expect(() => new ByteKernel().indexOfTerm('cräsh')).toThrow(/ASCII/);
  });
});

/** The oracle for indexOfSpecial: a byte loop over the view (neighbours read from the view; outside it they count as odd). */
function specialOracle(bytes: Uint8Array, flags: number, from: number, to: number): number {
  for (let q = from; q < to; q++) {
    const b = bytes[q]!;
    if (flags & 1 && b === 0x5c) return q;
    if (flags & 2 && b >= 0x80) return q;
    if (flags & 4 && b === 0x0a && (bytes[q - 1] !== 0x7d || bytes[q + 1] !== 0x7b)) return q;
  }
  return -1;
}

describe('byte kernel: special bytes', () => {
  it('finds backslashes, non-ASCII bytes and odd newlines where a byte loop does (away from the range edges)', () => {
    const arb = fc.array(fc.constantFrom(0x7b, 0x7d, 0x0a, 0x5c, 0x80, 0xff, 0x61, 0x22, 0x0d), { minLength: 2, maxLength: 300 }).map((a) => Uint8Array.from(a));
    fc.assert(
      fc.property(arb, fc.integer({ min: 1, max: 7 }), fc.nat(40), (bytes, flags, skip) => {
        const k = new ByteKernel();
        const view = k.load(bytes);
        // The range [from, to) leaves one real byte on each side, so the odd-newline check reads real neighbours.
        const from = Math.min(1 + skip, bytes.length - 1);
        const to = bytes.length - 1;
        const got = k.indexOfSpecial(flags, from, to);
        expect(got).toBe(specialOracle(view, flags, from, to));
      }),
      { numRuns: 1000 },
    );
  });
});
