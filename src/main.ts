#!/usr/bin/env node
// Kindling's entry point: argv -> command -> run; maps errors to exit codes (2: usage, 1: failure).
import { renderHelp } from './cli.js';
import { parseRunArgs, RUN_FLAGS, type RunConfig } from './config.js';
import { assembleRun } from './engine/build.js';
import { KindlingError } from './errors.js';
import { chooseTerminalMode, startObservability } from './metrics/observe.js';
import { ResultsSink } from './metrics/results-sink.js';
import { describeRun } from './metrics/run-info.js';
import { summaryLines } from './metrics/summary.js';

const log = (line: string): void => {
  process.stderr.write(line + '\n');
};

const USAGE = 'Usage: kindling [run] [flags]';
const INTRO =
  'Runs a streaming query over the lab\'s log events in micro-batches on worker threads, with Spark Structured\n' +
  "Streaming's semantics (windows, watermark, late rows, output modes). With no flags: the crash-alerts query on\n" +
  'the built-in generator at 10,000 events/s until Ctrl-C (Ctrl-C finishes the batch in flight, flushes, exits).';

function banner(config: RunConfig, describeSource: string, queryName: string, mode: string): string {
  return (
    `Kindling: query ${queryName} (${mode} mode) on ${describeSource}\n` +
    `  ${config.cores} worker thread(s), ${config.partitions} partition(s), trigger ${config.triggerMs === 0 ? 'as soon as possible' : `${config.triggerMs} ms`}` +
    `, sinks: ${config.sinks.map((s) => (s.kind === 'jsonl' ? `jsonl:${s.dir}` : s.kind)).join(', ') || 'none'}\n` +
    '  checkpoint: none (a restart starts over)'
  );
}

async function run(argv: string[]): Promise<number> {
  const { config, help } = await parseRunArgs(argv);
  if (help || !config) {
    process.stdout.write(renderHelp(USAGE, INTRO, RUN_FLAGS) + '\n');
    return 0;
  }
  // The Results page keeps the latest output rows through a small in-memory sink.
  const results = config.ui ? new ResultsSink() : null;
  const assembled = await assembleRun(config, log, undefined, results ? [results] : []);
  const { coordinator, source, query } = assembled;
  const outputMode = config.outputMode ?? query.outputMode;
  let observers;
  try {
    observers = await startObservability(coordinator, {
      terminal: chooseTerminalMode(config.quiet, process.stderr),
      progressJson: config.progressJson,
      ui: config.ui,
      run: describeRun(config, query, outputMode, source.describe(), coordinator),
      query,
      results,
      log,
    });
  } catch (err) {
    await assembled.close();
    throw err;
  }
  log(banner(config, source.describe(), query.name, outputMode) + (observers.uiUrl ? `\n  web UI: ${observers.uiUrl}` : ''));

  const stop = new AbortController();
  let signals = 0;
  const onSignal = (): void => {
    signals++;
    if (signals === 1) {
      log('stopping: finishing the batch in flight (Ctrl-C again to quit at once)');
      stop.abort();
    } else process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const summary = await coordinator.run(stop.signal);
    await observers.close();
    for (const line of summaryLines(summary)) log(line);
  } finally {
    await observers.close();
    await assembled.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'run') return run(rest);
  return run(argv);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof KindlingError) {
      log(`kindling: ${err.message}`);
      process.exit(err.domain === 'user' ? 2 : 1);
    }
    log(`kindling: internal error: ${(err as Error).stack ?? String(err)}`);
    process.exit(1);
  },
);
