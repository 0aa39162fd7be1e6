// Stage 1 of a batch: scan raw records, pre-check, parse what can match, filter, window, partially aggregate.
import { Buffer } from 'node:buffer';
import { parseEvent } from './event.js';
import { CountTable, type PartialRows } from './aggregate.js';
import type { Query } from './query.js';
import { QueryCodeError } from './user-code.js';
import { windowStartsFor } from './window.js';
import { byteKernel, isKernelTerm, SPECIAL } from '../kernel/byte-kernel.js';

/** A rejected record, kept as a sample for the log: its index within the scanned split. */
export interface RejectSample {
  readonly recordIndex: number;
  readonly reason: string;
  readonly excerpt: string;
}

/**
 * What one stage-1 task produces. Every scanned record is counted exactly once as rejected
 * (malformed), filtered (valid but not matching) or matched; `matched` rows reach the watermark
 * step and the windows.
 */
export interface ScanOutput {
  records: number;
  rejected: number;
  filtered: number;
  matched: number;
  /** Records fully parsed (the pre-check skips the rest). */
  parsed: number;
  /** Largest event time among matched rows, or null when none matched. */
  maxEventTimeMs: number | null;
  /** Partial counts grouped by owner worker: element w holds the rows worker w's partitions get. */
  partials: PartialRows[];
  samples: RejectSample[];
}

/** Scanner settings that do not change during a run. */
export interface ScanOptions {
  readonly partitions: number;
  /** Worker threads: partial rows are grouped by the worker owning their partition (default 1). */
  readonly workers?: number;
  readonly maxRecordBytes: number;
  /** Rejected records kept as samples per task (the counter is always exact). */
  readonly maxSamples: number;
}

const EXCERPT_CHARS = 120;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const CR = 13;
const NEWLINE = 10;
/** Bytes viewed as one latin1 string at a time (see scanBytes). */
const SCAN_WINDOW_BYTES = 64 * 1024;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Runs a query's stateless part over record splits. One Scanner per thread and query; `scan*`
 * calls are independent.
 *
 * The pre-check is the hot path: the split is viewed as latin1 text (one char per byte, so
 * indices are byte offsets), a case-insensitive regex finds the query's terms or any backslash,
 * and only records containing a hit are decoded as UTF-8 and parsed. A record without a hit can
 * not pass the filter (JSON escapes are the only way to spell a term without its bytes, hence the
 * backslash), so it is counted as filtered after a cheap shape check: it must look like `{...}`,
 * otherwise it is parsed to find out why not.
 */
export class Scanner {
  /** Finds the query's terms in any letter case; null when the query declares none (parse everything). */
  private readonly termPattern: RegExp | null;
  /** The terms when the byte kernel can search them all (ASCII); null: the regex path. */
  private readonly kernelTerms: readonly string[] | null;

  constructor(
    private readonly query: Query,
    private readonly options: ScanOptions,
  ) {
    const terms = query.precheckTerms;
    // The backslash is searched apart with indexOf: in one alternation with the terms it makes the
    // regex four times slower (measured: 274 vs 64 + 13 ns per event).
    this.termPattern = terms ? new RegExp(terms.map(escapeRegExp).join('|'), 'gi') : null;
    this.kernelTerms = terms && terms.every(isKernelTerm) ? terms : null;
  }

