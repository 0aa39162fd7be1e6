// `kindling explain` and `kindling what-if`: flags to a replay of the run's own input, printed as text or JSON.
import { answerText, flagNamed, parseFlags, renderHelp, restyle, STANDARD_FLAGS, standardAnswer, type FlagSpec, type FlagValues } from '../cli.js';
import { detectCores, RUN_FLAGS } from '../config.js';
import { UsageError } from '../errors.js';
import { parseBrokerList } from '../source/kafka-address.js';
import type { QueryPlan } from '../plan/plan.js';
import { checkReplay, type ReplayCheck } from './compare.js';
import { closingSentence, explainText } from './explain-text.js';
import { inputFromCheckpoint, inputFromFiles, type ReplayInput } from './input.js';
import { replayQuery } from './query.js';
import { traceReplay, type ReplayTrace } from './trace.js';
import { whatIfOnThreads } from './threads.js';
import { parseDurationList, seconds, whatIfTable, type WhatIfSetting } from './what-if.js';

const IN = 'Input (a checkpoint, or files cut as the run cut them)';
const INPUT_FLAGS = [
  { name: 'checkpoint-dir', kind: 'string', group: IN, valueName: 'DIR', help: "the run's checkpoint: its offsets log gives every batch's range of the input (file, generator or Kafka runs; Kafka also needs --brokers)" },
  { name: 'source', kind: 'enum', group: IN, choices: ['file'], help: 'without a checkpoint: replay files, cut into batches by the flags below as the run cut them' },
  restyle(flagNamed(RUN_FLAGS, 'path'), { group: IN }),
  restyle(flagNamed(RUN_FLAGS, 'max-files-per-batch'), { group: IN }),
  restyle(flagNamed(RUN_FLAGS, 'max-events-per-batch'), { group: IN, help: 'records per batch' }),
  restyle(flagNamed(RUN_FLAGS, 'max-bytes-per-batch'), { group: IN }),
  restyle(flagNamed(RUN_FLAGS, 'brokers'), { group: IN, help: "a Kafka run's brokers: the checkpoint's topic is read again from them (KAFKA_BROKERS alone works too)" }),
  restyle(flagNamed(RUN_FLAGS, 'kafka-isolation-level'), { group: IN, help: "the Kafka run's isolation level (read_committed drops aborted transactions' records)" }),
  { name: 'drain', kind: 'bool', group: IN, help: 'the run ended with --drain (read from the checkpoint when there is one)' },
  { name: 'query', kind: 'string', group: IN, valueName: 'NAME|PATH', defaultText: "the checkpoint's query, else crash-alerts", help: 'built-in query, or the path of an ES module exporting a QueryPlan' },
  { name: 'json', kind: 'bool', group: 'Output', help: 'print one JSON object instead of text' },
] as const satisfies readonly FlagSpec[];

const EXPLAIN_FLAGS = [
  { name: 'key', kind: 'string', group: 'Explain', valueName: 'KEY', help: "the group to explain: its grouping values other than the window, comma-separated (user_1042; null for a null key)" },
  { name: 'window', kind: 'string', group: 'Explain', valueName: 'ISO|MS', help: 'only the window starting at this instant (e.g. 2024-11-25T10:40:10Z)' },
  { name: 'batch', kind: 'int', group: 'Explain', min: 0, valueName: 'N', help: 'explain as of batch N (what happened after it is left out)' },
  { name: 'all-records', kind: 'bool', group: 'Explain', help: "list every record of the key, also those the first condition of a filter dropped (by default they are counted per predicate)" },
  { name: 'jsonl', kind: 'string', group: 'Explain', valueName: 'DIR', help: "the run's jsonl sink directory: the replay's rows are checked against it" },
  ...INPUT_FLAGS,
  ...STANDARD_FLAGS,
] as const satisfies readonly FlagSpec[];

const WHAT_IF_FLAGS = [
  { name: 'watermark', kind: 'string', group: 'What if', default: '0s,10s,30s,60s', valueName: 'D,D,...', help: 'watermark delays to try (ms, s, m or h)' },
  { name: 'window', kind: 'string', group: 'What if', valueName: 'D,D,...', defaultText: "the query's own", help: 'window sizes to try (tumbling), each with every watermark' },
  restyle(flagNamed(RUN_FLAGS, 'cores'), { group: 'What if', help: 'worker threads replaying settings at once (one setting per thread)' }),
  ...INPUT_FLAGS,
  ...STANDARD_FLAGS,
] as const satisfies readonly FlagSpec[];

