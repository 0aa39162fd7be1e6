// The kindling CLI as a user runs it: a child process on fixture files, its jsonl output, its exit codes.
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RUN_FLAGS } from '../../src/config.js';
import { crashAlertsPlan } from '../../src/plan/queries.js';
import { runPlanReference } from '../../src/plan/reference.js';
import { expectedJsonl } from '../helpers/oracle-jsonl.js';
import { runNodeScript, type ProcessResult } from '../helpers/process.js';

const MAIN = resolve('dist/src/main.js');
const FIXTURE = resolve('test/fixtures/lab-small');
const GOLDEN = resolve('test/fixtures/lab-small.golden');
const temps: string[] = [];

afterEach(async () => {
  await Promise.all(temps.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kindling-cli-'));
  temps.push(dir);
  return dir;
}

/** Runs kindling to completion (bounded by a timeout) and returns its exit code and output. */
function kindling(args: string[], timeoutMs = 60_000): Promise<ProcessResult> {
  return runNodeScript(MAIN, args, timeoutMs);
}

/** Every jsonl file in a sink directory, by name. */
async function readSinkDir(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await readdir(dir)).sort()) out[name] = await readFile(join(dir, name), 'utf8');
  return out;
}

/** The fixture's records cut into batches of `size` across files, as the file source does. */
async function fixtureBatches(size: number): Promise<string[][]> {
  const records: string[] = [];
  for (const name of (await readdir(FIXTURE)).sort()) {
    const lines = (await readFile(join(FIXTURE, name), 'utf8')).split('\n');
    if (lines.at(-1) === '') lines.pop();
    records.push(...lines);
  }
  const batches: string[][] = [];
  for (let i = 0; i < records.length; i += size) batches.push(records.slice(i, i + size));
  return batches;
}

const FIXTURE_ARGS = ['--source', 'file', '--path', FIXTURE, '--max-events-per-batch', '1000', '--max-record-bytes', '2000', '--quiet'];

describe('kindling on fixture files', () => {
  it('writes the golden jsonl output, which is the oracle\'s answer', async () => {
    const out = await tempDir();
    const r = await kindling([...FIXTURE_ARGS, '--cores', '2', '--sink', `jsonl:${out}`]);
    // Corrupt records among those parsed (an empty line the pre-check skips is not parsed): 3 not JSON, 4 over 2000 bytes.
    expect(r.stderr).toContain('events in 4,512 | rejected 7');
    expect(r.code).toBe(0);
    const got = await readSinkDir(out);
    expect(got).toEqual(await readSinkDir(GOLDEN));

    const batches = await fixtureBatches(1000);
    expect(got).toEqual(expectedJsonl(crashAlertsPlan, batches, 0, { maxRecordChars: 2000 }));
    const oracle = runPlanReference(crashAlertsPlan, batches, { maxRecordChars: 2000 });
    expect(r.stderr).toContain(`late ${oracle.batches.reduce((n, b) => n + b.lateRows, 0)}`);
  });

  it('gives the same files at --cores 1 --partitions 200 and at --cores 3 --partitions 7', async () => {
    const golden = await readSinkDir(GOLDEN);
    for (const [cores, partitions] of [['1', '200'], ['3', '7']] as const) {
      const out = await tempDir();
      const r = await kindling([...FIXTURE_ARGS, '--cores', cores, '--partitions', partitions, '--sink', `jsonl:${out}`]);
      expect(r.code).toBe(0);
      expect(await readSinkDir(out)).toEqual(golden);
    }
  });

  it('logs corrupt records with file and line, and prints Spark\'s console tables (truncated to 20 characters, as Spark\'s default)', async () => {
    const r = await kindling([...FIXTURE_ARGS, '--cores', '1']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/corrupt record \(a row of nulls\) at .*part-000\.ndjson line 19: not a JSON object/);
    expect(r.stderr).toMatch(/part-000\.ndjson line 420: longer than the 2000-byte limit \(--max-record-bytes\)/);
    expect(r.stdout).toContain('Batch: 3');
    expect(r.stdout).toContain('|              window|  user_id|crash_count|');
    expect(r.stdout).toContain('|{2024-11-25 10:40...|user_1000|          4|');
  });

  it('runs the generator to a fixed event count and exits 0 with a summary', async () => {
    const r = await kindling(['--rate', '0', '--events', '50000', '--cores', '2', '--start-time', '2024-11-25T10:40:00Z', '--sink', 'none']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/events in 50,000 \| rejected 0 \| filtered [\d,]+ \| matched [\d,]+/);
    expect(r.stderr).toMatch(/batch 0: 50,000 rows/);
  });
});

describe('stopping', () => {
  it('on SIGINT finishes the batch in flight, drains when asked, prints the summary and exits 0', async () => {
    const child = spawn(process.execPath, [MAIN, '--rate', '20000', '--trigger', '100', '--cores', '2', '--drain', '--crash-one-in', '2', '--users', '3', '--sink', 'none'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((done) => child.on('close', done));
    const deadline = Date.now() + 30_000;
    while (!stderr.includes('batch 2:') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(stderr).toContain('batch 2:');
    child.kill('SIGINT');
    const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('timeout'), 20_000))]);
    if (code === 'timeout') child.kill('SIGKILL');
    expect(code).toBe(0);
    expect(stderr).toContain('stopping: finishing the batch in flight');
    expect(stderr).toMatch(/drained: \d+ row\(s\) from open windows/);
    expect(stderr).toMatch(/Kindling finished \(stopped\)/);
  });
});

