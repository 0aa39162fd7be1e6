// `npm run kafka`: runs a local Kafka broker in the foreground until Ctrl-C, then stops it cleanly.

import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { KafkaToolchainError, startBroker, type KafkaBroker } from './broker.js';

const USAGE = `Usage: npm run kafka -- [--port N] [--data-dir DIR]

Runs a single-node Apache Kafka broker (KRaft, no ZooKeeper, no Docker) on 127.0.0.1
until Ctrl-C. Needs Java 17+; the first run also needs Maven, to fetch the broker's jars
(cached in $KINDLING_KAFKA_HOME or ~/.cache/kindling/kafka-<version>).

  --port N          client port on 127.0.0.1, an integer from 1 to 65535 (default 9092)
  --data-dir DIR    where topics and config live, kept between runs (default .kindling/kafka-data)
  -h, --help        show this help
`;

/** Parsed command line of the CLI. */
export interface BrokerCliArgs {
  /** Client port. */
  port: number;
  /** Data folder, absolute. */
  dataDir: string;
  /** --help was given. */
  help: boolean;
}

/** Thrown for a bad command line; the message names the flag, the rule and what was given. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Parses the CLI flags (`--flag value` or `--flag=value`); throws {@link UsageError} on a bad one. */
export function parseBrokerArgs(argv: readonly string[], cwd: string = process.cwd()): BrokerCliArgs {
  const out: BrokerCliArgs = { port: 9092, dataDir: resolve(cwd, '.kindling', 'kafka-data'), help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    const value = (rule: string): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || (inline === undefined && v.startsWith('--'))) {
        throw new UsageError(`${flag} needs a value: ${rule}; got nothing`);
      }
      return v;
    };
    switch (flag) {
      case '-h':
      case '--help':
        out.help = true;
        break;
      case '--port': {
        const rule = 'an integer from 1 to 65535';
        const v = value(rule);
        const n = /^\d+$/.test(v) ? Number(v) : NaN;
        if (!Number.isInteger(n) || n < 1 || n > 65535) throw new UsageError(`--port must be ${rule}; got ${JSON.stringify(v)}`);
        out.port = n;
        break;
      }
      case '--data-dir': {
        const rule = 'a folder path';
        const v = value(rule);
        if (v.trim() === '') throw new UsageError(`--data-dir must be ${rule}; got an empty string`);
        out.dataDir = resolve(cwd, v);
        break;
      }
      default:
        throw new UsageError(`unknown argument ${JSON.stringify(arg)}; the flags are --port N, --data-dir DIR and --help`);
    }
  }
  return out;
}

async function main(): Promise<number> {
  let args: BrokerCliArgs;
  try {
    args = parseBrokerArgs(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`kafka: ${err.message}\n\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }

  let broker: KafkaBroker | undefined;
  let stopRequested = false;
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    signals++;
    stopRequested = true;
    if (signals > 1) {
      process.stderr.write(`kafka: ${sig} again, killing the broker now\n`);
      broker?.process.kill('SIGKILL');
      return;
    }
    process.stderr.write(`kafka: ${sig} received, stopping the broker (press Ctrl-C again to kill it)...\n`);
    void broker?.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    broker = await startBroker({
      port: args.port,
      dataDir: args.dataDir,
      log: (line) => process.stderr.write(`[kafka] ${line}\n`),
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
