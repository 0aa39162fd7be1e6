// The Workers tab: utilisation per worker and per CPU core, and memory used vs available.
import type { ProgressRecord } from '../../progress.js';
import { lineChart, meter, PALETTE, type Series } from './charts.js';
import { bytes, esc, int, ms, percent, wallClock } from './format.js';
import { card, xAxis } from './page-streaming.js';
import { latestWithData, type AppState } from './state.js';

const POINTS = 120;

function workerTable(rs: readonly ProgressRecord[]): string {
  const totals = new Map<number, { tasks: number; busyMs: number; wallMs: number }>();
  for (const r of rs) {
    for (const w of r.kindling.workers) {
      const t = totals.get(w.workerId) ?? { tasks: 0, busyMs: 0, wallMs: 0 };
      t.tasks += w.tasks;
      t.busyMs += w.busyMs;
      t.wallMs += r.durationMs.total;
      totals.set(w.workerId, t);
    }
  }
  const rows = [...totals].sort((a, b) => a[0] - b[0]).map(([id, t]) => `<tr><td>worker ${id}</td><td>${int(t.tasks)}</td><td>${ms(t.busyMs)}</td><td>${percent(t.wallMs > 0 ? t.busyMs / t.wallMs : 0)}</td></tr>`);
  return `<table class="table"><thead><tr><th>worker</th><th>tasks</th><th>busy time</th><th>busy share of batch time</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** The Workers tab. */
export function renderWorkers(s: AppState): string {
  const rs = s.records.slice(-POINTS);
  const axis = xAxis(rs);
  const p = latestWithData(rs);
  if (!p) return '<p class="empty-page">No batch yet.</p>';
  const last = rs[rs.length - 1]!;
  const workerIds = p.kindling.workers.map((w) => w.workerId);

  const util: Series[] = [
    ...workerIds.map((id, i) => ({ name: `worker ${id}`, color: PALETTE[i % PALETTE.length]!, values: rs.map((r) => (r.kindling.noDataBatch ? null : (r.kindling.workers.find((w) => w.workerId === id)?.utilisation ?? 0) * 100)) })),
    { name: 'main thread', color: '#555', values: rs.map((r) => r.kindling.mainThreadUtilisation * 100), dashed: true },
  ];
  const cores = last.system?.cpu?.coresLoadPercent.length ?? 0;
  const cpu: Series[] = [
    ...Array.from({ length: cores }, (_, i) => ({ name: `core ${i}`, color: PALETTE[(i + 4) % PALETTE.length]!, values: rs.map((r) => r.system?.cpu?.coresLoadPercent[i] ?? null) })),
    { name: 'whole machine', color: '#555', values: rs.map((r) => r.system?.cpu?.loadPercent ?? null), dashed: true },
  ];
  const mb = (b: number | undefined): number | null => (b === undefined ? null : b / 1024 ** 2);
  const mem: Series[] = [
    { name: 'RSS (all threads)', color: PALETTE[3]!, values: rs.map((r) => mb(r.system?.process.rssBytes)) },
    { name: 'heap total (main)', color: PALETTE[0]!, values: rs.map((r) => mb(r.system?.process.heapTotalBytes)), dashed: true },
    { name: 'heap used (main)', color: PALETTE[0]!, values: rs.map((r) => mb(r.system?.process.heapUsedBytes)) },
  ];
  const sys = last.system;
  const workerMeters = p.kindling.workers.map((w, i) => `<div class="meter-row"><span>worker ${w.workerId}</span>${meter(w.utilisation, `${percent(w.utilisation)} busy · ${int(w.tasks)} task${w.tasks === 1 ? '' : 's'} · ${ms(w.busyMs)}`, PALETTE[i % PALETTE.length])}</div>`);
  workerMeters.push(`<div class="meter-row"><span>main thread</span>${meter(p.kindling.mainThreadUtilisation, `${percent(p.kindling.mainThreadUtilisation)} busy`, '#777')}</div>`);
  const coreMeters = (sys?.cpu?.coresLoadPercent ?? []).map((load, i) => `<div class="meter-row"><span>core ${i}</span>${meter(load / 100, `${Math.round(load)}%`, PALETTE[(i + 4) % PALETTE.length])}</div>`);
  const memMeters: string[] = [];
  if (sys?.memory) {
    memMeters.push(`<div class="meter-row"><span>machine</span>${meter(sys.memory.usedBytes / sys.memory.totalBytes, `${bytes(sys.memory.usedBytes)} used of ${bytes(sys.memory.totalBytes)} · ${bytes(sys.memory.availableBytes)} available`, PALETTE[6])}</div>`);
    memMeters.push(`<div class="meter-row"><span>Kindling</span>${meter(sys.process.rssBytes / sys.memory.totalBytes, `RSS ${bytes(sys.process.rssBytes)} of ${bytes(sys.memory.totalBytes)}`, PALETTE[3])}</div>`);
  }
  if (sys) memMeters.push(`<div class="meter-row"><span>main heap</span>${meter(sys.process.heapUsedBytes / Math.max(1, sys.process.heapTotalBytes), `${bytes(sys.process.heapUsedBytes)} used of ${bytes(sys.process.heapTotalBytes)}`, PALETTE[0])}</div>`);

  return `<div class="grid">
    <section class="card"><header><h3>Now: batch ${p.batchId}</h3><span class="card-value">${esc(wallClock(Date.parse(p.timestamp)))}</span></header>
      <p class="hint">Busy = time running tasks / the batch's wall time. Two workers on a 2-core laptop can use both cores; the main thread needs some too.</p>
      <div class="meters" data-testid="worker-meters">${workerMeters.join('')}</div>
      <h4>CPU cores ${sys?.cpu ? '' : '<span class="muted">(sampling…)</span>'}</h4><div class="meters">${coreMeters.join('')}</div>
      <h4>Memory</h4><div class="meters">${memMeters.join('') || '<span class="muted">not sampled</span>'}</div>
    </section>
    ${card('Utilisation per worker', percent(p.kindling.workers.reduce((a, w) => a + w.utilisation, 0) / Math.max(1, p.kindling.workers.length)) + ' mean', 'Share of each batch a worker spent running tasks. Low everywhere: the workers wait for the main thread or for input.', lineChart({ id: 'worker-utilisation', ...axis, yFormat: (v) => `${Math.round(v)}%`, series: util, yMax: 100 }), util)}
    ${card('CPU load per core', sys?.cpu ? `${Math.round(sys.cpu.loadPercent)}% machine` : 'sampling…', 'All processes on the machine, from the OS\u2019s CPU times, sampled every second in the background. A container\u2019s CPU quota is not visible here.', lineChart({ id: 'cpu-cores', ...axis, yFormat: (v) => `${Math.round(v)}%`, series: cpu, yMax: 100 }), cpu)}
    ${card('Process memory', sys ? `RSS ${bytes(sys.process.rssBytes)}` : '', 'RSS counts every thread (main and workers); the V8 heap shown is the main thread\u2019s. The state itself lives in the workers.', lineChart({ id: 'memory', ...axis, yFormat: (v) => `${Math.round(v)} MB`, series: mem }), mem)}
  </div>
  <section class="card wide"><header><h3>Workers over the last ${int(rs.length)} batches</h3></header>${workerTable(rs)}</section>`;
}
