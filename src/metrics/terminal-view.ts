// Renders the live terminal view: a dozen lines about the latest batch, the recent rate and the machine (pure).
import { diagnoseBatch, formatMs, PHASES } from './bottleneck.js';
import type { ProgressRecord } from './progress.js';
import { firstRowsStatus, type WindowedQuery } from './first-rows.js';
import { consumerLag, watermarkText } from './summary.js';

/** What the view remembers between batches: recent rates, totals and the highest event time seen. */
export class ViewHistory {
  readonly processedRates: number[] = [];
  batches = 0;
  rowsIn = 0;
  lateRows = 0;
  rejected = 0;
  rowsOut = 0;
  maxEventTimeMs: number | null = null;
  /** Max event time of the first batch that had one: where the first windows opened. */
  firstEventTimeMs: number | null = null;
  /** The watermark the latest batch evicted with (its record's). */
  watermarkMs: number | null = null;

  constructor(private readonly keep = 40) {}

  /** Folds one record in. */
  add(p: ProgressRecord): void {
    this.batches++;
    this.rowsIn += p.numInputRows;
    this.lateRows += p.kindling.lateRows;
    this.rejected += p.kindling.rejected;
    this.rowsOut += p.sink.numOutputRows;
    const max = p.kindling.maxEventTimeMs;
    if (max !== null && (this.maxEventTimeMs === null || max > this.maxEventTimeMs)) this.maxEventTimeMs = max;
    if (max !== null && this.firstEventTimeMs === null) this.firstEventTimeMs = max;
    this.watermarkMs = p.kindling.watermarkMs;
    if (!p.kindling.noDataBatch) {
      this.processedRates.push(p.processedRowsPerSecond);
      if (this.processedRates.length > this.keep) this.processedRates.shift();
    }
  }
}

/** Until the query's first rows: how many windows are open and how far the watermark is from closing the oldest (null after). */
export function waitingForFirstRows(query: WindowedQuery, h: ViewHistory): string | null {
  return firstRowsStatus(query, { firstEventTimeMs: h.firstEventTimeMs, maxEventTimeMs: h.maxEventTimeMs, watermarkMs: h.watermarkMs, rowsOut: h.rowsOut });
}

/** How to draw: the terminal's width, colours on or off, and the web UI's address if it runs. */
export interface ViewOptions {
  readonly width: number;
  readonly color: boolean;
  readonly uiUrl: string | null;
  /** The query's window, watermark delay and mode: until its first rows, the view says when they can come. */
  readonly query?: WindowedQuery;
}

const n = (x: number): string => Math.round(x).toLocaleString('en-US');
const SPARKS = '▁▂▃▄▅▆▇█';

/** A sparkline of values scaled to their own maximum. */
export function sparkline(values: readonly number[]): string {
  const max = Math.max(0, ...values);
  return values.map((v) => SPARKS[max > 0 ? Math.min(7, Math.floor((v / max) * 7.999)) : 0]).join('');
}

/** A bar of `width` cells filled to `share` (0..1). */
export function bar(share: number, width: number): string {
  const cells = Math.round(Math.max(0, Math.min(1, share)) * width);
  return '█'.repeat(cells) + '░'.repeat(width - cells);
}

/** Bytes as KB/MB/GB (powers of 1024). */
export function bytes(b: number): string {
  if (b >= 1024 ** 3) return `${(b / 1024 ** 3).toFixed(1)} GB`;
  if (b >= 1024 ** 2) return `${(b / 1024 ** 2).toFixed(0)} MB`;
  if (b >= 1024) return `${(b / 1024).toFixed(0)} KB`;
  return `${b} B`;
}

/** Event time as HH:MM:SS.mmm (UTC), the part that changes during a run. */
const clock = (ms: number): string => new Date(ms).toISOString().slice(11, 23);

