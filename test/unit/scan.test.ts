// Stage 1: the byte pre-check never drops a record the full query accepts, and counts every record once.
import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crashAlerts } from '../../src/query/queries.js';
import { runReference } from '../../src/query/reference.js';
import { Scanner } from '../../src/query/scan.js';
import { partitionIdOf } from '../../src/partition.js';

const scanner = new Scanner(crashAlerts, { partitions: 3, maxRecordBytes: 1000, maxSamples: 100 });
const event = (content: string, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ timestamp: 1_732_531_200_000, status: 'OK', severity: 'High', source_ip: '192.168.1.1', user_id: 'user_1', content, ...extra });

/** Every letter-case mix of "crash", spelled with or without JSON escapes. */
const crashSpelling = fc
  .array(fc.boolean(), { minLength: 5, maxLength: 5 })
  .chain((upper) =>
    fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }).map((escape) =>
      [...'crash']
        .map((ch, i) => (upper[i] ? ch.toUpperCase() : ch))
        .map((ch, i) => (escape[i] ? `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}` : ch))
        .join(''),
    ),
  );

describe('Scanner', () => {
  it('accepts every case mix and escape spelling of "crash" that the full query accepts', () => {
    fc.assert(
      fc.property(crashSpelling, fc.string(), (spelling, noise) => {
        const line = event('x').replace('"x"', () => `"${JSON.stringify(noise).slice(1, -1)} ${spelling} end"`);
        const out = scanner.scanBytes(Buffer.from(line + '\n'));
        const oracle = runReference(crashAlerts, [[line]]);
        expect(out.matched).toBe(oracle.matched);
        expect(out.matched).toBe(1);
      }),
      { numRuns: 300 },
    );
  });

  it('gives the full parse\'s matched count on arbitrary records, bytes or string input', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string(), fc.constantFrom(event('crash'), event('CRASH'), event('fine'), event('crash', { severity: 'Low' }))), { maxLength: 30 }), (records) => {
        const clean = records.map((r) => r.replace(/[\r\n]/g, ' '));
        const oracle = runReference(crashAlerts, [clean], { maxRecordBytes: 1000 });
        const out = scanner.scanBytes(Buffer.from(clean.join('\n')));
        // A trailing newline ends the last record; it does not start an empty one.
        expect(out.records).toBe(clean.length - (clean.at(-1) === '' ? 1 : 0));
        expect(out.matched).toBe(oracle.matched);
        expect(out.rejected + out.filtered + out.matched).toBe(out.records);
      }),
      { numRuns: 300 },
    );
  });

  it('skips parsing records that cannot match but still rejects those not shaped like an object', () => {
    const text = [event('all fine'), 'garbage line', '', event('crash'), '{"timestamp":"abc","content":"crash"}'].join('\n') + '\n';
    const out = scanner.scanBytes(Buffer.from(text));
    expect(out).toMatchObject({ records: 5, matched: 1, filtered: 1, rejected: 3 });
    expect(out.parsed).toBe(4);
    expect(out.samples.map((s) => s.recordIndex)).toEqual([1, 2, 4]);
    expect(out.samples[2]!.reason).toContain('"timestamp" must be an integer');
  });

  it('rejects a record over --max-record-bytes without parsing it', () => {
    const huge = event('crash ' + 'x'.repeat(2000));
    const out = scanner.scanBytes(Buffer.from(`${huge}\n${event('crash')}\n`));
    expect(out).toMatchObject({ records: 2, rejected: 1, matched: 1, parsed: 1 });
    expect(out.samples[0]!.reason).toContain('exceeds --max-record-bytes 1000');
  });

  it('handles CRLF line ends, a last record without newline, and record-end tables', () => {
    const a = event('crash');
    const b = event('Crash!');
    expect(scanner.scanBytes(Buffer.from(`${a}\r\n${b}`))).toMatchObject({ records: 2, matched: 2, rejected: 0 });
    const bytes = Buffer.from(a + b);
    expect(scanner.scanBytes(bytes, Uint32Array.from([a.length, a.length + b.length]))).toMatchObject({ records: 2, matched: 2 });
  });

  it('gives the same counts over many 64 KiB windows, newline-delimited or with record ends', () => {
    const lines = Array.from({ length: 3000 }, (_, i) => event(i % 3 === 0 ? 'app crash' : 'fine', { user_id: `user_${i % 7}`, timestamp: 1_732_531_200_000 + i * 10 }));
    lines[1234] = 'broken {';
    const joined = Buffer.from(lines.join('\n') + '\n');
    expect(joined.length).toBeGreaterThan(4 * 64 * 1024);
    const parts = lines.map((l) => Buffer.from(l));
    const ends = new Uint32Array(parts.length);
    parts.reduce((at, p, i) => (ends[i] = at + p.length), 0);
    const byLines = scanner.scanBytes(joined);
    const byEnds = scanner.scanBytes(Buffer.concat(parts), ends);
    expect(byLines).toMatchObject({ records: 3000, matched: 1000, rejected: 1 });
    expect(byEnds).toEqual(byLines);
    expect(byLines.samples[0]!.recordIndex).toBe(1234);
  });

  it('hash-partitions the partial counts by key and keeps the max event time', () => {
    const lines = [event('crash'), event('crash', { user_id: 'user_2', timestamp: 1_732_531_215_000 }), event('crash')];
    const out = scanner.scanBytes(Buffer.from(lines.join('\n')));
    expect(out.maxEventTimeMs).toBe(1_732_531_215_000);
    const rows = out.partials.flatMap((p) => p.keys.map((key, i) => ({ p: p.partitionIds[i], key, w: p.windowStartsMs[i], n: p.counts[i] })));
    expect(rows).toHaveLength(2);
    expect(rows.find((r) => r.key === 'user_1')).toMatchObject({ w: 1_732_531_200_000, n: 2 });
    expect(rows.find((r) => r.key === 'user_2')).toMatchObject({ w: 1_732_531_210_000, n: 1 });
    for (const r of rows) expect(r.p).toBe(partitionIdOf(r.key, 3));
  });

  it('groups partial rows by the worker that owns their partition', () => {
    const byOwner = new Scanner(crashAlerts, { partitions: 7, workers: 3, maxRecordBytes: 1000, maxSamples: 0 });
    const lines = Array.from({ length: 40 }, (_, i) => event('crash', { user_id: `user_${i}` }));
    const out = byOwner.scanBytes(Buffer.from(lines.join('\n')));
    expect(out.partials).toHaveLength(3);
    expect(out.partials.reduce((n, p) => n + p.keys.length, 0)).toBe(40);
    out.partials.forEach((p, workerId) => {
      p.keys.forEach((key, i) => {
        expect(p.partitionIds[i]).toBe(partitionIdOf(key, 7));
        expect(p.partitionIds[i]! % 3).toBe(workerId);
      });
    });
  });
  it('decides every record as the regex path does when the SIMD kernel jumps between hits (bytes vs string input)', () => {
    const line = fc.oneof(
      fc.constant(event('all quiet')),
      fc.constant(event('app CRASHED twice')),
      fc.constant(event('crash', { severity: 'Low' })),
      fc.constant(event('cr\\u0061sh')),
      fc.constant(event('x') + '\r'),
      fc.constant(''),
      fc.constant('not json'),
      fc.constant('{"unterminated": "crash"'),
      fc.constant(event('y'.repeat(1200))),
      fc.string({ maxLength: 20 }).map((t) => t.replace(/[\n\u0080-\uffff]/g, ' ')),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 40 }), fc.boolean(), (lines, trailing) => {
        const text = lines.join('\n') + (trailing && lines.length > 0 ? '\n' : '');
        const viaKernel = scanner.scanBytes(Buffer.from(text, 'latin1'));
        const viaRegex = scanner.scanText(text);
        expect(viaKernel).toEqual(viaRegex);
      }),
      { numRuns: 500 },
    );
  });
});