const EXPLAIN_USAGE = 'Usage: kindling explain (--checkpoint-dir DIR | --source file --path P) --key KEY [--window ISO] [--batch N] [--jsonl DIR] [--json]';
const EXPLAIN_INTRO =
  "Answers \"why is there (no) row for this key?\" by replaying the run's own input, batch by batch, through\n" +
  "Kindling's single-threaded reference of the query: every record of the key with its position, event time and\n" +
  'fate (filtered by which predicate, null field, late by how much, counted), every window of the key with its\n' +
  'count per batch and outcome, and one closing sentence. It checks the replay against the run (the offsets\n' +
  "log's watermarks, and the jsonl output given with --jsonl) and says where it diverged; exit code 1 then.";
const WHAT_IF_USAGE = 'Usage: kindling what-if (--checkpoint-dir DIR | --source file --path P) [--watermark 0s,10s,30s,60s] [--window 10s,30s] [--cores N] [--json]';
const WHAT_IF_INTRO =
  "Replays the run's own input under other watermark delays (and window sizes) and prints, per setting: rows\n" +
  'emitted, late events and late groups dropped, peak state rows, and the event-time-to-emission delay (p50/p99,\n' +
  'in event time and in batches): the watermark trade-off, measured on your data. Settings run in parallel, one\n' +
  'per worker thread; a run longer than a second reports the settings done on stderr.';

/** Resolves once everything written to stdout so far is flushed: main exits right after a command returns, and a pipe takes large output asynchronously. */
const flushed = (): Promise<void> =>
  new Promise((done) => {
    // A reader that went away (| head) ends the output, not the command.
    process.stdout.once('error', () => done());
    process.stdout.write('', () => done());
  });

type InputValues = FlagValues<typeof INPUT_FLAGS>;

/** Reads the input the flags name: a checkpoint's offsets log, or files cut by the run's flags. */
async function replayInput(values: InputValues, given: ReadonlySet<string>): Promise<ReplayInput> {
  const dir = values['checkpoint-dir'];
  const fileFlags = ['source', 'path', 'max-files-per-batch', 'max-events-per-batch', 'max-bytes-per-batch'].filter((f) => given.has(f));
  if (dir !== undefined) {
    if (fileFlags.length > 0) throw new UsageError(`--${fileFlags[0]} is for a replay without a checkpoint; with --checkpoint-dir the offsets log gives the input and its batches`);
    const brokers = values['brokers'];
    return inputFromCheckpoint(dir, brokers === undefined ? null : { brokers: parseBrokerList(brokers, '--brokers'), isolationLevel: values['kafka-isolation-level'] });
  }
  if (values['source'] !== 'file') throw new UsageError('give --checkpoint-dir DIR (a run with a checkpoint) or --source file --path P (files, cut as the run cut them)');
  const path = values['path'];
  if (path === undefined) throw new UsageError('--source file needs --path DIR|FILE (the NDJSON files the run read)');
  if (given.has('max-files-per-batch') && given.has('max-events-per-batch')) {
    throw new UsageError('--max-files-per-batch and --max-events-per-batch cut batches in different ways; give the one the run used');
  }
  return inputFromFiles({ path, maxFilesPerBatch: values['max-files-per-batch'] ?? null, maxEventsPerBatch: values['max-events-per-batch'] ?? null, maxBytesPerBatch: values['max-bytes-per-batch'] });
}

/** `--window`: an ISO instant or epoch ms. */
function parseInstant(raw: string): number {
  if (/^-?\d+$/.test(raw)) return Number(raw);
  const ms = Date.parse(raw);
  if (Number.isNaN(ms)) throw new UsageError(`--window must be an ISO 8601 instant (2024-11-25T10:40:10Z) or epoch milliseconds; got '${raw}'`);
  return ms;
}

function header(query: QueryPlan, input: ReplayInput, trace: ReplayTrace | null): string {
  const wm = trace?.watermarkDelayMs;
  const first = input.batches.flatMap((b) => b.records).length;
  return `query ${query.name} (${query.outputMode} mode${wm !== null && wm !== undefined ? `, watermark ${wm / 1000} s` : ''}) replayed over ${input.describe} (${first.toLocaleString('en-US')} records)`;
}