/** Visible length of a string that may hold ANSI colour codes. */
export function visibleLength(s: string): number {
  // eslint-disable-next-line no-control-regex
  return [...s.replace(/\x1b\[[0-9;]*m/g, '')].length;
}

/** Cuts a line to `width` visible characters, keeping colour codes intact and resetting at the end. */
export function fit(s: string, width: number): string {
  if (visibleLength(s) <= width) return s;
  let out = '';
  let seen = 0;
  for (let i = 0; i < s.length && seen < width - 1; ) {
    if (s[i] === '\x1b') {
      const end = s.indexOf('m', i);
      out += s.slice(i, end + 1);
      i = end + 1;
      continue;
    }
    const ch = String.fromCodePoint(s.codePointAt(i)!);
    out += ch;
    i += ch.length;
    seen++;
  }
  return out + (s.includes('\x1b[') ? '…\x1b[0m' : '…');
}

/** Renders the view for the latest record: one string per terminal line, each fitted to the width. */
export function renderTerminalView(p: ProgressRecord, h: ViewHistory, o: ViewOptions): string[] {
  const c = (code: string) => (s: string): string => (o.color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const bold = c('1');
  const dim = c('2');
  const cyan = c('36');
  const green = c('32');
  const yellow = c('33');
  const label = (s: string): string => dim(s.padEnd(10));
  const k = p.kindling;
  const lines: string[] = [];

  const url = o.uiUrl ? dim(` · web UI ${o.uiUrl}`) : '';
  lines.push(`${bold(cyan('Kindling'))} ${bold(p.name)} · batch ${bold(String(p.batchId))}${k.drained ? dim(' (drained)') : k.noDataBatch ? dim(' (no-data)') : ''} · ${n(h.rowsIn)} rows so far${url}`);

  const rates = h.processedRates.length > 1 ? `  ${green(sparkline(h.processedRates))}` : '';
  lines.push(`${label('rate')}in ${bold(n(p.inputRowsPerSecond))} rows/s · processed ${bold(n(p.processedRowsPerSecond))} rows/s${rates}`);

  const d = p.durationMs;
  const phases = PHASES.filter((ph) => d[ph.name] >= 0.05).map((ph) => `${ph.name} ${formatMs(d[ph.name]).replace(' ms', '')}`);
  lines.push(`${label('batch')}${n(p.numInputRows)} rows in ${bold(formatMs(d.total))}${phases.length ? dim(` = ${phases.join(' · ')} ms`) : ''}`);

  if (k.watermarkMs !== null) {
    const gap = h.maxEventTimeMs !== null && k.watermarkMs !== 0 ? `, ${((h.maxEventTimeMs - k.watermarkMs) / 1000).toFixed(1)} s behind max event time ${clock(h.maxEventTimeMs)}` : '';
    lines.push(`${label('watermark')}${k.watermarkMs === 0 ? watermarkText(0) : clock(k.watermarkMs)}${gap}`);
  }
  const waiting = o.query ? waitingForFirstRows(o.query, h) : null;
  if (waiting) {
    // Two lines (what is open; when the oldest is written), so an 80-column terminal shows all of it.
    const [open, ...rest] = waiting.split('; ');
    lines.push(`${label('waiting')}${yellow(open!)}`);
    if (rest.length > 0) lines.push(`${label('')}${yellow(rest.join('; '))}`);
  }
  const lag = consumerLag(p);
  if (lag !== null) lines.push(`${label('kafka lag')}${n(lag)} offsets behind the topic's end`);
  const latency = k.recordLatencyMs;
  if (latency) lines.push(`${label('latency')}p50 ${bold(formatMs(latency.p50))} · p99 ${bold(formatMs(latency.p99))} ${dim(`from Kafka timestamp to batch end (${n(latency.records)} records)`)}`);

  const st = p.stateOperators[0];
  const late = k.lateRows > 0 ? yellow(n(k.lateRows)) : n(k.lateRows);
  const state = st ? `${n(st.numRowsTotal)} rows (${n(st.numRowsUpdated)} updated, ${n(st.numRowsRemoved)} removed, ${bytes(st.memoryUsedBytes)})` : 'none';
  lines.push(`${label('state')}${state}`);
  lines.push(`${label('rows')}late ${late} (total ${n(h.lateRows)}) · rejected ${n(k.rejected)} · filtered ${n(k.filtered)} · out ${n(p.sink.numOutputRows)}`);

  for (const w of k.workers) {
    lines.push(`${label(`worker ${w.workerId}`)}${green(bar(w.utilisation, 20))} ${String(Math.round(w.utilisation * 100)).padStart(3)}% busy (of the batch) · ${n(w.tasks)} task${w.tasks === 1 ? '' : 's'}`);
  }
  const sys = p.system;
  const cores = sys?.cpu?.coresLoadPercent ?? [];
  const cpu = cores.map((load, i) => `${i} ${green(bar(load / 100, 8))} ${String(Math.round(load)).padStart(3)}%`).join('  ');
  lines.push(`${label('cpu')}${cpu || dim('sampling…')}  ${dim('main thread')} ${Math.round(k.mainThreadUtilisation * 100)}%`);
  if (sys) {
    const machine = sys.memory ? ` · machine ${bytes(sys.memory.usedBytes)} of ${bytes(sys.memory.totalBytes)} used` : '';
    lines.push(`${label('memory')}heap ${bytes(sys.process.heapUsedBytes)} of ${bytes(sys.process.heapTotalBytes)} · rss ${bytes(sys.process.rssBytes)}${machine}`);
  }
  lines.push(`${dim('→')} ${diagnoseBatch(p).sentence}`);
  return lines.map((line) => fit(line, Math.max(20, o.width - 1)));
}
