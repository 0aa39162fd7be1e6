// The Tasks tab: one batch's task timeline per worker, rows per partition (skew) and where its time went.
import { describeStage, diagnoseBatch, PHASES, stageStats } from '../../bottleneck.js';
import type { ProgressRecord, TaskProgress } from '../../progress.js';
import { barChart, legend, PALETTE, timelineChart, type TimelineItem, type TimelineLane } from './charts.js';
import { esc, int, ms, percent, wallClock } from './format.js';
import { card, PHASE_COLORS } from './page-streaming.js';
import type { AppState } from './state.js';
import { BatchPicker } from './batch-picker.js';

const STAGE_COLORS = { 1: PHASE_COLORS['scan']!, 2: PHASE_COLORS['stateful']! } as const;

/**
 * Lays a batch out in time, in ms from its start. Task times come from the workers' clocks; the
 * main thread's phases are anchored on the first stage-1 dispatch (startedAt - queue wait).
 */
export function batchTimeline(p: ProgressRecord): { lanes: TimelineLane[]; totalMs: number } {
  const d = p.durationMs;
  const phaseSum = PHASES.reduce((n, ph) => n + d[ph.name], 0);
  const hooksMs = Math.max(0, d.total - phaseSum); // before-batch hooks: in total, in no phase
  const tasks = p.kindling.tasks;
  const dispatch = (t: TaskProgress): number => t.startedAtMs - t.queueWaitMs;
  const s1 = tasks.filter((t) => t.stage === 1);
  const s2 = tasks.filter((t) => t.stage === 2);
  let originMs: number;
  if (s1.length > 0) originMs = Math.min(...s1.map(dispatch)) - d.source - hooksMs;
  else if (s2.length > 0) originMs = Math.min(...s2.map(dispatch)) - d.source - hooksMs - d.scan - d.shuffle;
  else originMs = 0;

  const main: TimelineItem[] = [];
  let at = 0;
  for (const ph of PHASES) {
    const len = d[ph.name] + (ph.name === 'source' ? hooksMs : 0);
    if (len > 0) main.push({ startMs: at, endMs: at + len, color: PHASE_COLORS[ph.name]!, kind: 'phase', label: ph.name, title: `${ph.label}: ${ms(d[ph.name])}${ph.name === 'source' && hooksMs > 0.05 ? ` (+ ${ms(hooksMs)} before-batch hooks)` : ''}` });
    at += len;
  }
  const workers = new Map<number, TimelineItem[]>(p.kindling.workers.map((w) => [w.workerId, []]));
  const busyUntil = new Map<number, number>();
  let end = d.total;
  for (const t of [...tasks].sort((a, b) => a.startedAtMs - b.startedAtMs)) {
    const items = workers.get(t.workerId) ?? [];
    workers.set(t.workerId, items);
    const start = t.startedAtMs - originMs;
    const what = t.stage === 1 ? `split ${t.splitIndex}` : t.partitionId === null ? 'drain (all its partitions)' : `partition ${t.partitionId}`;
    // A task queued behind another on its worker waited for it too; draw only the idle part of the
    // wait (messages, thread wake-up), which is the overhead. Stage-2 partitions share one message.
    const waitFrom = Math.max(start - t.queueWaitMs, busyUntil.get(t.workerId) ?? -Infinity);
    if (start - waitFrom > 0) items.push({ startMs: waitFrom, endMs: start, color: STAGE_COLORS[t.stage], kind: 'wait', title: `${what}: waited ${ms(t.queueWaitMs)} between dispatch and start (${ms(start - waitFrom)} of it with the worker idle)` });
    busyUntil.set(t.workerId, start + t.durationMs);
    items.push({
      startMs: start,
      endMs: start + t.durationMs,
      color: STAGE_COLORS[t.stage],
      kind: 'task',
      label: t.stage === 1 ? `s${t.splitIndex}` : t.partitionId === null ? 'drain' : `p${t.partitionId}`,
      title: `stage ${t.stage} · ${what} · worker ${t.workerId}\n${int(t.rows)} ${t.stage === 1 ? 'records scanned' : 'partial rows merged'} in ${ms(t.durationMs)}\nqueue wait ${ms(t.queueWaitMs)}`,
    });
    end = Math.max(end, start + t.durationMs);
  }
  const lanes: TimelineLane[] = [{ label: 'main thread', items: main }];
  for (const [id, items] of [...workers].sort((a, b) => a[0] - b[0])) lanes.push({ label: `worker ${id}`, items });
  return { lanes, totalMs: end };
}

function stageTable(p: ProgressRecord): string {
  const workers = p.kindling.workers.length;
  const rows = ([1, 2] as const).map((stage) => {
    const s = stageStats(p, stage);
    const v = describeStage(s, workers);
    return `<tr><td><span class="swatch" style="--c:${STAGE_COLORS[stage]}"></span>stage ${stage} (${stage === 1 ? 'scan' : 'stateful'})</td><td data-testid="stage${stage}-tasks">${int(s.tasks)}</td><td>${ms(s.wallMs)}</td><td>${ms(s.meanTaskMs)}</td><td>${ms(s.maxTaskMs)}</td><td>${ms(s.meanQueueWaitMs)}</td><td>${int(s.rows)}</td><td>${percent(s.busyShare)}</td><td class="verdict ${v.verdict}">${esc(v.detail)}</td></tr>`;
  });
  return `<table class="table stages"><thead><tr><th>stage</th><th>tasks</th><th>wall time</th><th>mean task</th><th>max task</th><th>mean queue wait</th><th>rows</th><th>workers busy</th><th>reading</th></tr></thead><tbody>${rows.join('')}</tbody></table>${sparkTaskCount(p)}`;
}