  /**
   * Scans UTF-8 bytes: newline-delimited records, or records ending at `recordEnds` (exclusive
   * offsets). Newline-delimited bytes are viewed in windows of about 64 KiB cut at newlines: a
   * latin1 string that large stays in V8's young generation, where a 1 MiB one would go to the
   * large-object space and hold RSS up until a full GC.
   */
  scanBytes(bytes: Uint8Array, recordEnds?: Uint32Array): ScanOutput {
    if (recordEnds === undefined && this.kernelTerms !== null) return this.scanWithKernel(bytes, this.kernelTerms);
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const run = new ScanRun(this.query, this.options);
    let records = 0;
    if (recordEnds !== undefined) {
      // The same windows, cut at record ends; each window's ends are made relative to its start.
      for (let first = 0, start = 0; first < recordEnds.length; ) {
        let last = first + 1;
        while (last < recordEnds.length && recordEnds[last]! - start <= SCAN_WINDOW_BYTES) last++;
        const end = recordEnds[last - 1]!;
        const relative = recordEnds.slice(first, last).map((e) => e - start);
        const base = start;
        records += this.scanWindow(run, latin1(buf, start, end), relative, (s, e) => buf.toString('utf8', base + s, base + e), records);
        first = last;
        start = end;
      }
      return run.finish(records);
    }
    for (let start = 0; start < buf.length; ) {
      let end = Math.min(buf.length, start + SCAN_WINDOW_BYTES);
      if (end < buf.length) {
        const nl = buf.lastIndexOf(NEWLINE, end - 1);
        if (nl >= start) end = nl + 1;
        else {
          const after = buf.indexOf(NEWLINE, end);
          end = after === -1 ? buf.length : after + 1;
        }
      }
      const base = start;
      records += this.scanWindow(run, latin1(buf, start, end), undefined, (s, e) => buf.toString('utf8', base + s, base + e), records);
      start = end;
    }
    return run.finish(records);
  }

  /**
   * The pre-check over newline-delimited bytes with the SIMD byte kernel (src/kernel/): it jumps
   * from hit to hit, a hit being a term, a backslash, or a newline not between `}` and `{`. The
   * records before a hit are all `{...}` without terms or escapes, hence filtered, and are only
   * counted (newlines, 16 bytes at a time); a hit's record goes the per-record way (`scanRecord`),
   * which is the old path's decision record by record. Bytes already in the kernel's memory (a file
   * range the worker read there) are scanned in place; others are copied in.
   */
  private scanWithKernel(bytes: Uint8Array, terms: readonly string[]): ScanOutput {
    const kernel = byteKernel();
    let base = kernel.offsetOf(bytes);
    let view = bytes;
    if (base === null) {
      view = kernel.load(bytes);
      base = 0;
    }
    const buf = Buffer.from(view.buffer, view.byteOffset, view.byteLength);
    const n = buf.length;
    const { maxRecordBytes } = this.options;
    const run = new ScanRun(this.query, this.options);
    run.decode = (s, e) => buf.toString('utf8', s, e);
    const nextTerm = terms.map(() => -1);
    let nextSpecial = -1;
    const termAt = (from: number): number => {
      let best = Infinity;
      for (let i = 0; i < terms.length; i++) {
        if (nextTerm[i]! < from) {
          const at = kernel.indexOfTerm(terms[i]!, base + from, base + n);
          nextTerm[i] = at === -1 ? Infinity : at - base;
        }
        if (nextTerm[i]! < best) best = nextTerm[i]!;
      }
      return best;
    };
    let nextEscape = -1;
    const escapeAt = (from: number): number => {
      if (nextEscape < from) {
        const at = kernel.indexOfSpecial(SPECIAL.BACKSLASH, base + from, base + n);
        nextEscape = at === -1 ? Infinity : at - base;
      }
      return nextEscape;
    };
    const specialAt = (from: number): number => {
      if (nextSpecial < from) {
        const at = kernel.indexOfSpecial(SPECIAL.BACKSLASH | SPECIAL.ODD_NEWLINE, base + from, base + n);
        nextSpecial = at === -1 ? Infinity : at - base;
      }
      return nextSpecial;
    };
    let recordIndex = 0;
    for (let s = 0; s < n; ) {
      if (buf[s] === OPEN_BRACE) {
        const hit = Math.min(termAt(s), specialAt(s));
        // Clean records run up to the record holding the hit (for an odd newline: the record it ends).
        let clean = hit === Infinity ? (buf[n - 1] === NEWLINE ? n : buf.lastIndexOf(NEWLINE, n - 1) + 1) : buf.lastIndexOf(NEWLINE, hit - 1) + 1;
        if (clean - s > maxRecordBytes) {
          // A record over --max-record-bytes among them is rejected the per-record way.
          const long = firstLongRecord(buf, s, clean, maxRecordBytes);
          if (long !== -1) clean = long;
        }
        if (clean > s) {
          const count = kernel.countNewlines(base + s, base + clean);
          run.out.filtered += count;
          recordIndex += count;
          s = clean;
          continue;
        }
      }
      s = this.scanRecord(run, buf, s, n, recordIndex++, (from) => Math.min(termAt(from), escapeAt(from)));
    }
    return run.finish(recordIndex);
  }

