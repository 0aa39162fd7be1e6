// The `kindling export --pyspark` command: a built-in query or a plan module, with source flags, printed as a runnable PySpark script.
import { writeFile } from 'node:fs/promises';
import { answerText, flagNamed, parseFlags, renderHelp, restyle, STANDARD_FLAGS, standardAnswer, type FlagSpec } from '../cli.js';
import { RUN_FLAGS } from '../config.js';
import { UsageError } from '../errors.js';
import { BUILTIN_PLANS, loadQueryPlan } from '../engine/query-module.js';
import { kindlingVersion } from '../project.js';
import { exportPySpark, type ExportSource } from './export-pyspark.js';

const WHAT = 'What to export';
const SOURCE = 'Source of the exported script';
const OUT = 'Output of the exported script';

/** The flags of `kindling export`; the source flags are `kindling run`'s, so one command line fits both. */
export const EXPORT_FLAGS = [
  { name: 'pyspark', kind: 'bool', group: WHAT, help: 'print a PySpark script (the one export format so far; required)' },
  { name: 'query', kind: 'string', group: WHAT, default: 'crash-alerts', valueName: 'NAME|PATH', help: `built-in query (${Object.keys(BUILTIN_PLANS).join(', ')}) or the path of an ES module whose default export (or export \`query\`) is a query plan (readStream(...)...toQuery(...), docs/queries.md)` },
  { name: 'out', kind: 'string', group: WHAT, valueName: 'FILE', defaultText: 'stdout', help: 'write the script to FILE' },
  { name: 'source', kind: 'enum', group: SOURCE, choices: ['kafka', 'file'], default: 'kafka', help: "kafka: Spark's Kafka source; file: Spark's text source over a directory of NDJSON files" },
  { ...flagNamed(RUN_FLAGS, 'brokers'), group: SOURCE, defaultText: '127.0.0.1:9092 (npm run kafka)', help: 'Kafka bootstrap servers written into the script (kafka.bootstrap.servers)' },
  restyle(flagNamed(RUN_FLAGS, 'topic'), { group: SOURCE }),
  restyle(flagNamed(RUN_FLAGS, 'starting-offsets'), { group: SOURCE, help: "Spark's startingOffsets for a query without a checkpoint" }),
  restyle(flagNamed(RUN_FLAGS, 'max-offsets-per-trigger'), { group: SOURCE }),
  restyle(flagNamed(RUN_FLAGS, 'kafka-isolation-level'), { group: SOURCE }),
  restyle(flagNamed(RUN_FLAGS, 'fail-on-data-loss'), { group: SOURCE }),
  restyle(flagNamed(RUN_FLAGS, 'path'), { group: SOURCE, help: 'directory of NDJSON files (--source file)' }),
  restyle(flagNamed(RUN_FLAGS, 'max-files-per-batch'), { group: SOURCE }),
  restyle(flagNamed(RUN_FLAGS, 'available-now'), { group: OUT, help: "trigger(availableNow=True): read what the source holds at start, then stop" }),
  { ...flagNamed(RUN_FLAGS, 'trigger'), group: OUT, defaultText: "Spark's default: as soon as possible", help: 'trigger(processingTime=MS milliseconds)' },
  { ...flagNamed(RUN_FLAGS, 'checkpoint-dir'), group: OUT, defaultText: "none: Spark's temporary checkpoint", help: 'the query\'s checkpointLocation' },
  ...STANDARD_FLAGS,
] as const satisfies readonly FlagSpec[];

const USAGE = 'Usage: kindling export --pyspark [--query NAME|PATH] [--source kafka|file] [source flags] [--out FILE]';
const INTRO =
  'Prints a PySpark Structured Streaming script that runs the same query on Spark (spark-submit on a cluster):\n' +
  'the same parse step, plan steps, output mode and source, with the console sink. docs/pyspark.md says more.';

/** Runs `kindling export`; returns the exit code. */
export async function exportCommand(argv: readonly string[], out: (text: string) => void, log: (line: string) => void): Promise<number> {
  const { values, positionals, given } = parseFlags(argv, EXPORT_FLAGS, process.env);
  const answer = standardAnswer(values);
  if (answer) {
    out(answerText(answer, () => renderHelp(USAGE, INTRO, EXPORT_FLAGS)));
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'; flags start with -- (see kindling export --help)`);
  if (!values.pyspark) throw new UsageError('kindling export needs --pyspark (the one export format so far)');
  const kafkaOnly = ['brokers', 'topic', 'starting-offsets', 'max-offsets-per-trigger', 'kafka-isolation-level', 'fail-on-data-loss'] as const;
  const fileOnly = ['path', 'max-files-per-batch'] as const;
  for (const f of values.source === 'kafka' ? fileOnly : kafkaOnly.filter((k) => k !== 'brokers')) {
    if (given.has(f)) throw new UsageError(`--${f} applies to --source ${values.source === 'kafka' ? 'file' : 'kafka'}; this export uses --source ${values.source}`);
  }
  if (values.trigger !== undefined && values['available-now']) throw new UsageError('--trigger and --available-now are two triggers; give one');
  let source: ExportSource;
  if (values.source === 'file') {
    if (values.path === undefined) throw new UsageError('--source file needs --path DIR (the directory of NDJSON files the script reads)');
    source = { kind: 'file', path: values.path, ...(values['max-files-per-batch'] !== undefined ? { maxFilesPerTrigger: values['max-files-per-batch'] } : {}) };
  } else {
    source = {
      kind: 'kafka',
      // The broker of `npm run kafka` when none is given; the lab's Docker setup says kafka:9092.
      brokers: values.brokers ?? '127.0.0.1:9092',
      topic: values.topic,
      startingOffsets: values['starting-offsets'],
      ...(values['max-offsets-per-trigger'] !== undefined ? { maxOffsetsPerTrigger: values['max-offsets-per-trigger'] } : {}),
      isolationLevel: values['kafka-isolation-level'],
      failOnDataLoss: values['fail-on-data-loss'] === 'true',
    };
  }
  const plan = await loadQueryPlan(values.query);
  const script = exportPySpark(
    plan,
    source,
    { availableNow: values['available-now'], ...(values.trigger ? { triggerMs: values.trigger } : {}), ...(values['checkpoint-dir'] ? { checkpointDir: values['checkpoint-dir'] } : {}) },
    { command: ['kindling', 'export', ...argv.filter((a, i) => a !== '--out' && argv[i - 1] !== '--out' && !a.startsWith('--out='))].join(' '), kindlingVersion: kindlingVersion() },
  );
  if (values.out === undefined) out(script);
  else {
    await writeFile(values.out, script);
    log(`kindling export: wrote ${values.out} (run it with spark-submit ${values.out})`);
  }
  return 0;
}
