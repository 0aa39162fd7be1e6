// The Streaming tab: the headline numbers and, over time, rates, phases, rows, watermark gap, state and late rows.
import { PHASES } from '../../bottleneck.js';
import type { ProgressRecord } from '../../progress.js';
import { barChart, legend, lineChart, PALETTE, type Series } from './charts.js';
import { compact, esc, eventClock, int, ms, seconds, wallClock } from './format.js';
import { firstRowsNote, firstRowsStatus } from '../../first-rows.js';
import { latestWithData, runningMaxEventTime, type AppState } from './state.js';

/** Colours of the batch phases, shared by the Streaming and Tasks tabs. */
export const PHASE_COLORS: Record<string, string> = {
  source: '#9aa5b1',
  scan: PALETTE[0]!,
  shuffle: PALETTE[1]!,
  stateful: PALETTE[2]!,
  merge: PALETTE[6]!,
  sink: PALETTE[3]!,
  checkpoint: PALETTE[8]!,
};

/** Points shown in the over-time charts. */
const POINTS = 120;

function kpi(id: string, label: string, value: string, raw: number | string | null, sub = ''): string {
  return `<div class="kpi"><div class="kpi-label">${esc(label)}</div><div class="kpi-value" data-testid="kpi-${id}" data-value="${esc(raw ?? '')}">${value}</div><div class="kpi-sub">${sub}</div></div>`;
}

