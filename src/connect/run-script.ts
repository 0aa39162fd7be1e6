// `kindling run SCRIPT.py`: serves Spark Connect on a free 127.0.0.1 port, runs the script under a Python with pyspark-client pointed at it, and exits with the script's exit code.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { join } from 'node:path';
import { answerText, flagNamed, parseFlags, renderHelp, restyle, STANDARD_FLAGS, standardAnswer, type FlagSpec, type FlagValues } from '../cli.js';
import { detectCores, RUN_FLAGS } from '../config.js';
import { parseBrokerList } from '../source/kafka-address.js';
import { engineRunner, type RunOverrides } from './run-query.js';
import { KindlingError, UsageError } from '../errors.js';
import { projectRoot } from '../project.js';
import { onStopSignals } from '../signals.js';
import { startConnectServer } from './server.js';
import { OBSERVE_FLAGS, startScriptObservers } from './observe-flags.js';

const SCRIPT = 'Running a PySpark script';

const OVER = "Over the script's settings";

/** Flags that replace what the script's queries say (kindling connect takes them too). */
export const OVERRIDE_FLAGS = [
  { name: 'brokers', kind: 'string', group: OVER, valueName: 'HOST:PORT[,...]', help: "replaces the kafka source's kafka.bootstrap.servers (the lab's scripts say kafka:9092, a Docker host name)" },
  { name: 'sink', kind: 'string', group: OVER, valueName: 'console|jsonl:DIR', help: "replaces the script's sink: console, or jsonl:DIR (DIR/batch-<id>.jsonl in Spark's JSON shape)" },
  restyle(flagNamed(RUN_FLAGS, 'cores'), { group: OVER }),
  restyle(flagNamed(RUN_FLAGS, 'partitions'), { group: OVER }),
  restyle(flagNamed(RUN_FLAGS, 'checkpoint-dir'), { group: OVER, help: "replaces the query's checkpointLocation" }),
  restyle(flagNamed(RUN_FLAGS, 'available-now'), { group: OVER, help: 'runs every query with trigger(availableNow=True): it reads what the source holds at start, then ends (awaitTermination returns)' }),
  restyle(flagNamed(RUN_FLAGS, 'explain'), { group: OVER, help: "at each writeStream.start(), prints the plan the query became and how Kindling runs it (pre-check, stage 1, stage 2), then ends that query without running a batch (awaitTermination returns at once); the script goes on" }),
] as const satisfies readonly FlagSpec[];

/** What the override flags say, for the query runner; a bad --sink is a usage error. */
export async function overridesOf(values: FlagValues<typeof OVERRIDE_FLAGS>): Promise<RunOverrides> {
  const sink = values.sink;
  let parsed: RunOverrides['sink'];
  if (sink === 'console') parsed = { kind: 'console' };
  else if (sink?.startsWith('jsonl:') && sink.length > 'jsonl:'.length) parsed = { kind: 'jsonl', dir: sink.slice('jsonl:'.length) };
  else if (sink !== undefined) throw new UsageError(`--sink must be console or jsonl:DIR; got '${sink}'`);
  if (values.brokers !== undefined) parseBrokerList(values.brokers, '--brokers');
  const cores = values.cores ?? (await detectCores());
  return {
    cores,
    partitions: values.partitions ?? cores,
    availableNow: values['available-now'],
    explainOnly: values.explain,
    ...(values.brokers !== undefined ? { brokers: values.brokers } : {}),
    ...(parsed ? { sink: parsed } : {}),
    ...(values['checkpoint-dir'] !== undefined ? { checkpointDir: values['checkpoint-dir'] } : {}),
  };
}

/** The flags of `kindling run SCRIPT.py`. */
export const RUN_SCRIPT_FLAGS = [
  { name: 'python', kind: 'string', group: SCRIPT, valueName: 'PATH', defaultText: '$KINDLING_PYTHON, else $PYSPARK_PYTHON, else python3', help: 'the Python that runs the script; it needs pyspark-client (pip install \'pyspark-client==4.0.*\')' },
  { name: 'port', kind: 'int', group: SCRIPT, min: 0, max: 65_535, default: 0, defaultText: '0: a free one', help: 'TCP port on 127.0.0.1 for the Spark Connect server the script talks to' },
  ...OVERRIDE_FLAGS,
  ...OBSERVE_FLAGS,
  ...STANDARD_FLAGS,
] as const satisfies readonly FlagSpec[];

const USAGE = 'Usage: kindling run SCRIPT.py [--python PATH] [--port N] [-- SCRIPT ARGS...]';
const INTRO =
  "Runs a PySpark script on Kindling: serves Spark Connect on 127.0.0.1 and runs the script with SPARK_REMOTE pointing\n" +
  "at it, under a Python that has pyspark-client. spark.sparkContext.setLogLevel(...) and builder.master(...) are\n" +
  "accepted as no-ops (noted once), so a lab script runs unchanged. The script's output streams through; Kindling\n" +
  "exits with the script's exit code. Arguments after -- go to the script. docs/pyspark.md lists what is supported.";

