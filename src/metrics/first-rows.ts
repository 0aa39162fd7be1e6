// When an append-mode query's first rows can appear, and how far it is from them (pure; the terminal and the web page share it, so it imports nothing).

/** What the answer depends on: the query's window, watermark delay and output mode (a run description's `query`). */
export interface WindowedQuery {
  readonly outputMode: string;
  readonly window: { readonly sizeMs: number; readonly slideMs: number } | null;
  readonly watermarkDelayMs: number | null;
}

const secondsText = (ms: number): string => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
const clock = (ms: number): string => new Date(ms).toISOString().slice(11, 19);

/** Queries whose rows wait for the watermark: append mode over event-time windows. */
function waitsForWatermark(q: WindowedQuery): q is WindowedQuery & { window: { sizeMs: number; slideMs: number }; watermarkDelayMs: number } {
  return q.outputMode === 'append' && q.window !== null && q.watermarkDelayMs !== null;
}

/** The banner's sentence: when a window's rows come out; null when rows do not wait for the watermark. */
export function firstRowsNote(q: WindowedQuery): string | null {
  if (!waitsForWatermark(q)) return null;
  const { sizeMs } = q.window;
  return (
    `first rows: a window is written once the watermark (max event time - ${secondsText(q.watermarkDelayMs)}) passes its end; ` +
    `live, ${secondsText(q.watermarkDelayMs).replace(' s', '')}-${secondsText(sizeMs + q.watermarkDelayMs)} after the first matching event`
  );
}

/** What the run has seen so far, for {@link firstRowsStatus}. */
export interface SeenSoFar {
  /** Max event time of the first batch that had one: the oldest open window is taken as the one holding it. */
  readonly firstEventTimeMs: number | null;
  readonly maxEventTimeMs: number | null;
  /**
   * The watermark the latest batch evicted with (its progress record's, Spark's eventTime.watermark):
   * windows ending at or before it are gone. The one after the batch, max(it, max event time - delay),
   * closes the windows the next batch writes.
   */
  readonly watermarkMs: number | null;
  readonly rowsOut: number;
}

/** The windows open before the first rows: how many, the oldest, and event time left until the watermark closes it. */
export interface OpenWindows {
  readonly open: number;
  /** Windows a batch already evicted without a row out (no group passed the query's HAVING). */
  readonly closedEmpty: number;
  readonly oldestStartMs: number;
  readonly oldestEndMs: number;
  /** Event time the watermark still has to advance before the oldest open window is written; <= 0: the next batch writes it. */
  readonly closesInMs: number;
}

/** Start of the earliest window holding event time `t` (tumbling: its only window). */
const earliestWindowStart = (t: number, sizeMs: number, slideMs: number): number => Math.floor(t / slideMs) * slideMs - sizeMs + slideMs;

/** The open windows until the first rows are out; null once rows came out or when rows do not wait for the watermark. */
export function openWindows(q: WindowedQuery, seen: SeenSoFar): OpenWindows | null {
  if (!waitsForWatermark(q) || seen.rowsOut > 0 || seen.firstEventTimeMs === null || seen.maxEventTimeMs === null) return null;
  const { sizeMs, slideMs } = q.window;
  const evictedWithMs = seen.watermarkMs ?? 0;
  const watermarkMs = Math.max(evictedWithMs, seen.maxEventTimeMs - q.watermarkDelayMs);
  const firstStartMs = earliestWindowStart(seen.firstEventTimeMs, sizeMs, slideMs);
  // Windows ending at or before the watermark a batch evicted with are gone; one the watermark passed
  // only after the latest batch is written by the next one (Spark's no-data batch, if no input comes).
  const closedEmpty = Math.max(0, Math.floor((evictedWithMs - firstStartMs - sizeMs) / slideMs) + 1);
  const oldestStartMs = firstStartMs + closedEmpty * slideMs;
  const newestStartMs = Math.floor(seen.maxEventTimeMs / slideMs) * slideMs;
  return {
    open: Math.max(1, Math.round((newestStartMs - oldestStartMs) / slideMs) + 1),
    closedEmpty,
    oldestStartMs,
    oldestEndMs: oldestStartMs + sizeMs,
    closesInMs: oldestStartMs + sizeMs - watermarkMs,
  };
}

/** One line for people: no rows yet, why, and how far away they are; null once rows came out. */
export function firstRowsStatus(q: WindowedQuery, seen: SeenSoFar): string | null {
  if (!waitsForWatermark(q) || seen.rowsOut > 0) return null;
  const w = openWindows(q, seen);
  if (w === null) return 'no rows yet: no matching event so far (the first one opens the first window)';
  const closed = w.closedEmpty > 0 ? ` (${w.closedEmpty} closed with no group passing the query's HAVING)` : '';
  // The watermark passed its end only after the latest batch; short, so an 80-column live view shows it whole.
  const when = w.closesInMs <= 0 ? 'is written by the next batch' : `is written in ${secondsText(w.closesInMs)} of event time`;
  return `no rows yet: ${w.open} window(s) open${closed}; the oldest, ${clock(w.oldestStartMs)}-${clock(w.oldestEndMs)}, ${when}`;
}
