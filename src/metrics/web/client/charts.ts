// Hand-drawn SVG charts for the web page: lines, (stacked) bars, a task timeline and meters (browser module).
import { esc } from './format.js';

/** One line or bar series; null values are gaps. */
export interface Series {
  readonly name: string;
  readonly color: string;
  readonly values: ReadonlyArray<number | null>;
  readonly dashed?: boolean;
}

/** What every over-time chart needs: an id for tests, x labels (one per point) and a y formatter. */
export interface ChartOptions {
  readonly id: string;
  readonly xLabels: readonly string[];
  /** Short labels under the x axis (a few are shown); default: xLabels. */
  readonly xTicks?: readonly string[];
  /** Counts: ticks on whole numbers only. */
  readonly integer?: boolean;
  readonly yFormat: (v: number) => string;
  readonly series: readonly Series[];
  readonly height?: number;
  /** Fixed top of the y axis (e.g. 100 for percentages); otherwise from the data. */
  readonly yMax?: number;
  /** A horizontal reference line, e.g. the trigger interval. */
  readonly reference?: { readonly value: number; readonly label: string };
}

const W = 640;
const PAD = { left: 58, right: 14, top: 12, bottom: 26 };

/** Tableau-10: distinguishable, and kind to colour-blind readers. */
export const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

