// Explain as a service for the web UI: the same replay as `kindling explain`, over the running run's checkpoint or files, as JSON.
import { KindlingError } from '../errors.js';
import { checkReplay, type ReplayCheck } from './compare.js';
import { closingSentence, fateText, nearMiss, windowAnswer } from './explain-text.js';
import { inputFromCheckpoint, inputFromFiles, type FileCut, type KafkaReach } from './input.js';
import { replayQuery } from './query.js';
import { keyColumnsOf, traceReplay, type RecordTrace, type WindowTrace } from './trace.js';
import { parseDurationList, whatIf, type WhatIfResult } from './what-if.js';

/** What a run can be replayed from: its checkpoint, or its files and their cut; neither (a generator run without a checkpoint) means no replay. */
export interface ReplaySpec {
  readonly checkpointDir: string | null;
  readonly files: FileCut | null;
  /** The run's --query. */
  readonly queryRef: string;
  /** A Kafka run's brokers and isolation level. */
  readonly kafka?: KafkaReach | null;
}

/** A question from the page: a key (and a window start), or an output row to explain. */
export interface ExplainQuestion {
  readonly key?: string;
  /** ISO instant or epoch ms: the window's start. */
  readonly window?: string;
  /** A result row in Spark's JSON shape: its key columns and window start make the question. */
  readonly row?: Readonly<Record<string, unknown>>;
}

/** The records a page lists at most. */
const MAX_RECORDS = 200;

/** The answer, as the page shows it. */
export type ExplainAnswer =
  | {
      readonly ok: true;
      readonly key: string;
      readonly answer: string;
      /** Each window with its outcome in words (the CLI's sentence). */
      readonly windows: ReadonlyArray<WindowTrace & { readonly text: string }>;
      /** The key's records that reached the aggregation or were near misses (first MAX_RECORDS), each fate in words. */
      readonly records: ReadonlyArray<RecordTrace & { readonly fateTexts: readonly string[] }>;
      readonly recordsTotal: number;
      readonly batches: number;
      readonly check: ReplayCheck;
    }
  | { readonly ok: false; readonly error: string };

/** `--window`'s rule: an ISO instant or epoch ms. */
function instant(raw: string): number {
  const ms = /^-?\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (Number.isNaN(ms)) throw new KindlingError('USAGE', `window must be an ISO 8601 instant or epoch milliseconds; got '${raw}'`, { domain: 'user' });
  return ms;
}

/** What-if for the page: the settings to try, as the CLI's flags take them. */
export interface WhatIfQuestion {
  readonly watermark: string;
  readonly window?: string;
}

/** The what-if answer, as the page draws it. */
export type WhatIfAnswer = { readonly ok: true; readonly batches: number; readonly results: readonly WhatIfResult[] } | { readonly ok: false; readonly error: string };

/** Reads the run's input as it stands now: its checkpoint's logged batches, or its files. */
async function runInput(spec: ReplaySpec) {
  if (!spec.checkpointDir && !spec.files) {
    throw new KindlingError('CHECKPOINT_INPUT', 'this run cannot be replayed: give it --checkpoint-dir (or read files with --source file)', { domain: 'user' });
  }
  const input = spec.checkpointDir ? await inputFromCheckpoint(spec.checkpointDir, spec.kafka ?? null) : await inputFromFiles(spec.files!);
  return { input, query: await replayQuery(spec.checkpointDir ? undefined : spec.queryRef, input.metadata) };
}

const failure = (err: unknown): { ok: false; error: string } => ({ ok: false, error: err instanceof KindlingError ? err.message : `internal error: ${(err as Error).message}` });

/** Answers what-if questions about a run by replaying its input under each setting. */
export function whatIfService(spec: ReplaySpec): (question: WhatIfQuestion) => Promise<WhatIfAnswer> {
  return async (question) => {
    try {
      const watermarks = parseDurationList(question.watermark, 'watermark');
      const windows = question.window ? parseDurationList(question.window, 'window') : [];
      const { input, query } = await runInput(spec);
      return { ok: true, batches: input.batches.length, results: whatIf(query, input.batches.map((b) => b.records), watermarks, windows, { drain: input.drain }) };
    } catch (err) {
      return failure(err);
    }
  };
}

/** Answers explain questions about a run by replaying its input as it stands now (the batches logged so far). */
export function explainService(spec: ReplaySpec): (question: ExplainQuestion) => Promise<ExplainAnswer> {
  return async (question) => {
    try {
      const { input, query } = await runInput(spec);
      let key = question.key ?? null;
      let windowMs = question.window ? instant(question.window) : null;
      if (question.row) {
        // The row's key columns are the plan's grouping columns other than the window.
        key = keyColumnsOf(query).map((c) => (question.row![c] === undefined || question.row![c] === null ? 'null' : String(question.row![c]))).join(',');
        const w = question.row['window'] as { start?: unknown } | undefined;
        if (typeof w?.start === 'string') windowMs = instant(w.start);
      }
      if (key === null || key === '') return { ok: false, error: 'give a key (the grouping values other than the window, e.g. user_1042)' };
      const trace = traceReplay(query, input.batches, { key, windowMs }, { drain: input.drain });
      const check = await checkReplay(trace, input, null);
      const shown = trace.records.filter(nearMiss);
      return {
        ok: true,
        key,
        answer: closingSentence(trace),
        windows: trace.windows.map((w) => ({ ...w, text: windowAnswer(trace, w) })),
        records: shown.slice(0, MAX_RECORDS).map((r) => ({ ...r, fateTexts: r.fates.map(fateText) })),
        recordsTotal: trace.records.length,
        batches: trace.batches.length,
        check,
      };
    } catch (err) {
      return failure(err);
    }
  };
}