/** Where the helper Python files live: check_client.py and the sitecustomize.py put on the script's PYTHONPATH. */
const pythonDir = (): string => join(projectRoot(), 'src', 'connect', 'python');

const INSTALL =
  "Install the client in a venv of its own (it cannot share one with the full pyspark package):\n" +
  "  python3 -m venv ~/venv-pyspark-client && ~/venv-pyspark-client/bin/pip install 'pyspark-client==4.0.*'\n" +
  'then: kindling run SCRIPT.py --python ~/venv-pyspark-client/bin/python   (or set KINDLING_PYTHON to that path)';

/** Runs `python file`, collecting stdout; rejects when the Python cannot be started at all. */
function capture(python: string, file: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, [file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Checks that `python` imports pyspark's Spark Connect client; returns pyspark's version, or throws saying how to install it. */
async function checkClient(python: string, chosenBy: string): Promise<string> {
  let r;
  try {
    r = await capture(python, join(pythonDir(), 'check_client.py'));
  } catch (err) {
    throw new KindlingError('NO_PYSPARK_CLIENT', `cannot start ${python} (${chosenBy}): ${(err as Error).message}\n${INSTALL}`, { domain: 'user', cause: err });
  }
  const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
  const answer = line ? (JSON.parse(line) as { ok: boolean; version?: string; error?: string }) : { ok: false, error: r.stderr.trim() || `exit code ${r.code}` };
  if (!answer.ok) throw new KindlingError('NO_PYSPARK_CLIENT', `${python} (${chosenBy}) cannot import pyspark's Spark Connect client: ${answer.error}\n${INSTALL}`, { domain: 'user' });
  return answer.version ?? 'unknown';
}

/** The Python to use and what chose it: --python, then KINDLING_PYTHON, then PYSPARK_PYTHON, then python3. */
function choosePython(flag: string | undefined, env: NodeJS.ProcessEnv): { python: string; chosenBy: string } {
  if (flag !== undefined) return { python: flag, chosenBy: '--python' };
  for (const name of ['KINDLING_PYTHON', 'PYSPARK_PYTHON']) {
    const v = env[name];
    if (v) return { python: v, chosenBy: `$${name}` };
  }
  return { python: 'python3', chosenBy: 'the default; choose another with --python or KINDLING_PYTHON' };
}

/** Runs `kindling run SCRIPT.py ...`; returns the script's exit code (128 + the signal's number if a signal ended it). */
export async function runScriptCommand(argv: readonly string[], log: (line: string) => void): Promise<number> {
  const end = argv.indexOf('--');
  const ours = end < 0 ? argv : argv.slice(0, end);
  const scriptArgs = end < 0 ? [] : argv.slice(end + 1);
  const { values, positionals, given } = parseFlags(ours, RUN_SCRIPT_FLAGS, process.env);
  const answer = standardAnswer(values);
  if (answer) {
    process.stdout.write(answerText(answer, () => renderHelp(USAGE, INTRO, RUN_SCRIPT_FLAGS)));
    return 0;
  }
  const [script, ...extra] = positionals;
  if (script === undefined) throw new UsageError(`kindling run needs the script: ${USAGE}`);
  if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}' after ${script}; arguments for the script go after -- (kindling run ${script} -- ${extra.join(' ')})`);
  const overrides = await overridesOf(values);
  const { python, chosenBy } = choosePython(values.python, process.env);
  const version = await checkClient(python, chosenBy);
  const watch = await startScriptObservers(values, given, log);

  let server;
  try {
    server = await startConnectServer({ port: values.port, log, verbose: false, runQuery: engineRunner(overrides, log, watch) });
  } catch (err) {
    await watch.close();
    throw new KindlingError('CONNECT_BIND', `cannot serve on 127.0.0.1:${values.port}: ${(err as Error).message}; pick another port with --port (0 picks a free one)`, { domain: 'external', cause: err });
  }
  const remote = `sc://127.0.0.1:${server.port}`;
  log(`kindling run: ${script} with ${python} (pyspark ${version}), SPARK_REMOTE=${remote}${watch.observers?.uiUrl ? `\n  web UI: ${watch.observers.uiUrl}` : ''}`);
  const pythonPath = [pythonDir(), process.env['PYTHONPATH']].filter(Boolean).join(':');
  const child = spawn(python, [script, ...scriptArgs], { stdio: 'inherit', env: { ...process.env, SPARK_REMOTE: remote, PYTHONPATH: pythonPath } });
  // Ctrl-C reaches the script from the terminal (same process group): it stops it, and Kindling follows when it exits;
  // a second Ctrl-C ends the script at once.
  const removeSignalHandlers = onStopSignals(
    (signal) => {
      if (signal === 'SIGTERM') child.kill('SIGTERM');
    },
    () => child.kill('SIGKILL'),
  );
  try {
    return await new Promise<number>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code, signal) => resolve(code ?? 128 + (signal ? constants.signals[signal] : 0)));
    });
  } finally {
    removeSignalHandlers();
    await server.close();
    await watch.close();
  }
}
