#!/usr/bin/env node
// Kindling's entry point: argv -> command -> run; maps errors to exit codes (2: usage, 1: failure).
import { answerText, renderHelp } from './cli.js';
import { parseRunArgs, RUN_FLAGS, type RunConfig } from './config.js';
import { checkpointCommand } from './checkpoint/inspect.js';
import { adoptCheckpointSettings, describeResume, type ResumeInfo } from './checkpoint/recovery.js';
import { CheckpointStore } from './checkpoint/store.js';
import { openSinks, openSource, planOf } from './engine/build.js';
import { runQueryPlan } from './engine/run.js';
import { explainQuery } from './plan/explain.js';
import type { WorkerFaults } from './engine/protocol.js';
import { KindlingError, UsageError } from './errors.js';
import { chooseTerminalMode, startObservability } from './metrics/observe.js';
import { firstRowsNote } from './metrics/first-rows.js';
import { ResultsSink } from './metrics/results-sink.js';
import { describeRun, windowOf } from './metrics/run-info.js';
import { summaryLines } from './metrics/summary.js';
import type { ReplaySpec } from './replay/service.js';
import { onStopSignals } from './signals.js';
import { stopWhenStdoutCloses } from './stdout-closed.js';
import { namesPythonScript } from './connect/script-args.js';

const log = (line: string): void => {
  process.stderr.write(line + '\n');
};

const out = (text: string): void => {
  process.stdout.write(text);
};

/** One command: its name (its first word selects it), how --help shows it, and what runs it (returning the exit code). */
interface Command {
  readonly name: string;
  readonly usage: string;
  readonly does: string;
  readonly start: (rest: string[]) => Promise<number>;
  /** A second help line for a command listed before it: never selected, not listed as a command. */
  readonly variant?: true;
}

/** Kindling's commands, in the order --help lists them; `run` is also what runs without a command word. */
const COMMANDS: readonly Command[] = [
  { name: 'run', usage: 'kindling [run] [flags]', does: 'run a streaming query (this help)', start: async (rest) => (namesPythonScript(rest) ? (await import('./connect/run-script.js')).runScriptCommand(rest, log) : run(rest)) },
  // Help's line for `run` given a .py file (the entry above dispatches it); not a command word of its own.
  { name: 'run SCRIPT.py', usage: 'kindling run SCRIPT.py [--python PATH]', does: 'run a PySpark script on Kindling (kindling run x.py --help)', start: (rest) => run(rest), variant: true },
  // produce and generate are loaded only when used: `kindling run` never loads kafkajs.
  { name: 'produce', usage: 'kindling produce --brokers HOST:PORT [flags]', does: "write the lab's events to a Kafka topic (kindling produce --help)", start: async (rest) => (await import('./produce.js')).produceCommand(rest, log) },
  { name: 'generate', usage: 'kindling generate --out DIR [flags]', does: "write the lab's events as NDJSON files for --source file (kindling generate --help)", start: async (rest) => (await import('./generate.js')).generateCommand(rest, log, out) },
  { name: 'connect', usage: 'kindling connect [--port 15002]', does: 'serve Spark Connect for PySpark scripts (kindling connect --help)', start: async (rest) => (await import('./connect/command.js')).connectCommand(rest, log) },
  { name: 'export', usage: 'kindling export --pyspark [--query NAME|PATH]', does: 'print a PySpark script that runs the query on Spark (kindling export --help)', start: async (rest) => (await import('./connect/export-command.js')).exportCommand(rest, out, log) },
  { name: 'explain', usage: 'kindling explain --checkpoint-dir DIR --key K', does: 'why is there (no) row for this key? replays the run (kindling explain --help)', start: async (rest) => (await import('./replay/command.js')).explainCommand(rest, out) },
  { name: 'what-if', usage: 'kindling what-if --checkpoint-dir DIR', does: 'the same input under other watermarks and windows (kindling what-if --help)', start: async (rest) => (await import('./replay/command.js')).whatIfCommand(rest, out) },
  { name: 'checkpoint inspect', usage: 'kindling checkpoint inspect DIR [flags]', does: 'show what a checkpoint directory holds (kindling checkpoint inspect --help)', start: (rest) => checkpointCommand(rest, out) },
];
const USAGE = `Usage:\n${COMMANDS.map((c) => `  ${c.usage.padEnd(46)} ${c.does}`).join('\n')}`;
const INTRO =
  'Runs a streaming query over the lab\'s log events in micro-batches on worker threads, with Spark Structured\n' +
  "Streaming's semantics (windows, watermark, late rows, output modes). With no flags: the crash-alerts query on\n" +
  'the built-in generator at 10,000 events/s until Ctrl-C (Ctrl-C finishes the batch in flight, flushes, exits).';