  /** One record at `s` decided as scanWindow decides it (`hitAt`: the next term or backslash); returns where the next one starts. */
  private scanRecord(run: ScanRun, buf: Buffer, s: number, n: number, recordIndex: number, hitAt: (from: number) => number): number {
    let next = buf.indexOf(NEWLINE, s);
    if (next === -1) next = n;
    const e = next > s && buf[next - 1] === CR ? next - 1 : next;
    if (e - s > this.options.maxRecordBytes) {
      run.reject(recordIndex, `record of ${e - s} bytes exceeds --max-record-bytes ${this.options.maxRecordBytes}`, s, e);
    } else if (hitAt(s) < e) {
      run.full(recordIndex, s, e);
    } else if (e > s && buf[s] === OPEN_BRACE && buf[e - 1] === CLOSE_BRACE) {
      run.out.filtered++;
    } else {
      run.shapeless(recordIndex, s, e);
    }
    return next + 1;
  }

  /**
   * Scans records held in a JS string. `decode(s, e)` returns the real text of a record (for bytes
   * viewed as latin1 it decodes UTF-8); by default the string itself is sliced.
   */
  scanText(text: string, recordEnds?: Uint32Array): ScanOutput {
    const run = new ScanRun(this.query, this.options);
    return run.finish(this.scanWindow(run, text, recordEnds, (s, e) => text.slice(s, e), 0));
  }

  /** Scans the records of `text` into `run`; record indexes start at `firstIndex`. Returns the record count. */
  private scanWindow(run: ScanRun, text: string, recordEnds: Uint32Array | undefined, decode: (s: number, e: number) => string, firstIndex: number): number {
    const { maxRecordBytes } = this.options;
    run.decode = decode;
    const pattern = this.termPattern;
    const n = text.length;
    // Next position of a term and of a backslash at or after the current record (n + 1: none).
    let nextTerm = -1;
    let nextEscape = -1;
    let recordIndex = firstIndex;
    let s = 0;
    const ends = recordEnds;
    let endIndex = 0;
    while (ends === undefined ? s < n : endIndex < ends.length) {
      let next: number; // start of the following record
      let e: number; // end of this record (exclusive)
      if (ends === undefined) {
        next = text.indexOf('\n', s);
        if (next === -1) next = n;
        e = next > s && text.charCodeAt(next - 1) === CR ? next - 1 : next;
        next++;
      } else {
        e = ends[endIndex++]!;
        next = e;
      }
      if (e - s > maxRecordBytes) {
        run.reject(recordIndex, `record of ${e - s} bytes exceeds --max-record-bytes ${maxRecordBytes}`, s, e);
      } else if (pattern === null) {
        run.full(recordIndex, s, e);
      } else {
        if (nextTerm < s) {
          pattern.lastIndex = s;
          nextTerm = pattern.exec(text)?.index ?? n + 1;
        }
        if (nextEscape < s) {
          nextEscape = text.indexOf('\\', s);
          if (nextEscape === -1) nextEscape = n + 1;
        }
        if (nextTerm < e || nextEscape < e) {
          run.full(recordIndex, s, e);
        } else if (e > s && text.charCodeAt(s) === OPEN_BRACE && text.charCodeAt(e - 1) === CLOSE_BRACE) {
          // No term and no escape: it cannot match. Only its shape is checked.
          run.out.filtered++;
        } else {
          run.shapeless(recordIndex, s, e);
        }
      }
      recordIndex++;
      s = next;
    }
    return recordIndex - firstIndex;
  }
}

