// File splits as byte ranges: cut anywhere, the ranges' records are the file's records, each once, in order.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { readFileRange } from '../../src/source/file-range.js';

const dir = mkdtempSync(join(tmpdir(), 'kindling-file-range-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The oracle: the file's text split at newlines (a trailing newline ends the last record, it does not start one). */
function records(text: string): string[] {
  const parts = text.split('\n');
  if (parts.at(-1) === '') parts.pop();
  return parts;
}

describe('readFileRange', () => {
  it('gives every record to exactly one range, wherever the cuts fall', () => {
    const line = fc.oneof(fc.string({ maxLength: 12 }), fc.constant(''), fc.string({ minLength: 100, maxLength: 300 }), fc.constant('{"a":1}\r'));
    fc.assert(
      fc.property(fc.array(line, { maxLength: 30 }), fc.boolean(), fc.array(fc.nat(), { maxLength: 8 }), (lines, trailing, cutSeeds) => {
        const text = lines.map((l) => l.replace(/\n/g, ' ')).join('\n') + (trailing && lines.length > 0 ? '\n' : '');
        const bytes = Buffer.from(text, 'utf8');
        if (bytes.length === 0) return;
        const file = join(dir, 'f.ndjson');
        writeFileSync(file, bytes);
        const cuts = [...new Set([0, ...cutSeeds.map((c) => 1 + (c % bytes.length)), bytes.length])].sort((a, b) => a - b);
        let got = '';
        for (let i = 0; i + 1 < cuts.length; i++) {
          got += Buffer.from(readFileRange({ kind: 'file-range', path: file, start: cuts[i]!, end: cuts[i + 1]!, size: bytes.length })).toString('utf8');
        }
        expect(records(got)).toEqual(records(text));
      }),
      { numRuns: 400 },
    );
  });

  it('reads on past its end for a record longer than the first read, and owns nothing inside one', () => {
    const long = 'x'.repeat(200_000);
    const text = `a\n${long}\nb\n`;
    const file = join(dir, 'long.ndjson');
    writeFileSync(file, text);
    const size = Buffer.byteLength(text);
    const range = (start: number, end: number): string => Buffer.from(readFileRange({ kind: 'file-range', path: file, start, end, size })).toString();
    expect(range(0, 5)).toBe(`a\n${long}\n`);
    expect(range(5, 100_000)).toBe('');
    expect(range(5, size)).toBe('b\n');
  });
});