/**
 * Test-only settings for the tests that run the CLI as a child process, read here once and injected
 * (nothing below main.ts reads the environment; a normal run has neither):
 * - KINDLING_TEST_SNAPSHOT_WRITE_DELAY_MS=N slows every snapshot write, so the crash drill can kill
 *   the process while one is being written (into CheckpointStore.open);
 * - KINDLING_TEST_WORKER_EXIT=<batchId>:<workerId>:<markerFile> ends that worker's thread in that
 *   batch's stateful task, once (into the workers' init message, see WorkerFaults).
 */
function testSnapshotWriteDelayMs(): number {
  const delayMs = Number(process.env['KINDLING_TEST_SNAPSHOT_WRITE_DELAY_MS'] ?? 0);
  return Number.isFinite(delayMs) && delayMs > 0 ? delayMs : 0;
}

function testWorkerFaults(): WorkerFaults | undefined {
  const m = /^(\d+):(\d+):(.+)$/.exec(process.env['KINDLING_TEST_WORKER_EXIT'] ?? '');
  return m ? { exitInStatefulTask: { batchId: Number(m[1]), workerId: Number(m[2]), markerFile: m[3]! } } : undefined;
}

/** What the web UI's "why?" replays: the checkpoint, else the files with the run's cut, else nothing. */
function replaySpec(config: RunConfig): ReplaySpec {
  const s = config.source;
  const files = s.kind === 'file' ? { path: s.path, maxFilesPerBatch: s.maxFilesPerBatch, maxEventsPerBatch: s.maxEventsPerBatch, maxBytesPerBatch: s.maxBytesPerBatch } : null;
  const kafka = s.kind === 'kafka' ? { brokers: s.brokers, isolationLevel: s.isolationLevel } : null;
  return { checkpointDir: config.checkpoint?.dir ?? null, files, queryRef: config.queryRef, kafka };
}

function checkpointLine(config: RunConfig, resume: ResumeInfo | null): string {
  if (!config.checkpoint || !resume) return 'checkpoint: none (a restart starts over)';
  const where = `${config.checkpoint.dir}, snapshot every ${config.checkpoint.every} batch(es)`;
  return resume.resumed ? `checkpoint: ${describeResume(resume)}\n    in ${where}` : `checkpoint: new in ${where}`;
}

function banner(config: RunConfig, describeSource: string, queryName: string, mode: string, checkpoint: string): string {
  return (
    `Kindling: query ${queryName} (${mode} mode) on ${describeSource}\n` +
    `  ${config.cores} worker thread(s), ${config.partitions} partition(s), trigger ${config.triggerMs === 0 ? 'as soon as possible' : `${config.triggerMs} ms`}` +
    `, sinks: ${config.sinks.map((s) => (s.kind === 'jsonl' ? `jsonl:${s.dir}` : s.kind === 'kafka' ? `kafka:${s.topic}` : config.progressJson === '-' ? 'console (tables on stderr: stdout carries --progress-json)' : s.kind)).join(', ') || 'none'}\n` +
    `  ${checkpoint}`
  );
}