/** The start of the first record in buf[from, to) longer than `maxBytes` (its CR not counted), or -1. */
function firstLongRecord(buf: Buffer, from: number, to: number, maxBytes: number): number {
  for (let s = from; s < to; ) {
    let next = buf.indexOf(NEWLINE, s);
    if (next === -1 || next > to) next = to;
    const e = next > s && buf[next - 1] === CR ? next - 1 : next;
    if (e - s > maxBytes) return s;
    s = next + 1;
  }
  return -1;
}

/** Buffer's latin1 view of bytes: `latin1Slice` skips toString's argument handling (43 vs 103 ns per event). */
function latin1(buf: Buffer, start: number, end: number): string {
  const fast = (buf as Buffer & { latin1Slice?: (start: number, end: number) => string }).latin1Slice;
  return fast ? fast.call(buf, start, end) : buf.toString('latin1', start, end);
}

/** The mutable state of one scan: counters, partial counts, samples. */
class ScanRun {
  readonly out: ScanOutput = { records: 0, rejected: 0, filtered: 0, matched: 0, parsed: 0, maxEventTimeMs: null, partials: [], samples: [] };
  private readonly table = new CountTable();
  private maxEventTimeMs = -Infinity;

  /** Decodes a record of the current window to its real text. */
  decode: (s: number, e: number) => string = () => '';

  constructor(
    private readonly query: Query,
    private readonly options: ScanOptions,
  ) {}

  reject(recordIndex: number, reason: string, s: number, e: number): void {
    this.out.rejected++;
    if (this.out.samples.length < this.options.maxSamples) {
      this.out.samples.push({ recordIndex, reason, excerpt: this.decode(s, Math.min(e, s + EXCERPT_CHARS * 4)).slice(0, EXCERPT_CHARS) });
    }
  }

  /** A record the pre-check cannot rule out: parse, validate, filter, window, count. */
  full(recordIndex: number, s: number, e: number): void {
    this.out.parsed++;
    const parsed = parseEvent(this.decode(s, e));
    if (!parsed.ok) {
      this.reject(recordIndex, parsed.reason, s, e);
      return;
    }
    const event = parsed.event;
    const query = this.query;
    // The query's own code: a throw names the function and the record (never a lost worker).
    let keep: boolean;
    try {
      keep = query.filter(event);
    } catch (err) {
      throw new QueryCodeError('filter', recordIndex, err);
    }
    if (!keep) {
      this.out.filtered++;
      return;
    }
    this.out.matched++;
    const t = event.timestamp;
    if (t > this.maxEventTimeMs) this.maxEventTimeMs = t;
    let key: string;
    try {
      key = query.key(event);
    } catch (err) {
      throw new QueryCodeError('key', recordIndex, err);
    }
    if (query.window === undefined) this.table.add(0, key, 1);
    else for (const start of windowStartsFor(t, query.window)) this.table.add(start, key, 1);
  }

  /** A record without terms that does not look like `{...}`: parsed only to say why it is bad. */
  shapeless(recordIndex: number, s: number, e: number): void {
    this.out.parsed++;
    const parsed = parseEvent(this.decode(s, e));
    if (parsed.ok) this.out.filtered++;
    else this.reject(recordIndex, parsed.reason, s, e);
  }

  finish(records: number): ScanOutput {
    this.out.records = records;
    this.out.maxEventTimeMs = this.maxEventTimeMs === -Infinity ? null : this.maxEventTimeMs;
    this.out.partials = this.table.toPartials(this.options.partitions, this.options.workers ?? 1);
    return this.out;
  }
}
