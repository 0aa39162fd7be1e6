// The `kindling connect` command: serves Spark Connect on 127.0.0.1 until Ctrl-C, so `SPARK_REMOTE=sc://127.0.0.1:PORT python script.py` talks to Kindling.
import { answerText, parseFlags, renderHelp, STANDARD_FLAGS, standardAnswer, type FlagSpec } from '../cli.js';
import { KindlingError, UsageError } from '../errors.js';
import { SPARK_CONNECT_VERSION } from './protocol-version.js';
import { engineRunner } from './run-query.js';
import { OVERRIDE_FLAGS, overridesOf } from './run-script.js';
import { startConnectServer } from './server.js';
import { OBSERVE_FLAGS, startScriptObservers } from './observe-flags.js';

const SERVER = 'server';

/** The flags of `kindling connect`. */
export const CONNECT_FLAGS = [
  { name: 'port', kind: 'int', group: SERVER, min: 0, max: 65_535, default: 15_002, help: "TCP port on 127.0.0.1 (Spark Connect's default is 15002; 0 picks a free one)" },
  ...OVERRIDE_FLAGS,
  ...OBSERVE_FLAGS,
  ...STANDARD_FLAGS,
] as const satisfies readonly FlagSpec[];

const USAGE = 'Usage: kindling connect [--port 15002]';
const INTRO =
  `Serves the Spark Connect protocol (Spark ${SPARK_CONNECT_VERSION.replace(/\.0$/, '.x')}) on 127.0.0.1, so a PySpark script run with pyspark-client and\n` +
  'SPARK_REMOTE=sc://127.0.0.1:PORT sends its streaming query to Kindling. What a script uses that Kindling does not\n' +
  'support is answered with an exception naming it (docs/pyspark.md lists what is supported). writeStream.start() runs\n' +
  "the query on Kindling's engine. Ctrl-C stops the queries and the server.";

/** Runs `kindling connect` until SIGINT/SIGTERM; returns the exit code. */
export async function connectCommand(argv: readonly string[], log: (line: string) => void): Promise<number> {
  const { values, positionals, given } = parseFlags(argv, CONNECT_FLAGS, process.env);
  const answer = standardAnswer(values);
  if (answer) {
    process.stdout.write(answerText(answer, () => renderHelp(USAGE, INTRO, CONNECT_FLAGS)));
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'; flags start with -- (see kindling connect --help)`);
  const requested = values.port;
  const overrides = await overridesOf(values);
  const watch = await startScriptObservers(values, given, log);
  let server;
  try {
    server = await startConnectServer({ port: requested, log, runQuery: engineRunner(overrides, log, watch) });
  } catch (err) {
    await watch.close();
    throw new KindlingError('CONNECT_BIND', `cannot serve on 127.0.0.1:${requested}: ${(err as Error).message}; pick another port with --port (0 picks a free one)`, { domain: 'external', cause: err });
  }
  log(
    `kindling connect: serving Spark Connect on sc://127.0.0.1:${server.port}\n  run a PySpark script against it with: SPARK_REMOTE=sc://127.0.0.1:${server.port} python3 script.py` +
      (watch.observers?.uiUrl ? `\n  web UI: ${watch.observers.uiUrl} (the queries the scripts start)` : ''),
  );
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  log('kindling connect: stopping');
  await server.close();
  await watch.close();
  return 0;
}
