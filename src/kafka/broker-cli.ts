// `npm run kafka`: runs a local Kafka broker in the foreground until Ctrl-C, then stops it cleanly.

import type { ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { answerText, parseFlags, renderHelp, STANDARD_FLAGS, standardAnswer, type FlagSpec, type StandardAnswer } from '../cli.js';
import { UsageError } from '../errors.js';
import { KafkaToolchainError, startBroker, type KafkaBroker } from './broker.js';
import { onStopSignals } from '../signals.js';

const USAGE = 'Usage: npm run kafka -- [--port N] [--data-dir DIR]';
const INTRO = `Runs a single-node Apache Kafka broker (KRaft, no ZooKeeper, no Docker) on 127.0.0.1
until Ctrl-C. Needs Java 17+; the first run also needs Maven, to fetch the broker's jars
(cached in $KINDLING_KAFKA_HOME or ~/.cache/kindling/kafka-<version>).`;

/** The flags of `npm run kafka`. */
export const BROKER_FLAGS = [
  { name: 'port', kind: 'int', group: 'Broker', min: 1, max: 65_535, default: 9092, valueName: 'N', help: 'client port on 127.0.0.1' },
  { name: 'data-dir', kind: 'string', group: 'Broker', valueName: 'DIR', defaultText: '.kindling/kafka-data', help: 'where topics and config live, kept between runs' },
  ...STANDARD_FLAGS,
] as const satisfies readonly FlagSpec[];

/** Parsed command line of the CLI. */
export interface BrokerCliArgs {
  /** Client port. */
  readonly port: number;
  /** Data folder, absolute. */
  readonly dataDir: string;
  /** --help or --version was given: print that instead. */
  readonly answer: StandardAnswer | null;
}

/** Parses the CLI flags; throws a UsageError naming the flag, the rule and what was given. */
export function parseBrokerArgs(argv: readonly string[], cwd: string = process.cwd()): BrokerCliArgs {
  const { values, positionals } = parseFlags(argv, BROKER_FLAGS);
  const answer = standardAnswer(values);
  if (!answer && positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'; the flags are --port N, --data-dir DIR, --help and --version`);
  return { port: values['port'], dataDir: resolve(cwd, values['data-dir'] ?? join('.kindling', 'kafka-data')), answer };
}

async function main(): Promise<number> {
  let args: BrokerCliArgs;
  try {
    args = parseBrokerArgs(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`kafka: ${err.message}\n${USAGE} (see --help)\n`);
    return 2;
  }
  if (args.answer) {
    process.stdout.write(answerText(args.answer, () => renderHelp(USAGE, INTRO, BROKER_FLAGS)));
    return 0;
  }

  let broker: KafkaBroker | undefined;
  let java: ChildProcess | undefined;
  let stopRequested = false;
  const starting = new AbortController();
  onStopSignals(
    (sig) => {
      stopRequested = true;
      process.stderr.write(`kafka: ${sig} received, stopping the broker cleanly (press Ctrl-C again to kill it; the next start then recovers every log)...\n`);
      // While it starts there is no KafkaBroker yet: abort the start, which stops java cleanly.
      if (broker) void broker.stop();
      else starting.abort(new Error(`${sig} during start-up`));
    },
    (sig) => {
      process.stderr.write(`kafka: ${sig} again, killing the broker now\n`);
      java?.kill('SIGKILL');
    },
  );

  try {
    broker = await startBroker({
      port: args.port,
      dataDir: args.dataDir,
      log: (line) => process.stderr.write(`[kafka] ${line}\n`),
      onSpawn: (child) => (java = child),
      signal: starting.signal,
      // A user's broker keeps its data between runs: after a kill it recovers every log first, which
      // takes minutes with thousands of topics on a busy machine. Wait while java runs (Ctrl-C stops
      // it), and never cut a clean stop short: a SIGKILL would make the next start recover again.
      readyTimeoutMs: Infinity,
      stopTimeoutMs: Infinity,
    });
  } catch (err) {
    if (stopRequested) return 130;
    const msg = err instanceof KafkaToolchainError || err instanceof Error ? err.message : String(err);
    process.stderr.write(`kafka: could not start the broker: ${msg}\n`);
    return 1;
  }
  if (stopRequested) {
    await broker.stop();
    return 130;
  }

  const t = broker.timings;
  process.stdout.write(
    `Apache Kafka ${broker.version} is running.\n` +
      `  brokers:  ${broker.brokers}        (e.g. KAFKA_BROKERS=${broker.brokers})\n` +
      `  data:     ${broker.dataDir}\n` +
      `  started in ${(t.totalMs / 1000).toFixed(1)} s (jars ${(t.jarsMs / 1000).toFixed(1)} s, format ${(t.formatMs / 1000).toFixed(1)} s, start ${(t.startMs / 1000).toFixed(1)} s)\n` +
      `Press Ctrl-C to stop.\n`,
  );

  const code = await broker.exited;
  await broker.stop();
  if (stopRequested) {
    process.stdout.write('Kafka broker stopped.\n');
    return 0;
  }
  process.stderr.write(`kafka: the broker exited on its own (code ${code ?? 'null, killed by a signal'}); see its output above\n`);
  return 1;
}

// Run only as a program, so that tests can import parseBrokerArgs.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`kafka: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
