// What the page knows: recent progress records, the run's config and the latest results (browser module).
import type { ProgressRecord } from '../../progress.js';
import type { RunDescription } from '../../run-info.js';

/** One kept batch of output rows, as GET /api/results serves it. */
export interface ResultsBatch {
  readonly batchId: number;
  readonly drained: boolean;
  readonly totalRows: number;
  readonly rows: ReadonlyArray<Record<string, unknown>>;
}

/** The connection to the engine. */
export type LinkState = 'connecting' | 'live' | 'ended' | 'disconnected';

/** The page's data; pages only read it. */
export interface AppState {
  records: ProgressRecord[];
  config: RunDescription | null;
  results: { enabled: boolean; batches: ResultsBatch[] } | null;
  link: LinkState;
}

/** Records kept in the page, as many as the server keeps. */
export const MAX_RECORDS = 300;

/** Adds a record in batch order, ignoring one already known (SSE and the first fetch overlap). */
export function addRecord(state: AppState, p: ProgressRecord): boolean {
  const rs = state.records;
  const last = rs[rs.length - 1];
  if (last && p.batchId <= last.batchId) {
    if (rs.some((r) => r.batchId === p.batchId)) return false;
    rs.push(p);
    rs.sort((a, b) => a.batchId - b.batchId);
  } else rs.push(p);
  if (rs.length > MAX_RECORDS) rs.splice(0, rs.length - MAX_RECORDS);
  return true;
}

/** The newest batch that had input (rates of a no-data batch are zero and say nothing), else the newest. */
export function latestWithData(records: readonly ProgressRecord[]): ProgressRecord | undefined {
  for (let i = records.length - 1; i >= 0; i--) if (!records[i]!.kindling.noDataBatch) return records[i];
  return records[records.length - 1];
}

/** Max event time seen up to each record (eventTime.max is per batch; the watermark follows the run's max). */
export function runningMaxEventTime(records: readonly ProgressRecord[]): Array<number | null> {
  let max: number | null = null;
  return records.map((r) => {
    const m = r.kindling.maxEventTimeMs;
    if (m !== null && (max === null || m > max)) max = m;
    return max;
  });
}