/** A step of 1, 2 or 5 x 10^k that splits [0, max] into about `ticks` parts. */
export function niceStep(max: number, ticks = 4): number {
  if (!(max > 0)) return 1;
  const raw = max / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

function frame(o: ChartOptions, top: number, n: number): { h: number; x: (i: number) => number; y: (v: number) => number; svg: string[]; slot: number } {
  const h = o.height ?? 200;
  const plotW = W - PAD.left - PAD.right;
  const plotH = h - PAD.top - PAD.bottom;
  const slot = plotW / Math.max(1, n);
  const x = (i: number): number => PAD.left + slot * (i + 0.5);
  const y = (v: number): number => PAD.top + plotH - (Math.max(0, v) / top) * plotH;
  const svg: string[] = [];
  const step = stepOf(o, top);
  for (let v = 0; v <= top + step * 1e-9; v += step) {
    const yy = y(v).toFixed(1);
    svg.push(`<line class="grid" x1="${PAD.left}" x2="${W - PAD.right}" y1="${yy}" y2="${yy}"/>`);
    svg.push(`<text class="tick" x="${PAD.left - 6}" y="${yy}" text-anchor="end" dominant-baseline="middle">${esc(o.yFormat(v))}</text>`);
  }
  const labelEvery = Math.max(1, Math.ceil(n / 6));
  let previous = '';
  for (let i = 0; i < n; i += labelEvery) {
    const tick = (o.xTicks ?? o.xLabels)[i] ?? '';
    if (tick === previous) continue; // several batches in one second: label the second once
    previous = tick;
    svg.push(`<text class="tick" x="${x(i).toFixed(1)}" y="${h - 8}" text-anchor="middle">${esc(tick)}</text>`);
  }
  return { h, x, y, svg, slot };
}

function stepOf(o: ChartOptions, max: number): number {
  const step = niceStep(max);
  return o.integer ? Math.max(1, Math.round(step)) : step;
}

function topOf(o: ChartOptions, dataMax: number): number {
  const max = Math.max(o.yMax ?? 0, dataMax, o.reference?.value ?? 0);
  const step = stepOf(o, max);
  return Math.max(step, Math.ceil(max / step - 1e-9) * step);
}

function hover(o: ChartOptions, i: number, x: number, slot: number, h: number): string {
  const lines = [o.xLabels[i] ?? '', ...o.series.map((s) => `${s.name}: ${s.values[i] === null || s.values[i] === undefined ? '–' : o.yFormat(s.values[i]!)}`)];
  return `<rect class="hit" x="${(x - slot / 2).toFixed(1)}" y="${PAD.top}" width="${slot.toFixed(2)}" height="${h - PAD.top - PAD.bottom}"><title>${esc(lines.join('\n'))}</title></rect>`;
}

function reference(o: ChartOptions, y: (v: number) => number): string {
  if (!o.reference) return '';
  const yy = y(o.reference.value).toFixed(1);
  return `<line class="ref" x1="${PAD.left}" x2="${W - PAD.right}" y1="${yy}" y2="${yy}"/><text class="ref-label" x="${W - PAD.right - 4}" y="${Number(yy) - 4}" text-anchor="end">${esc(o.reference.label)}</text>`;
}

function wrap(o: ChartOptions, h: number, n: number, body: string): string {
  const empty = n === 0 ? `<text class="empty" x="${W / 2}" y="${h / 2}" text-anchor="middle">waiting for the first batch…</text>` : '';
  return `<svg class="chart" data-chart="${esc(o.id)}" data-points="${n}" viewBox="0 0 ${W} ${h}" role="img" aria-label="${esc(o.id)}">${body}${empty}</svg>`;
}

/** Lines over batches, one path per series, with a hover column per point. */
export function lineChart(o: ChartOptions): string {
  const n = Math.max(0, ...o.series.map((s) => s.values.length));
  const dataMax = Math.max(0, ...o.series.flatMap((s) => s.values.filter((v): v is number => v !== null)));
  const f = frame(o, topOf(o, dataMax), n);
  const parts = [...f.svg, reference(o, f.y)];
  for (const s of o.series) {
    let d = '';
    let pen = false;
    s.values.forEach((v, i) => {
      if (v === null) {
        pen = false;
        return;
      }
      d += `${pen ? 'L' : 'M'}${f.x(i).toFixed(1)} ${f.y(v).toFixed(1)}`;
      pen = true;
    });
    if (d) parts.push(`<path class="line" d="${d}" stroke="${s.color}"${s.dashed ? ' stroke-dasharray="5 4"' : ''}/>`);
    if (n <= 60) {
      s.values.forEach((v, i) => {
        if (v !== null) parts.push(`<circle class="dot" cx="${f.x(i).toFixed(1)}" cy="${f.y(v).toFixed(1)}" r="2.4" fill="${s.color}"/>`);
      });
    }
  }
  for (let i = 0; i < n; i++) parts.push(hover(o, i, f.x(i), f.slot, f.h));
  return wrap(o, f.h, n, parts.join(''));
}

/** Bars per batch; several series are stacked bottom-up in the given order. */
export function barChart(o: ChartOptions): string {
  const n = Math.max(0, ...o.series.map((s) => s.values.length));
  let dataMax = 0;
  for (let i = 0; i < n; i++) dataMax = Math.max(dataMax, o.series.reduce((sum, s) => sum + (s.values[i] ?? 0), 0));
  const f = frame(o, topOf(o, dataMax), n);
  const parts = [...f.svg];
  const barW = Math.max(0.8, f.slot * 0.72);
  for (let i = 0; i < n; i++) {
    let base = 0;
    for (const s of o.series) {
      const v = s.values[i] ?? 0;
      if (v <= 0) continue;
      const y0 = f.y(base);
      const y1 = f.y(base + v);
      parts.push(`<rect class="bar" x="${(f.x(i) - barW / 2).toFixed(2)}" y="${y1.toFixed(2)}" width="${barW.toFixed(2)}" height="${Math.max(0.5, y0 - y1).toFixed(2)}" fill="${s.color}"/>`);
      base += v;
    }
  }
  parts.push(reference(o, f.y));
  for (let i = 0; i < n; i++) parts.push(hover(o, i, f.x(i), f.slot, f.h));
  return wrap(o, f.h, n, parts.join(''));
}

/** A legend: colour swatches and names. */
export function legend(series: ReadonlyArray<{ readonly name: string; readonly color: string; readonly dashed?: boolean }>): string {
  return `<div class="legend">${series.map((s) => `<span><i class="${s.dashed ? 'dashed' : ''}" style="--c:${s.color}"></i>${esc(s.name)}</span>`).join('')}</div>`;
}

/** One bar of a timeline lane, in ms from the lane's origin. */
export interface TimelineItem {
  readonly startMs: number;
  readonly endMs: number;
  readonly color: string;
  readonly title: string;
  /** `wait`: queue wait before a task, drawn hatched; `phase`: a main-thread phase. */
  readonly kind: 'task' | 'wait' | 'phase';
  readonly label?: string;
}

/** A row of the timeline: the main thread or one worker. */
export interface TimelineLane {
  readonly label: string;
  readonly items: readonly TimelineItem[];
}

/** A Gantt chart of one batch: who ran what, when, for how long, and how long it waited. */
export function timelineChart(id: string, lanes: readonly TimelineLane[], totalMs: number, msFormat: (v: number) => string, width = 1160): string {
  const left = 100;
  const laneH = 30;
  const top = 8;
  const h = top + lanes.length * laneH + 28;
  const plotW = width - left - PAD.right;
  const span = Math.max(totalMs, 1e-3);
  const x = (t: number): number => left + (Math.max(0, Math.min(span, t)) / span) * plotW;
  const parts: string[] = [];
  const step = niceStep(span, 6);
  for (let t = 0; t <= span + step * 1e-9; t += step) {
    const xx = x(t).toFixed(1);
    parts.push(`<line class="grid" x1="${xx}" x2="${xx}" y1="${top}" y2="${h - 24}"/><text class="tick" x="${xx}" y="${h - 8}" text-anchor="middle">${esc(msFormat(t))}</text>`);
  }
  let count = 0;
  lanes.forEach((lane, i) => {
    const y = top + i * laneH;
    parts.push(`<text class="lane" x="${left - 8}" y="${y + laneH / 2}" text-anchor="end" dominant-baseline="middle">${esc(lane.label)}</text>`);
    parts.push(`<rect class="lane-bg" x="${left}" y="${y + 3}" width="${plotW}" height="${laneH - 6}"/>`);
    for (const it of lane.items) {
      const x0 = x(it.startMs);
      const w = Math.max(1, x(it.endMs) - x0);
      const inset = it.kind === 'wait' ? 10 : 5;
      const cls = it.kind === 'wait' ? 'wait' : it.kind === 'phase' ? 'phase' : 'task';
      if (it.kind === 'task') count++;
      parts.push(
        `<rect class="${cls}" x="${x0.toFixed(2)}" y="${y + inset}" width="${w.toFixed(2)}" height="${laneH - 2 * inset}" fill="${it.color}"><title>${esc(it.title)}</title></rect>`,
      );
      if (it.label && w > it.label.length * 6.5 + 6) {
        parts.push(`<text class="bar-label" x="${(x0 + w / 2).toFixed(1)}" y="${y + laneH / 2}" text-anchor="middle" dominant-baseline="middle">${esc(it.label)}</text>`);
      }
    }
  });
  return `<svg class="chart timeline" data-chart="${esc(id)}" data-points="${count}" viewBox="0 0 ${width} ${h}" role="img" aria-label="${esc(id)}">${parts.join('')}</svg>`;
}

/** A horizontal meter 0..1 with a label on it. */
export function meter(share: number, label: string, color = PALETTE[0]!): string {
  const p = Math.max(0, Math.min(1, share)) * 100;
  return `<div class="meter" title="${esc(label)}"><span style="width:${p.toFixed(1)}%;background:${color}"></span><em>${esc(label)}</em></div>`;
}
