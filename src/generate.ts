// `kindling generate`: writes the lab's seeded event stream as NDJSON files, the file source's input on a fresh clone.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { mkdir, readdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { answerText, parseFlags, renderHelp, STANDARD_FLAGS, standardAnswer, type FlagSpec } from './cli.js';
import { GENERATOR_FLAGS, generatorSpecFrom } from './config.js';
import { UsageError } from './errors.js';
import { labEventJson, type GeneratorSpec } from './source/lab-events.js';

const USAGE = 'Usage: kindling generate --out DIR [--files N] [--events-per-file M] [generator flags]';
const INTRO =
  "Writes the lab's event stream (the generator source's events, seeded and deterministic) as NDJSON files\n" +
  'DIR/part-000.ndjson, part-001.ndjson, ... for --source file. The same flags write the same bytes; the\n' +
  'late-event knobs push a fraction of timestamps back, so the files hold late and out-of-order events.\n' +
  'Example: kindling generate --out logs --files 10 --events-per-file 60000 --users 200 --late-fraction 0.01 --late-spread-ms 60000';

/** The fixed default start time: without --start-time, the same flags give the same files on every machine. */
export const GENERATE_DEFAULT_START = '2024-11-25T10:40:00.000Z';

const OUT = 'Output files';
const STREAM = 'The stream (the generator source\'s flags, without the wall-clock --rate and --events)';

export const GENERATE_FLAGS = [
  { name: 'out', kind: 'string', group: OUT, valueName: 'DIR', help: 'directory to write into (created if missing; must hold no .ndjson/.jsonl/.json files yet)' },
  { name: 'files', kind: 'int', group: OUT, min: 1, max: 100_000, default: 10, help: 'number of files; file k holds events [k*M, (k+1)*M) of the stream' },
  { name: 'events-per-file', kind: 'int', group: OUT, min: 1, default: 10_000, valueName: 'M', help: 'events in each file' },
  { name: 'start-time', kind: 'string', group: STREAM, valueName: 'ISO|MS', default: GENERATE_DEFAULT_START, help: 'event time of the first event (fixed by default, so the same flags write the same bytes)' },
  ...GENERATOR_FLAGS.filter((f) => f.name !== 'rate' && f.name !== 'events' && f.name !== 'start-time').map((f) =>
    f.name === 'event-rate' ? { ...f, group: STREAM, defaultText: '10000' } : { ...f, group: STREAM },
  ),
  ...STANDARD_FLAGS,
] as const satisfies readonly FlagSpec[];

/** The name of file `k` (zero-padded so name order is stream order, as the file source reads them). */
export const partFileName = (k: number, files: number): string => `part-${String(k).padStart(Math.max(3, String(files - 1).length), '0')}.ndjson`;

/**
 * Writes events [0, files * eventsPerFile) of `spec`'s stream, `eventsPerFile` per file (the last
 * file shorter when `totalEvents` is smaller), each written to a temp name and renamed, so a file
 * the source can see is always whole. Returns the files' paths in stream order.
 */
export async function writeLabFiles(
  dir: string,
  spec: GeneratorSpec,
  files: number,
  eventsPerFile: number,
  log: (line: string) => void,
  totalEvents = files * eventsPerFile,
): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  const started = Date.now();
  for (let k = 0; k < files; k++) {
    const path = join(dir, partFileName(k, files));
    const temp = join(dir, `.${partFileName(k, files)}.tmp`);
    const out = createWriteStream(temp);
    const end = Math.min(totalEvents, (k + 1) * eventsPerFile);
    for (let i = k * eventsPerFile; i < end; ) {
      const chunk: string[] = [];
      for (const stop = Math.min(end, i + 10_000); i < stop; i++) chunk.push(labEventJson(spec, i));
      if (!out.write(chunk.join('\n') + '\n')) await once(out, 'drain');
    }
    out.end();
    await once(out, 'close');
    await rename(temp, path);
    written.push(path);
    log(`  wrote ${path} (${end.toLocaleString('en-US')} of ${totalEvents.toLocaleString('en-US')} events, ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  }
  return written;
}

/** `kindling generate ARGS`; returns the exit code. */
export async function generateCommand(argv: readonly string[], log: (line: string) => void, write: (text: string) => void): Promise<number> {
  const { values, positionals } = parseFlags(argv, GENERATE_FLAGS);
  const answer = standardAnswer(values);
  if (answer) {
    write(answerText(answer, () => renderHelp(USAGE, INTRO, GENERATE_FLAGS)));
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'; kindling generate takes flags only (see kindling generate --help)`);
  const out = values['out'];
  if (out === undefined) throw new UsageError('kindling generate needs --out DIR (where the NDJSON files go)');
  const existing = await readdir(out).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [] as string[];
    throw new UsageError(`--out ${out}: cannot use it (${err.code ?? err.message})`);
  });
  const clash = existing.filter((name) => /\.(ndjson|jsonl|json)$/.test(name) && !name.startsWith('.'));
  if (clash.length > 0) {
    throw new UsageError(`--out ${out} already holds ${clash.length} NDJSON file(s) (${clash.slice(0, 3).join(', ')}${clash.length > 3 ? ', ...' : ''}); the file source would read them too: give an empty or new directory`);
  }
  const files = values['files'];
  const eventsPerFile = values['events-per-file'];
  // No wall-clock rate here: the event-time rate is --event-rate, or 10,000 events/s.
  const spec = generatorSpecFrom({ ...values, rate: 0, events: undefined }, Date.now());
  log(
    `kindling generate: ${(files * eventsPerFile).toLocaleString('en-US')} events (seed ${spec.seed}, from ${new Date(spec.startTimeMs).toISOString()}, ` +
      `${spec.eventsPerSecond.toLocaleString('en-US')} events/s of event time${spec.lateFraction > 0 ? `, ${spec.lateFraction} late by up to ${spec.lateSpreadMs} ms` : ''}) into ${files} file(s) in ${out}`,
  );
  await writeLabFiles(out, spec, files, eventsPerFile, log);
  log(`done: read them with  npx kindling --source file --path ${out} --max-files-per-batch 1`);
  return 0;
}
