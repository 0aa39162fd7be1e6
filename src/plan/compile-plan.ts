// Compiles a plan once into closures: stage 1 (parse → row steps → group key and partial aggregates) and the stateful stage-2 parts.
import { Buffer, isAscii } from 'node:buffer';
import { byteKernel, hitFinder, isKernelTerm } from '../kernel/byte-kernel.js';
import type { AggregateFunction } from './aggregate.js';
import { compileExpr, type RowFn } from './compile-expr.js';
import { isBlankRecord, newParseCounters, recordParser, type ParseCounters } from './from-json.js';
import { orderRows } from './order.js';
import { analyzePlan, checkStreaming, type AnalyzedPlan, type QueryPlan, type RowStep } from './plan.js';
import { derivePrecheck, precheckAccepts, type PrecheckTerms } from './precheck.js';
import { AggregationState, DedupState, emptyPartialGroups, type DedupInput, type PartialGroups } from './state.js';
import { QueryRuntimeError, type Row, type Value } from './types.js';
import { keyOf } from './values.js';

const SCAN_WINDOW_BYTES = 64 * 1024;
const NON_ASCII = /[\u0080-\u00ff]/;

/** A corrupt record kept for the log: its index in the split, why, and its first characters. */
export interface CorruptSample {
  readonly recordIndex: number;
  readonly reason: string;
  readonly excerpt: string;
}

const EXCERPT_CHARS = 120;

/** What stage 1 produced from one split of a batch. */
export interface ScanResult {
  readonly counters: ParseCounters;
  /** The first corrupt records (at most `maxSamples`), for the log. */
  readonly corruptSamples: CorruptSample[];
  /** Records skipped by the pre-check without parsing. */
  skippedRecords: number;
  /** Rows a filter dropped. */
  filteredRows: number;
  /** Max event time (ms) over rows that reached the watermark step; null: none. */
  maxEventTimeMs: number | null;
  /** Aggregation without dropDuplicates: partial aggregates of this split. */
  readonly partial: PartialGroups | null;
  /** dropDuplicates plans: rows with their keys, for the dedup state. */
  readonly dedup: DedupInput | null;
  /** Plans without state: the output rows, in input order. */
  readonly rows: Row[];
}

/** One row step compiled. Returns the next row, or null when dropped. */
type CompiledStep = { kind: 'project'; fns: RowFn[] } | { kind: 'filter'; fn: RowFn; pushed: boolean } | { kind: 'watermark'; ordinal: number };

function compileSteps(steps: readonly RowStep[]): CompiledStep[] {
  return steps.map((s): CompiledStep => {
    switch (s.kind) {
      case 'project': return { kind: 'project', fns: s.exprs.map(compileExpr) };
      case 'filter': return { kind: 'filter', fn: compileExpr(s.condition), pushed: s.pushedBelowWatermark };
      case 'watermark': return { kind: 'watermark', ordinal: s.ordinal };
    }
  });
}

/** A plan compiled for execution. */
export interface CompiledQuery {
  readonly query: QueryPlan;
  readonly plan: AnalyzedPlan;
  /** Terms the pre-check looks for (empty: every record is parsed). */
  readonly precheck: PrecheckTerms;
  /** Stage 1 over one split's records. `usePrecheck` false parses every record. */
  scan(records: readonly string[], usePrecheck?: boolean): ScanResult;
  /**
   * Stage 1 over newline-delimited text (a trailing `\r` is dropped from each record). With a
   * pre-check, one case-insensitive regex over the whole text finds the records that may match,
   * and only those are cut out and parsed.
   */
  scanText(text: string, usePrecheck?: boolean): ScanResult;
  /**
   * scanText over UTF-8 bytes. With a pre-check whose first terms are ASCII (and no `windowBytes`),
   * the SIMD byte kernel (src/kernel/) jumps from hit to hit (a term, a backslash, a non-ASCII
   * byte) and only counts the newlines of the records in between; otherwise the bytes are viewed
   * as latin1 in windows of about `windowBytes` (default 64 KiB) cut at newlines (a latin1 string
   * that size stays in V8's young generation), a record decoded as UTF-8 only when it has
   * non-ASCII bytes. Both decide every record alike (a property test).
   */
  scanBytes(bytes: Uint8Array, usePrecheck?: boolean, windowBytes?: number): ScanResult;
  /** The aggregate functions, in agg order (for AggregationState and merges). */
  readonly aggregateFunctions: readonly AggregateFunction[];
  newAggregationState(): AggregationState;
  newDedupState(): DedupState;
  /** After dropDuplicates: the mid steps, then partial aggregates (aggregation plans) or output rows. */
  afterDedup(rows: readonly Row[]): { partial: PartialGroups | null; rows: Row[]; filteredRows: number };
  /** HAVING and projections after the aggregation, then the output order (stateful plans: sorted; stateless: input order). */
  finish(rows: Row[]): Row[];
}