describe('kindling flags', () => {
  it('--help lists every flag and every command, and exits 0', async () => {
    const r = await kindling(['--help']);
    expect(r.code).toBe(0);
    for (const flag of RUN_FLAGS) expect(r.stdout).toContain(`--${flag.name}`);
    for (const command of ['kindling [run]', 'kindling produce', 'kindling checkpoint inspect']) expect(r.stdout).toContain(command);
    expect(r.stdout).toMatch(/--sink console\|jsonl:DIR\|kafka:TOPIC\|none\n.*\(repeatable; default: console\)/);
  });

  it.each([
    { args: ['-h'], usage: 'Usage:\n  kindling [run]' },
    { args: ['run', '-h'], usage: 'Usage:\n  kindling [run]' },
    { args: ['produce', '-h'], usage: 'Usage: kindling produce' },
    { args: ['checkpoint', '-h'], usage: 'Usage: kindling checkpoint inspect' },
    { args: ['checkpoint', 'inspect', '-h'], usage: 'Usage: kindling checkpoint inspect' },
  ])('$args prints the help of that command and exits 0', async ({ args, usage }) => {
    const r = await kindling(args);
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith(usage)).toBe(true);
  });

  it.each([[['--version']], [['run', '--version']], [['produce', '--version']], [['checkpoint', '--version']], [['checkpoint', 'inspect', '--version']]])(
    '%j prints the version from package.json and exits 0',
    async (args) => {
      const { version } = JSON.parse(await readFile('package.json', 'utf8')) as { version: string };
      const r = await kindling(args);
      expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 0, stdout: `kindling ${version}\n` });
    },
  );

  it('takes --sink once for each sink: two jsonl sinks get the same files', async () => {
    const [a, b] = [await tempDir(), await tempDir()];
    const r = await kindling([...FIXTURE_ARGS, '--cores', '1', '--no-ui', '--sink', `jsonl:${a}`, '--sink', `jsonl:${b}`]);
    expect(r.code).toBe(0);
    const files = await readSinkDir(a);
    expect(Object.keys(files).length).toBeGreaterThan(0);
    expect(await readSinkDir(b)).toEqual(files);
  });

  it.each([
    { args: ['--cores', 'two'], message: "--cores must be an integer >= 1 and <= 256; got 'two'" },
    { args: ['--cores', '0'], message: "--cores must be an integer >= 1 and <= 256; got '0'" },
    { args: ['--partitions', '1.5'], message: "--partitions must be an integer >= 1" },
    { args: ['--bogus'], message: 'unknown flag --bogus' },
    { args: ['--cores', '2', '--cores', '3'], message: "--cores given twice: '2' and '3'; give it once" },
    { args: ['--drain', '--quiet', '--drain'], message: '--drain given twice' },
    { args: ['produce', '--brokers', 'h:1', '--topic', 'a', '--topic', 'b'], message: "--topic given twice: 'a' and 'b'" },
    { args: ['checkpoint', 'inspect', 'dir', '--top', '1', '--top=2'], message: "--top given twice: '1' and '2'" },
    { args: ['-x'], message: 'unknown flag -x' },
    { args: ['porduce'], message: "unknown command 'porduce'; the commands are run, produce, generate, connect, export, explain, what-if, checkpoint inspect" },
    { args: ['--output-mode', 'sideways'], message: "--output-mode must be one of append, update, complete; got 'sideways'" },
    { args: ['--sink', 'bogus'], message: "--sink must be console, jsonl:DIR, kafka:TOPIC or none; got 'bogus'" },
    { args: ['--sink', 'kafka'], message: '--sink kafka needs a topic: --sink kafka:TOPIC (or the older --sink kafka --sink-topic TOPIC)' },
    { args: ['--source', 'file'], message: '--source file needs --path' },
    { args: ['--rate'], message: '--rate needs a value' },
    { args: ['--late-fraction', '2'], message: "--late-fraction must be a number >= 0 and <= 1; got '2'" },
    { args: ['--source', 'file', '--path', '/nonexistent/kindling'], message: '--path /nonexistent/kindling: cannot read it (ENOENT: it does not exist; `npx kindling generate --out /nonexistent/kindling` writes seeded lab events there)' },
    { args: ['--query', 'vulnerability-by-ip', '--output-mode', 'append', '--events', '1'], message: '--output-mode append: query vulnerability-by-ip in append mode: orderBy is not supported on a streaming DataFrame unless it sorts an aggregation in complete output mode' },
    { args: ['--query', 'test/fixtures/bad-query/not-a-query.mjs', '--events', '1'], message: '--query test/fixtures/bad-query/not-a-query.mjs: the exported plan: \"outputMode\" must be append, update or complete' },
    { args: ['--query', 'test/fixtures/nope.mjs', '--events', '1'], message: '--query test/fixtures/nope.mjs: no such file' },
  ])('$args exits 2 with "$message"', async ({ args, message }) => {
    const r = await kindling(args);
    expect(r.stderr).toContain(message);
    expect(r.code).toBe(2);
  });
});