function checkLine(check: ReplayCheck): string {
  if (check.divergence) return `replay check: DIVERGED from the run: ${check.divergence}`;
  if (check.checked.length === 0) return 'replay check: nothing to compare with (give --jsonl DIR with the run\'s jsonl output)';
  return `replay check: the replay reproduces the run (compared: ${check.checked.join('; ')})`;
}

/** Parses a command's flags; null when --help or --version was answered. */
function commandFlags<const Specs extends readonly FlagSpec[]>(argv: string[], specs: Specs, command: string, usage: string, intro: string, out: (text: string) => void) {
  const parsed = parseFlags(argv, specs, process.env);
  const answer = standardAnswer(parsed.values as unknown as { help: boolean; version: boolean });
  if (answer) {
    out(answerText(answer, () => renderHelp(usage, intro, specs)));
    return null;
  }
  if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument '${parsed.positionals[0]}'; flags start with -- (see kindling ${command} --help)`);
  return { values: parsed.values, given: parsed.given as ReadonlySet<string> };
}

/** `kindling explain`. */
export async function explainCommand(argv: string[], out: (text: string) => void): Promise<number> {
  const flags = commandFlags(argv, EXPLAIN_FLAGS, 'explain', EXPLAIN_USAGE, EXPLAIN_INTRO, out);
  if (!flags) return 0;
  const { values, given } = flags;
  const key = values['key'];
  if (key === undefined) throw new UsageError('--key KEY is required: the group to explain (e.g. --key user_1042)');
  const windowMs = values['window'] === undefined ? null : parseInstant(values['window']);
  const input = await replayInput(values, given);
  const query = await replayQuery(values['query'], input.metadata);
  const untilBatchId = values['batch'] ?? null;
  const trace = traceReplay(query, input.batches, { key, windowMs }, { drain: input.drain || values['drain'], untilBatchId });
  const check = await checkReplay(trace, input, values['jsonl'] ?? null);
  if (values['json']) {
    const { batches, ...rest } = trace;
    out(JSON.stringify({ input: input.describe, check, answer: closingSentence(trace), ...rest, batches: batches.map(({ rows, ...b }) => ({ ...b, rowsOut: rows.length })) }, null, 2) + '\n');
  } else {
    out(explainText(trace, header(query, input, trace), values['all-records']) + checkLine(check) + '\n');
  }
  await flushed();
  return check.divergence ? 1 : 0;
}

/** Once a what-if has run for PROGRESS_AFTER_MS, a line on stderr per setting done (short runs stay quiet). */
const PROGRESS_AFTER_MS = 1000;

function progressOnStderr(startMs: number): (done: number, total: number, setting: WhatIfSetting) => void {
  return (done, total, setting) => {
    if (Date.now() - startMs < PROGRESS_AFTER_MS || done === total) return;
    const window = setting.windowMs === null ? '' : `, window ${seconds(setting.windowMs)}`;
    process.stderr.write(`what-if: ${done}/${total} settings done (watermark ${seconds(setting.watermarkMs)}${window})\n`);
  };
}

/** `kindling what-if`. */
export async function whatIfCommand(argv: string[], out: (text: string) => void): Promise<number> {
  const flags = commandFlags(argv, WHAT_IF_FLAGS, 'what-if', WHAT_IF_USAGE, WHAT_IF_INTRO, out);
  if (!flags) return 0;
  const { values, given } = flags;
  const watermarks = parseDurationList(values['watermark'], 'watermark');
  const windows = values['window'] === undefined ? [] : parseDurationList(values['window'], 'window');
  if (windows.includes(0)) throw new UsageError(`--window sizes must be positive; got '${values['window']}'`);
  const input = await replayInput(values, given);
  const query = await replayQuery(values['query'], input.metadata);
  const threads = values['cores'] ?? (await detectCores());
  const results = await whatIfOnThreads({ query, batches: input.batches.map((b) => b.records), drain: input.drain || values['drain'] }, watermarks, windows, {
    threads,
    onProgress: progressOnStderr(Date.now()),
  });
  if (values['json']) out(JSON.stringify({ query: query.name, input: input.describe, results }, null, 2) + '\n');
  else out(`${header(query, input, null)}\n\n${whatIfTable(results, "query's")}`);
  await flushed();
  return 0;
}