/** Compiles `query` (checking it as Spark would at start). Each closure is built once; no tree is walked per row. */
export function compileQuery(query: QueryPlan, options: { maxRecordChars?: number; maxSamples?: number } = {}): CompiledQuery {
  const plan = checkStreaming(analyzePlan(query.root, { ansi: query.ansi }), query.outputMode);
  const parse = recordParser(plan.schema);
  const width = plan.schema.fields.length;
  const maxChars = options.maxRecordChars ?? Infinity;
  const maxSamples = options.maxSamples ?? 0;
  const pre = compileSteps(plan.pre);
  const mid = compileSteps(plan.mid);
  const post = compileSteps(plan.post);
  // A pre-check counts the records it skips by their newlines, blank ones too: a source that skips
  // blank lines parses every record instead.
  const precheck = plan.skipBlankLines ? [] : derivePrecheck(plan);
  const skipBlank = plan.skipBlankLines;
  const aggregate = plan.aggregate;
  const functions = aggregate ? aggregate.aggregates.map((a) => a.fn) : [];
  const inputs = aggregate ? aggregate.aggregates.map((a) => (a.input === null ? null : compileExpr(a.input))) : [];
  const keyFns = aggregate ? aggregate.keys.map((k) => (k.kind === 'expr' ? compileExpr(k.bound) : null)) : [];
  const windowAt = aggregate ? aggregate.keys.findIndex((k) => k.kind === 'window') : -1;
  const windowKey = windowAt >= 0 ? (aggregate!.keys[windowAt] as Extract<(typeof aggregate & object)['keys'][number], { kind: 'window' }>) : null;
  const evicting = aggregate?.evictionKey !== null && aggregate?.evictionKey !== undefined;
  const dedup = plan.dedup;

  /** Runs compiled steps; `observe` gets the event time when the row moves the watermark. */
  const runSteps = (steps: CompiledStep[], input: Row, result: ScanResult | null): Row | null => {
    let row = input;
    let eventTime: Value | undefined;
    for (let s = 0; s < steps.length; s++) {
      const step = steps[s]!;
      if (step.kind === 'filter') {
        if (step.fn(row) !== true) {
          if (result) {
            result.filteredRows++;
            if (eventTime !== undefined && !step.pushed) observe(result, eventTime);
          }
          return null;
        }
      } else if (step.kind === 'project') {
        const fns = step.fns;
        const next = new Array<Value>(fns.length);
        for (let i = 0; i < fns.length; i++) next[i] = fns[i]!(row);
        row = next;
      } else eventTime = row[step.ordinal] ?? null;
    }
    if (result && eventTime !== undefined) observe(result, eventTime);
    return row;
  };
  const observe = (result: ScanResult, et: Value): void => {
    if (typeof et !== 'number') return;
    const ms = Math.trunc(et / 1000);
    if (result.maxEventTimeMs === null || ms > result.maxEventTimeMs) result.maxEventTimeMs = ms;
  };

  /** Adds one row to the partial groups of a split. */
  const accumulate = (row: Row, partial: PartialGroups, index: Map<string, number>): void => {
    const values: Value[] = new Array(keyFns.length);
    let prefix = '';
    for (let k = 0; k < keyFns.length; k++) {
      const f = keyFns[k];
      if (f) {
        const v = f(row);
        values[k] = v;
        prefix += keyOf(v) + '\u0000';
      } else values[k] = null;
    }
    const addTo = (id: string, groupValues: Value[], endUs: number | null): void => {
      let at = index.get(id);
      if (at === undefined) {
        at = partial.ids.length;
        index.set(id, at);
        partial.ids.push(id);
        partial.values.push(groupValues);
        partial.states.push(functions.map((f) => f.init()));
        partial.endsUs.push(endUs);
        partial.counts.push(0);
      }
      const states = partial.states[at]!;
      for (let a = 0; a < functions.length; a++) {
        const input = inputs[a];
        states[a] = functions[a]!.update(states[a], input ? input(row) : true);
      }
      partial.counts[at]!++;
    };
    if (!windowKey) {
      addTo(prefix, values, null);
      return;
    }
    const t = row[windowKey.timeOrdinal];
    if (typeof t !== 'number') return;
    const { sizeUs, slideUs, startUs } = windowKey;
    const latest = t - ((((t - startUs) % slideUs) + slideUs) % slideUs);
    const first = latest - Math.floor((sizeUs - 1) / slideUs) * slideUs;
    for (let s = first; s <= latest; s += slideUs) {
      if (s + sizeUs <= t) continue;
      const groupValues = values.slice();
      groupValues[windowAt] = { startUs: s, endUs: s + sizeUs };
      addTo(`${s}\u0000${prefix}`, groupValues, evicting ? s + sizeUs : null);
    }
  };

  const dedupKey = (row: Row): string => {
    let key = '';
    for (const i of dedup!.keyOrdinals) key += keyOf(row[i] ?? null) + '\u0000';
    return key;
  };

  const newResult = (): ScanResult => ({
    counters: newParseCounters(plan.schema),
    corruptSamples: [],
    skippedRecords: 0,
    filteredRows: 0,
    maxEventTimeMs: null,
    partial: aggregate && !dedup ? emptyPartialGroups() : null,
    dedup: dedup ? { keys: [], eventTimesUs: [], rows: [] } : null,
    rows: [],
  });
  /** Stage 1 for one record that passed (or skipped) the pre-check. */
  const scanRecord = (text: string, result: ScanResult, index: Map<string, number>): void => {
    if (skipBlank && isBlankRecord(text)) return;
    const row: Row = new Array(width);
    // Records before this one in the split: the parsed ones and the ones the pre-check skipped.
    const recordIndex = result.counters.records + result.skippedRecords;
    let corrupt: string | null;
    if (text.length > maxChars) {
      result.counters.records++;
      result.counters.corruptRecords++;
      row.fill(null);
      corrupt = `longer than the ${maxChars}-byte limit (--max-record-bytes)`;
    } else corrupt = parse(text, row, result.counters);
    if (corrupt !== null && result.corruptSamples.length < maxSamples) {
      result.corruptSamples.push({ recordIndex, reason: corrupt, excerpt: text.length > EXCERPT_CHARS ? text.slice(0, EXCERPT_CHARS) + '…' : text });
    }
    try {
      const out = runSteps(pre, row, result);
      if (!out) return;
      if (result.dedup) {
        const t = dedup!.eventTimeOrdinal === null ? null : out[dedup!.eventTimeOrdinal];
        result.dedup.keys.push(dedupKey(out));
        result.dedup.eventTimesUs.push(typeof t === 'number' ? t : null);
        result.dedup.rows.push(out);
      } else if (result.partial) accumulate(out, result.partial, index);
      else result.rows.push(out);
    } catch (err) {
      // ANSI mode failed the query on this record: say which one.
      if (err instanceof QueryRuntimeError && err.recordIndex === null) err.recordIndex = recordIndex;
      throw err;
    }
  };
  // Where a record may need parsing: a term of the first group, or an escape / non-ASCII character.
  // Two searches, not one alternation: a character class in the alternation makes the regex several
  // times slower over the ASCII text that is most of the input.
  const termPattern = precheck.length === 0 ? null : new RegExp(precheck[0]!.join('|'), 'gi');
  const nonAsciiPattern = /[\u0080-\uffff]/g;
  const countLines = (text: string, from: number, to: number): number => {
    let n = 0;
    for (let i = text.indexOf('\n', from); i >= 0 && i < to; i = text.indexOf('\n', i + 1)) n++;
    return n;
  };
  const record = (text: string, start: number, end: number): string => {
    const stop = Math.min(end, text.length);
    return stop > start && text.charCodeAt(stop - 1) === 13 ? text.slice(start, stop - 1) : text.slice(start, stop);
  };

  /**
   * Stage 1 over newline-delimited text into `result`; `cut(start, end)` gives the record between
   * two offsets (minus a trailing CR). With a pre-check only the records around a hit are cut.
   */
  const scanWindow = (text: string, result: ScanResult, index: Map<string, number>, usePrecheck: boolean, cut: (start: number, end: number) => string, ascii = Buffer.byteLength(text, 'utf8') === text.length): void => {
    const length = text.length > 0 && text.charCodeAt(text.length - 1) === 10 ? text.length - 1 : text.length;
    if (length === 0 && text.length === 0) return;
    if (!usePrecheck || termPattern === null) {
      for (let start = 0; start <= length; ) {
        let end = text.indexOf('\n', start);
        if (end < 0 || end > length) end = length;
        scanRecord(cut(start, end), result, index);
        start = end + 1;
      }
      return;
    }
    let pos = 0;
    let nextTerm = -1;
    let nextEscape = -1;
    // A character-class regex crawls over ASCII text (measured 10-30x slower than indexOf); the
    // UTF-8 length tells in one native pass whether any non-ASCII character is there at all.
    let nextNonAscii = ascii ? Infinity : -1;
    const find = (re: RegExp, from: number): number => {
      re.lastIndex = from;
      return re.exec(text)?.index ?? Infinity;
    };
    while (pos <= length) {
      if (nextTerm < pos) nextTerm = find(termPattern!, pos);
      if (nextEscape < pos) {
        const i = text.indexOf('\\', pos);
        nextEscape = i < 0 ? Infinity : i;
      }
      if (nextNonAscii < pos) nextNonAscii = find(nonAsciiPattern, pos);
      const hit = Math.min(nextTerm, nextEscape, nextNonAscii);
      if (hit > length || (hit === length && length < text.length)) {
        result.skippedRecords += countLines(text, pos, length) + 1;
        break;
      }
      const start = text.lastIndexOf('\n', hit - 1) + 1;
      let end = text.indexOf('\n', hit);
      if (end < 0 || end > length) end = length;
      result.skippedRecords += countLines(text, pos, start);
      const r = cut(start, end);
      if (precheckAccepts(r, precheck)) scanRecord(r, result, index);
      else result.skippedRecords++;
      pos = end + 1;
    }
  };


  // The byte kernel searches ASCII terms; a pre-check with others takes the latin1 path.
  const kernelTerms = precheck.length > 0 && precheck[0]!.every(isKernelTerm) ? precheck[0]! : null;
  /** The pre-check on the byte kernel: records between hits are only counted (16 bytes at a time), a hit's record is cut, checked and parsed. */
  const scanWithKernel = (bytes: Uint8Array, terms: readonly string[]): ScanResult => {
    const kernel = byteKernel();
    // Bytes already in the kernel's memory (a file range the worker read there) are scanned in place.
    let base = kernel.offsetOf(bytes);
    let view = bytes;
    if (base === null) {
      view = kernel.load(bytes);
      base = 0;
    }
    const buf = Buffer.from(view.buffer, view.byteOffset, view.byteLength);
    const n = buf.length;
    const result = newResult();
    const index = new Map<string, number>();
    const hitAt = hitFinder(kernel, terms, base, n);
    for (let pos = 0; pos < n; ) {
      const hit = hitAt(pos);
      if (hit === Infinity) {
        result.skippedRecords += kernel.countNewlines(base + pos, base + n) + (buf[n - 1] === 10 ? 0 : 1);
        break;
      }
      const start = hit === 0 ? 0 : buf.lastIndexOf(10, hit - 1) + 1;
      if (start > pos) result.skippedRecords += kernel.countNewlines(base + pos, base + start);
      let end = buf.indexOf(10, hit);
      if (end === -1) end = n;
      const r = record(buf.toString('utf8', start, end), 0, Infinity);
      if (precheckAccepts(r, precheck)) scanRecord(r, result, index);
      else result.skippedRecords++;
      pos = end + 1;
    }
    return result;
  };

  return {
    query,
    plan,
    precheck,
    aggregateFunctions: functions,
    scanText(text, usePrecheck = true) {
      const result = newResult();
      scanWindow(text, result, new Map(), usePrecheck, (start, end) => record(text, start, end));
      return result;
    },
    scanBytes(bytes, usePrecheck = true, windowBytes) {
      if (usePrecheck && kernelTerms !== null && windowBytes === undefined) return scanWithKernel(bytes, kernelTerms);
      windowBytes ??= SCAN_WINDOW_BYTES;
      const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const result = newResult();
      const index = new Map<string, number>();
      for (let from = 0; from < buf.length; ) {
        // Windows end at a newline, so no record straddles two.
        let to = Math.min(buf.length, from + windowBytes);
        if (to < buf.length) {
          const nl = buf.lastIndexOf(10, to - 1);
          to = nl >= from ? nl + 1 : (buf.indexOf(10, to) + 1 || buf.length);
        }
        // One char per byte: offsets are byte offsets, and ASCII records need no UTF-8 decoding.
        const text = buf.toString('latin1', from, to);
        const base = from;
        // isAscii checks the bytes with SIMD, several times faster than measuring the string's UTF-8 length.
        const ascii = isAscii(buf.subarray(from, to));
        scanWindow(text, result, index, usePrecheck, (start, end) => {
          const r = record(text, start, end);
          return ascii || !NON_ASCII.test(r) ? r : record(buf.toString('utf8', base + start, base + end), 0, Infinity);
        }, ascii);
        from = to;
      }
      return result;
    },
    scan(records, usePrecheck = true) {
      const result = newResult();
      const index = new Map<string, number>();
      const checking = usePrecheck && precheck.length > 0;
      for (let r = 0; r < records.length; r++) {
        const text = records[r]!;
        if (checking && !precheckAccepts(text, precheck)) result.skippedRecords++;
        else scanRecord(text, result, index);
      }
      return result;
    },
    newAggregationState: () => new AggregationState(functions, query.outputMode),
    newDedupState: () => new DedupState(dedup?.eventTimeOrdinal !== null && dedup?.eventTimeOrdinal !== undefined),
    afterDedup(rows) {
      // Mid steps have no watermark step: only the filtered count of this stand-in result is used.
      const counting = { filteredRows: 0, maxEventTimeMs: null } as ScanResult;
      const kept: Row[] = [];
      for (const row of rows) {
        const out = runSteps(mid, row, counting);
        if (out) kept.push(out);
      }
      const filteredRows = counting.filteredRows;
      if (!aggregate) return { partial: null, rows: kept, filteredRows };
      const partial = emptyPartialGroups();
      const index = new Map<string, number>();
      for (const row of kept) accumulate(row, partial, index);
      return { partial, rows: [], filteredRows };
    },
    finish(rows) {
      const out: Row[] = [];
      for (const row of rows) {
        const r = runSteps(post, row, null);
        if (r) out.push(r);
      }
      return aggregate || dedup ? orderRows(out, plan) : out;
    },
  };
}

