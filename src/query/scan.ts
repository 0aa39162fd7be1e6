// Stage 1 of a batch: scan raw records, pre-check, parse what can match, filter, window, partially aggregate.
import { Buffer } from 'node:buffer';
import { parseEvent } from './event.js';
import { CountTable, type PartialRows } from './aggregate.js';
import type { Query } from './query.js';
import { windowStartsFor } from './window.js';

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
  partials: PartialRows[];
  samples: RejectSample[];
}

/** Scanner settings that do not change during a run. */
export interface ScanOptions {
  readonly partitions: number;
  readonly maxRecordBytes: number;
  /** Rejected records kept as samples per task (the counter is always exact). */
  readonly maxSamples: number;
}

const EXCERPT_CHARS = 120;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const CR = 13;

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
  private readonly hitPattern: RegExp | null;

  constructor(
    private readonly query: Query,
    private readonly options: ScanOptions,
  ) {
    const terms = query.precheckTerms;
    this.hitPattern = terms ? new RegExp([...terms.map(escapeRegExp), '\\\\'].join('|'), 'gi') : null;
  }

  /** Scans UTF-8 bytes: newline-delimited records, or records ending at `recordEnds` (exclusive offsets). */
  scanBytes(bytes: Uint8Array, recordEnds?: Uint32Array): ScanOutput {
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const text = buf.toString('latin1');
    return this.scanText(text, recordEnds, (s, e) => buf.toString('utf8', s, e));
  }

  /**
   * Scans records held in a JS string. `decode(s, e)` returns the real text of a record (for bytes
   * viewed as latin1 it decodes UTF-8); by default the string itself is sliced.
   */
  scanText(text: string, recordEnds?: Uint32Array, decode: (s: number, e: number) => string = (s, e) => text.slice(s, e)): ScanOutput {
    const { query } = this;
    const { maxRecordBytes, maxSamples } = this.options;
    const out: ScanOutput = {
      records: 0, rejected: 0, filtered: 0, matched: 0, parsed: 0, maxEventTimeMs: null, partials: [], samples: [],
    };
    const table = new CountTable();
    const pattern = this.hitPattern;
    let nextHit = -1;
    let maxEventTimeMs = -Infinity;
    const window = query.window;

    const reject = (recordIndex: number, reason: string, s: number, e: number): void => {
      out.rejected++;
      if (out.samples.length < maxSamples) {
        out.samples.push({ recordIndex, reason, excerpt: decode(s, Math.min(e, s + EXCERPT_CHARS * 4)).slice(0, EXCERPT_CHARS) });
      }
    };

    const record = (recordIndex: number, s: number, e: number): void => {
      if (e - s > maxRecordBytes) {
        reject(recordIndex, `record of ${e - s} bytes exceeds --max-record-bytes ${maxRecordBytes}`, s, e);
        return;
      }
      if (pattern !== null) {
        if (nextHit < s) {
          pattern.lastIndex = s;
          const m = pattern.exec(text);
          nextHit = m === null ? Infinity : m.index;
        }
        if (nextHit >= e) {
          // No term and no escape: cannot match. Only its shape is checked unless it looks odd.
          if (e > s && text.charCodeAt(s) === OPEN_BRACE && text.charCodeAt(e - 1) === CLOSE_BRACE) {
            out.filtered++;
            return;
          }
          out.parsed++;
          const parsed = parseEvent(decode(s, e));
          if (parsed.ok) out.filtered++;
          else reject(recordIndex, parsed.reason, s, e);
          return;
        }
      }
      out.parsed++;
      const parsed = parseEvent(decode(s, e));
      if (!parsed.ok) {
        reject(recordIndex, parsed.reason, s, e);
        return;
      }
      const event = parsed.event;
      if (!query.filter(event)) {
        out.filtered++;
        return;
      }
      out.matched++;
      const t = event.timestamp;
      if (t > maxEventTimeMs) maxEventTimeMs = t;
      const key = query.key(event);
      if (window === undefined) {
        table.add(0, key, 1);
      } else {
        for (const start of windowStartsFor(t, window)) table.add(start, key, 1);
      }
    };

    let recordIndex = 0;
    if (recordEnds !== undefined) {
      let s = 0;
      for (const e of recordEnds) {
        record(recordIndex++, s, e);
        s = e;
      }
    } else {
      const n = text.length;
      let s = 0;
      while (s < n) {
        let nl = text.indexOf('\n', s);
        if (nl === -1) nl = n;
        const e = nl > s && text.charCodeAt(nl - 1) === CR ? nl - 1 : nl;
        record(recordIndex++, s, e);
        s = nl + 1;
      }
    }
    out.records = recordIndex;
    out.maxEventTimeMs = maxEventTimeMs === -Infinity ? null : maxEventTimeMs;
    out.partials = table.toPartials(this.options.partitions);
    return out;
  }
}