async function run(argv: string[]): Promise<number> {
  const { config: parsed, answer } = await parseRunArgs(argv);
  if (answer) {
    process.stdout.write(answerText(answer, () => renderHelp(USAGE, INTRO, RUN_FLAGS)));
    return 0;
  }
  const plan = await planOf(parsed);
  if (parsed.explain) {
    out(explainQuery(plan) + '\n');
    return 0;
  }
  // The Results page keeps the latest output rows through a small in-memory sink.
  const results = parsed.ui ? new ResultsSink() : null;
  // The checkpoint directory is checked before any thread starts: an unusable one stops the run here.
  const store = parsed.checkpoint ? await CheckpointStore.open(parsed.checkpoint.dir, { snapshotWriteDelayMs: testSnapshotWriteDelayMs() }) : null;
  const config = store ? await adoptCheckpointSettings(parsed, store, log) : parsed;
  const checkpoint = store && config.checkpoint ? { log: store, every: config.checkpoint.every, ...(config.checkpoint.retain !== undefined ? { retain: config.checkpoint.retain } : {}) } : null;
  const faults = testWorkerFaults();
  const source = await openSource(config, log);
  const sinks = [...(await openSinks(config, { checkpoint: store, log })), ...(results ? [results] : [])];
  let observers = null as Awaited<ReturnType<typeof startObservability>> | null;
  let removeSignalHandlers = (): void => undefined;
  const run = await runQueryPlan(plan, {
    source,
    sinks,
    cores: config.cores,
    partitions: config.partitions,
    triggerMs: config.triggerMs,
    drain: config.drain,
    maxRecordBytes: config.maxRecordBytes,
    checkpoint,
    log,
    ...(faults ? { faults } : {}),
    async beforeFirstBatch({ coordinator, resume, stop }) {
      observers = await startObservability(coordinator, {
        terminal: chooseTerminalMode(config.quiet, process.stderr),
        progressJson: config.progressJson,
        ui: config.ui,
        run: describeRun(config, plan, source.describe(), coordinator),
        results,
        // The replay code loads on the first question only, and replays run
        // on their own thread, so the batch loop keeps going while a question is answered.
        explain: async (question) => (await import('./replay/threads.js')).explainOnThread(replaySpec(config))(question),
        whatIf: async (question) => (await import('./replay/threads.js')).whatIfOnThread(replaySpec(config))(question),
        log,
      });
      removeSignalHandlers = onStopSignals(
        () => {
          log('stopping: finishing the batch in flight (Ctrl-C again to quit at once)');
          stop();
        },
        () => process.exit(130),
      );
      const firstRows = firstRowsNote(windowOf(plan));
      log(banner(config, source.describe(), plan.name, plan.outputMode, checkpointLine(config, resume)) + (firstRows ? `\n  ${firstRows}` : '') + (observers.uiUrl ? `\n  web UI: ${observers.uiUrl}` : ''));
    },
  });
  try {
    const summary = await run.done;
    await observers?.close();
    for (const line of summaryLines(summary)) log(line);
    if (run.coordinator.recoveries > 0) {
      log(`  worker recoveries: ${run.coordinator.recoveries} (threads replaced: ${run.pool.replacements}); each rolled back to the last snapshot and replayed`);
    }
  } finally {
    await observers?.close();
    removeSignalHandlers();
  }
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [word, ...rest] = argv;
  const command = COMMANDS.find((c) => c.name.split(' ')[0] === word);
  if (command) return command.start(rest);
  if (word !== undefined && !word.startsWith('-')) {
    throw new UsageError(`unknown command '${word}'; the commands are ${COMMANDS.filter((c) => !c.variant).map((c) => c.name).join(', ')} (see kindling --help)`);
  }
  return run(argv);
}

stopWhenStdoutCloses(log);
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof KindlingError) {
      log(`kindling: ${err.message}`);
      // 2 is for usage: bad flags, input or files. A query that failed while it ran is the user's
      // too, but the run was valid: it failed (1), as a Spark query that throws terminates it.
      process.exit(err.domain === 'user' && err.code !== 'QUERY_FAILED' ? 2 : 1);
    }
    log(`kindling: internal error: ${(err as Error).stack ?? String(err)}`);
    process.exit(1);
  },
);