/** Stage 2 as Spark would run it: one task per shuffle partition every batch, empty or not. */
function sparkTaskCount(p: ProgressRecord): string {
  const partitions = p.stateOperators[0]?.numShufflePartitions;
  if (partitions === undefined) return '';
  const ran = stageStats(p, 2).tasks;
  const empty = partitions - ran;
  return `<p class="hint" data-testid="spark-tasks" data-spark-tasks="${partitions}">Stage 2 lists ${int(ran)} of the ${int(partitions)} partitions: ${
    empty > 0 ? `the other ${int(empty)} received, emitted and evicted nothing this batch, so Kindling gives them no task (each worker steps all its partitions in one message). ` : ''
  }Spark would run <strong>${int(partitions)}</strong> stage-2 tasks (<code>spark.sql.shuffle.partitions</code>), empty or not, each a scheduled task with its own overhead.</p>`;
}

function rowsPerPartition(p: ProgressRecord): string {
  const n = p.stateOperators[0]?.numShufflePartitions ?? 0;
  const rows = Array.from({ length: n }, () => 0);
  for (const t of p.kindling.tasks) if (t.stage === 2 && t.partitionId !== null && t.partitionId < n) rows[t.partitionId] = t.rows;
  const total = rows.reduce((a, b) => a + b, 0);
  const mean = n > 0 ? total / n : 0;
  const max = Math.max(0, ...rows);
  const skew = mean > 0 ? max / mean : 0;
  const chart = barChart({ id: 'partition-rows', xLabels: rows.map((_, i) => `partition ${i}`), xTicks: rows.map((_, i) => `p${i}`), integer: true, yFormat: (v) => int(v), series: [{ name: 'partial rows', color: STAGE_COLORS[2], values: rows }], height: 170 });
  return card('Rows per partition (stage 2)', mean > 0 ? `max ${skew.toFixed(1)}x the mean` : 'no rows', 'Partial rows each partition merged into its state. Even bars: keys spread well; one tall bar: skew, and the worker that owns it works longest.', chart);
}

function rowsPerSplit(p: ProgressRecord): string {
  const s1 = p.kindling.tasks.filter((t) => t.stage === 1).sort((a, b) => (a.splitIndex ?? 0) - (b.splitIndex ?? 0));
  const chart = barChart({ id: 'split-rows', xLabels: s1.map((t) => `split ${t.splitIndex} · worker ${t.workerId}`), xTicks: s1.map((t) => `s${t.splitIndex}`), integer: true, yFormat: (v) => int(v), series: [{ name: 'records', color: STAGE_COLORS[1], values: s1.map((t) => t.rows) }], height: 170 });
  return card('Records per split (stage 1)', `${int(s1.length)} split${s1.length === 1 ? '' : 's'}`, 'Each split is one scan task: raw records parsed, filtered and pre-aggregated on any free worker.', chart);
}

/** The Tasks tab; it keeps its batch picker between updates so a choice survives new batches. */
export class TasksPage {
  private readonly picker: BatchPicker;
  private readonly body: HTMLElement;

  constructor(el: HTMLElement) {
    el.innerHTML = `<div class="controls"><label>Batch <select data-testid="batch-picker"></select></label><span class="hint">Pick a batch, or “latest” to follow the run.</span></div><div class="tasks-body"></div>`;
    this.picker = new BatchPicker(el.querySelector('select')!, (r) => `batch ${r.batchId} · ${int(r.numInputRows)} rows · ${ms(r.durationMs.total)}${r.kindling.noDataBatch ? ' · no-data' : ''}`, () => this.onChange?.());
    this.body = el.querySelector('.tasks-body')!;
  }

  /** Called when the user picks a batch. */
  onChange: (() => void) | null = null;

  /** Redraws for the current records. */
  update(s: AppState): void {
    const p = this.picker.pick(s.records);
    if (!p) {
      this.body.innerHTML = '<p class="empty-page">No batch yet.</p>';
      return;
    }
    const dx = diagnoseBatch(p);
    const { lanes, totalMs } = batchTimeline(p);
    const timelineLegend = legend([
      ...PHASES.filter((ph) => p!.durationMs[ph.name] > 0).map((ph) => ({ name: ph.label, color: PHASE_COLORS[ph.name]! })),
      { name: 'waiting, worker idle', color: PALETTE[9]!, dashed: true },
    ]);
    this.body.innerHTML = `
      <div class="callout ${dx.verdict}" data-testid="bottleneck" data-batch="${p.batchId}"><strong>Batch ${p.batchId}</strong> <span class="muted">${wallClock(Date.parse(p.timestamp))} · ${int(p.numInputRows)} rows · ${ms(p.durationMs.total)}</span><br>${esc(dx.sentence)}</div>
      ${stageTable(p)}
      <section class="card wide"><header><h3>Timeline of batch ${p.batchId}</h3><span class="card-value">${int(p.kindling.tasks.length)} tasks on ${int(p.kindling.workers.length)} workers</span></header>
        <p class="hint">Top lane: the main thread's phases. Below: each worker's tasks (s = stage-1 split, p = stage-2 partition); the pale part before a task is time it waited with its worker idle (messages between threads). Hover for details. Many slivers with gaps between them are overhead; one long bar alone is skew.</p>
        ${timelineLegend}${timelineChart('timeline', lanes, totalMs, (v) => (v === 0 ? '0' : ms(v)))}</section>
      <div class="grid">${rowsPerPartition(p)}${rowsPerSplit(p)}</div>`;
  }
}