/** The headline strip shown above every tab: the latest batch with input, and the run's totals. */
export function renderKpis(s: AppState): string {
  const rs = s.records;
  const p = latestWithData(rs);
  if (!p) {
    // Until the event stream answers, the page does not know yet whether batches ran.
    const [label, value, sub] =
      s.link === 'connecting'
        ? ['Connecting', 'connecting to the engine…', 'the page follows the run over server-sent events']
        : s.link === 'live'
          ? ['Waiting', 'no batch yet', 'the first progress record arrives when the first batch ends']
          : ['No batches', 'no batch was recorded', s.link === 'ended' ? 'the run finished before its first batch' : 'the engine is not answering'];
    return `<div class="kpis" data-testid="kpi-strip" data-batch=""><div class="kpi wide"><div class="kpi-label">${label}</div><div class="kpi-value" data-testid="kpi-waiting">${value}</div><div class="kpi-sub">${sub}</div></div></div>`;
  }
  const last = rs[rs.length - 1]!;
  const late = rs.reduce((n, r) => n + r.kindling.lateRows, 0);
  const maxes = runningMaxEventTime(rs);
  const max = maxes[maxes.length - 1] ?? null;
  const wm = last.kindling.watermarkMs;
  const keepsUp = p.processedRowsPerSecond >= p.inputRowsPerSecond;
  return `<div class="kpis" data-testid="kpi-strip" data-batch="${p.batchId}">
    ${kpi('batch', 'Batch', `#${p.batchId}`, p.batchId, `${wallClock(Date.parse(p.timestamp))} · ${int(last.batchId + 1)} batches`)}
    ${kpi('input-rows', 'Input rows', int(p.numInputRows), p.numInputRows, 'in this batch')}
    ${kpi('input-rate', 'Input rate', `${compact(p.inputRowsPerSecond)}<small>/s</small>`, p.inputRowsPerSecond, 'rows arriving')}
    ${kpi('process-rate', 'Process rate', `${compact(p.processedRowsPerSecond)}<small>/s</small>`, p.processedRowsPerSecond, keepsUp ? '<span class="good">keeps up with input</span>' : '<span class="warn">slower than input</span>')}
    ${kpi('duration', 'Batch duration', ms(p.durationMs.total), p.durationMs.total, `${int(p.kindling.tasks.length)} tasks`)}
    ${kpi('watermark', 'Watermark', wm === null ? '–' : wm === 0 ? 'none yet' : eventClock(wm).slice(0, 8), wm, wm === null ? 'query has no watermark' : wm === 0 ? 'no matching event has moved it' : max !== null ? `UTC · ${seconds(max - wm)} behind max` : 'UTC')}
    ${kpi('state-rows', 'State rows', int(last.stateOperators[0]?.numRowsTotal ?? 0), last.stateOperators[0]?.numRowsTotal ?? 0, 'open groups')}
    ${kpi('late-rows', 'Late rows', int(late), late, `in the last ${int(rs.length)} batches`)}
    ${p.kindling.recordLatencyMs ? kpi('record-latency', 'Record latency p99', ms(p.kindling.recordLatencyMs.p99), p.kindling.recordLatencyMs.p99, `p50 ${ms(p.kindling.recordLatencyMs.p50)} · Kafka timestamp → batch end`) : ''}
  </div>${firstRowsCallout(s)}`;
}

/** Until an append query's first rows: when they can come, and how far the watermark still is (needs batch 0 in view). */
function firstRowsCallout(s: AppState): string {
  const rs = s.records;
  if (!s.config || rs[0]?.batchId !== 0) return '';
  const maxes = runningMaxEventTime(rs);
  const status = firstRowsStatus(s.config.query, {
    firstEventTimeMs: rs.find((r) => r.kindling.maxEventTimeMs !== null)?.kindling.maxEventTimeMs ?? null,
    maxEventTimeMs: maxes[maxes.length - 1] ?? null,
    watermarkMs: rs[rs.length - 1]!.kindling.watermarkMs,
    rowsOut: rs.reduce((n, r) => n + r.sink.numOutputRows, 0),
  });
  if (status === null) return '';
  return `<div class="callout" data-testid="first-rows">${esc(status)}<br><span class="muted">${esc(firstRowsNote(s.config.query) ?? '')}</span></div>`;
}

/** A chart card: title, the latest value, a hint for students, the chart and its legend. */
export function card(title: string, value: string, hint: string, chart: string, series?: ReadonlyArray<{ name: string; color: string; dashed?: boolean }>): string {
  return `<section class="card"><header><h3>${esc(title)}</h3><span class="card-value">${value}</span></header><p class="hint">${hint}</p>${series ? legend(series) : ''}${chart}</section>`;
}

/** Hover labels (batch and time) and axis ticks (time) for charts over batches. */
export function xAxis(rs: readonly ProgressRecord[]): { xLabels: string[]; xTicks: string[] } {
  const xTicks = rs.map((r) => wallClock(Date.parse(r.timestamp)));
  return { xLabels: rs.map((r, i) => `batch ${r.batchId} · ${xTicks[i]}`), xTicks };
}

/** The Streaming tab, like Spark's Structured Streaming statistics page. */
export function renderStreaming(s: AppState): string {
  const rs = s.records.slice(-POINTS);
  const axis = xAxis(rs);
  const triggerMs = Number(s.config?.settings['triggerMs'] ?? 0);
  const last = rs[rs.length - 1];
  const data = latestWithData(rs);

  const rates: Series[] = [
    { name: 'input rate', color: PALETTE[0]!, values: rs.map((r) => r.inputRowsPerSecond) },
    { name: 'process rate', color: PALETTE[1]!, values: rs.map((r) => (r.kindling.noDataBatch ? null : r.processedRowsPerSecond)) },
  ];
  const phases: Series[] = PHASES.map((ph) => ({ name: ph.label, color: PHASE_COLORS[ph.name]!, values: rs.map((r) => r.durationMs[ph.name]) }));
  const maxes = runningMaxEventTime(rs);
  const gap: Series[] = [
    // A watermark of 0 is the initial one (Spark's 1970-01-01, before any event moved it): no gap to plot, not 56 years of one.
    { name: 'watermark gap', color: PALETTE[4]!, values: rs.map((r, i) => (r.kindling.watermarkMs === null || r.kindling.watermarkMs === 0 || maxes[i] === null ? null : (maxes[i]! - r.kindling.watermarkMs) / 1000)) },
  ];
  const state: Series[] = [
    { name: 'state rows', color: PALETTE[2]!, values: rs.map((r) => r.stateOperators[0]?.numRowsTotal ?? 0) },
    { name: 'updated this batch', color: PALETTE[5]!, values: rs.map((r) => r.stateOperators[0]?.numRowsUpdated ?? 0), dashed: true },
  ];
  const late: Series[] = [
    { name: 'late (behind the watermark)', color: PALETTE[3]!, values: rs.map((r) => r.kindling.lateRows) },
    { name: 'rejected (malformed)', color: PALETTE[9]!, values: rs.map((r) => r.kindling.rejected) },
  ];
  const input: Series[] = [{ name: 'input rows', color: PALETTE[0]!, values: rs.map((r) => r.numInputRows) }];
  const latency: Series[] = [
    { name: 'p50', color: PALETTE[0]!, values: rs.map((r) => r.kindling.recordLatencyMs?.p50 ?? null) },
    { name: 'p99', color: PALETTE[3]!, values: rs.map((r) => r.kindling.recordLatencyMs?.p99 ?? null) },
  ];
  const lastLatency = data?.kindling.recordLatencyMs;
  const lastGap = gap[0]!.values[gap[0]!.values.length - 1];

  return `<div class="grid">
    ${card('Input rate vs process rate', data ? `${compact(data.inputRowsPerSecond)} in · ${compact(data.processedRowsPerSecond)} processed /s` : '', 'Rows per second arriving (between batch starts) and processed (rows / batch duration, less any wait for input, as Spark computes it). While the process rate stays above the input rate, the engine keeps up.', lineChart({ id: 'rates', ...axis, yFormat: compact, series: rates }), rates)}
    ${card('Batch duration by phase', last ? ms(last.durationMs.total) : '', `Where each batch's time goes.${triggerMs > 0 ? ' The dashed line is the trigger interval: batches longer than it fall behind.' : ''}`, barChart({ id: 'durations', ...axis, yFormat: (v) => (v === 0 ? '0' : ms(v)), series: phases, ...(triggerMs > 0 ? { reference: { value: triggerMs, label: `trigger ${triggerMs} ms` } } : {}) }), phases)}
    ${card('Input rows per batch', last ? int(last.numInputRows) : '', 'Events read by each batch (a no-data batch reads none: it only moves the watermark).', barChart({ id: 'input-rows', ...axis, integer: true, yFormat: compact, series: input }))}
    ${card('Watermark gap', lastGap === null || lastGap === undefined ? '–' : `${lastGap.toFixed(1)} s`, 'How far the watermark trails the newest event time seen: the watermark delay, plus anything out of order. Events older than the watermark are late.', lineChart({ id: 'watermark-gap', ...axis, yFormat: (v) => `${compact(v)} s`, series: gap }))}
    ${card('State rows', last ? int(last.stateOperators[0]?.numRowsTotal ?? 0) : '', 'Groups (window, key) held by the workers. Append mode drops a window once the watermark passes its end.', lineChart({ id: 'state-rows', ...axis, integer: true, yFormat: compact, series: state }), state)}
    ${rs.some((r) => r.kindling.recordLatencyMs) ? card('Record latency', lastLatency ? `p99 ${ms(lastLatency.p99)}` : '', 'Kafka: from each record\'s Kafka timestamp (when the producer sent it) to the end of the batch that processed it, its rows written. Waiting for the trigger, fetching and the batch itself all count.', lineChart({ id: 'record-latency', ...axis, yFormat: (v) => ms(v), series: latency }), latency) : ''}
    ${card('Late and rejected rows', last ? `${int(last.kindling.lateRows)} late` : '', 'Late: rows behind the watermark, dropped from their window (Spark counts the late groups: numRowsDroppedByWatermark). Rejected: corrupt records (not JSON), rows of nulls, counted and logged.', barChart({ id: 'late-rows', ...axis, integer: true, yFormat: compact, series: late }), late)}
  </div>`;
}
