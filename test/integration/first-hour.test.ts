// What a new user does in the first hour, through the real built binary: generate input, read it back, pipe progress to jq, Ctrl-C.
import { spawn, spawnSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { crashAlertsPlan } from '../../src/plan/queries.js';
import { runPlanReference } from '../../src/plan/reference.js';
import { expectedJsonl } from '../helpers/oracle-jsonl.js';
import type { ProgressRecord } from '../../src/metrics/progress.js';
import { runNodeScript } from '../helpers/process.js';

const MAIN = resolve('dist/src/main.js');
const temps: string[] = [];

afterEach(async () => {
  await Promise.all(temps.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kindling-first-hour-'));
  temps.push(dir);
  return dir;
}

const kindling = (args: string[], timeoutMs = 60_000) => runNodeScript(MAIN, args, timeoutMs);

/** The lines of each file in a directory, in name order (hidden files skipped, as the file source does). */
async function linesPerFile(dir: string): Promise<string[][]> {
  const names = (await readdir(dir)).filter((n) => !n.startsWith('.')).sort();
  return Promise.all(names.map(async (n) => (await readFile(join(dir, n), 'utf8')).split('\n').filter((l) => l !== '')));
}

describe('kindling generate', () => {
  // 50 users, so 10 s windows hold users with more than 2 crashes (rows out); late pushes of up to 2 min make late rows.
  const GEN = ['--files', '4', '--events-per-file', '25000', '--seed', '7', '--users', '50', '--late-fraction', '0.2', '--late-spread-ms', '120000'];

  it('writes files that the file source reads back to the oracle\'s answer, late rows included', async () => {
    const dir = await tempDir();
    const logs = join(dir, 'logs');
    const g = await kindling(['generate', '--out', logs, ...GEN]);
    expect(g.stderr).toContain('4 file(s)');
    expect(g.code).toBe(0);
    const files = await linesPerFile(logs);
    expect(files.map((f) => f.length)).toEqual([25_000, 25_000, 25_000, 25_000]);
    // The late knob makes event time go backwards inside the files.
    const stamps = files.flat().map((l) => (JSON.parse(l) as { timestamp: number }).timestamp);
    expect(stamps.some((t, i) => i > 0 && t < stamps[i - 1]!)).toBe(true);

    const out = join(dir, 'out');
    const r = await kindling(['--source', 'file', '--path', logs, '--max-files-per-batch', '1', '--cores', '2', '--partitions', '7', '--drain', '--no-ui', '--quiet', '--sink', `jsonl:${out}`]);
    expect(r.stderr).toContain('events in 100,000');
    expect(r.code).toBe(0);

    const expected = expectedJsonl(crashAlertsPlan, files, 0, { drain: true });
    const got: Record<string, string> = {};
    for (const name of (await readdir(out)).sort()) got[name] = await readFile(join(out, name), 'utf8');
    expect(Object.keys(expected).length).toBeGreaterThan(0);
    expect(got).toEqual(expected);
    const lateRows = runPlanReference(crashAlertsPlan, files, { drain: true }).batches.reduce((n, b) => n + b.lateRows, 0);
    expect(lateRows).toBeGreaterThan(0);
    expect(r.stderr).toContain(`late ${lateRows.toLocaleString('en-US')}`);
  });

  it('writes the same bytes for the same flags, and refuses a directory that already holds NDJSON files', async () => {
    const dir = await tempDir();
    const [a, b] = [join(dir, 'a'), join(dir, 'b')];
    for (const out of [a, b]) expect((await kindling(['generate', '--out', out, ...GEN])).code).toBe(0);
    expect(await linesPerFile(a)).toEqual(await linesPerFile(b));
    const again = await kindling(['generate', '--out', a, ...GEN]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`--out ${a} already holds 4 NDJSON file(s)`);
    const bad = await kindling(['generate', '--out', a, '--files', '0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--files must be an integer >= 1 and <= 100000; got '0'");
  });
});

describe('the kindling bin', () => {
  it('is executable after the build, so npx and npm link can run it through its #! line', () => {
    const r = spawnSync(MAIN, ['--version'], { encoding: 'utf8' });
    expect(r.error).toBeUndefined();
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^kindling \d+\.\d+\.\d+/);
  });
});

describe('a checkpointed file run, explained afterwards', () => {
  it('replays batches cut by --max-bytes-per-batch, whose ends fall inside records, and reproduces the run', async () => {
    const dir = await tempDir();
    const [logs, out, ck] = [join(dir, 'logs'), join(dir, 'out'), join(dir, 'ck')];
    expect((await kindling(['generate', '--out', logs, '--files', '2', '--events-per-file', '20000', '--users', '20', '--seed', '3'])).code).toBe(0);
    const r = await kindling(['--source', 'file', '--path', logs, '--max-bytes-per-batch', '1000000', '--sink', `jsonl:${out}`, '--checkpoint-dir', ck, '--no-ui', '--quiet']);
    expect(r.code).toBe(0);
    // The case that matters: some logged batch ends inside a record (a batch owns the records that start in its bytes).
    const ends = await Promise.all((await readdir(join(ck, 'offsets'))).map(async (n) => (JSON.parse(await readFile(join(ck, 'offsets', n), 'utf8')) as { endOffsets: { file: string | null; byteOffset: number } | null }).endOffsets));
    const inside = await Promise.all(ends.map(async (e) => e !== null && e.file !== null && e.byteOffset > 0 && (await readFile(join(dir, e.file.replace(/^.*logs/, 'logs'))))[e.byteOffset - 1] !== 0x0a));
    expect(inside).toContain(true);
    const explained = await kindling(['explain', '--checkpoint-dir', ck, '--key', 'user_1004', '--jsonl', out]);
    expect(explained.stdout + explained.stderr).toContain('replay check: the replay reproduces the run');
    expect(explained.code).toBe(0);
  });
});

describe('a file source with nothing to read', () => {
  it('exits 2 naming the path, and runs with --allow-empty', async () => {
    const dir = await tempDir();
    const empty = join(dir, 'empty');
    await mkdir(empty);
    const r = await kindling(['--source', 'file', '--path', empty, '--no-ui']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--path ${empty}: nothing to read: it holds no files`);
    expect(r.stderr).toContain('--allow-empty');

    await writeFile(join(empty, 'part-000.ndjson'), '');
    const onlyEmpty = await kindling(['--source', 'file', '--path', empty, '--no-ui']);
    expect(onlyEmpty.code).toBe(2);
    expect(onlyEmpty.stderr).toContain('1 file(s), all empty');

    const allowed = await kindling(['--source', 'file', '--path', empty, '--allow-empty', '--no-ui']);
    expect(allowed.code).toBe(0);
    expect(allowed.stderr).toContain('running anyway (--allow-empty): 0 events');
    expect(allowed.stderr).toContain('events in 0');
    expect(allowed.stderr).toContain('final watermark none yet');
  });

  it('warns when no file has an NDJSON name, and rejects --allow-empty for other sources', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'notes.txt'), 'not a record\n');
    const r = await kindling(['--source', 'file', '--path', dir, '--no-ui', '--quiet']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('none of its 1 file(s) ends in .ndjson, .jsonl or .json');
    // It holds no query term: the pre-check skips it unparsed, so it is filtered, not counted corrupt.
    expect(r.stderr).toContain('events in 1 | rejected 0 | filtered 1');
    const wrong = await kindling(['--allow-empty', '--events', '10']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('--allow-empty applies to --source file; this run uses --source generator');
  });
});

describe('plain progress lines and the --drain batch', () => {
  it('say until the first rows how many windows are open and how far the watermark is; the drain batch has a progress record like any batch', async () => {
    const dir = await tempDir();
    const [out, progressFile] = [join(dir, 'out'), join(dir, 'progress.jsonl')];
    // 50 users over 50 s of event time (2,000 events/s): rows come out a few batches after the first window's end + 30 s.
    const r = await kindling(['--events', '100000', '--rate', '0', '--event-rate', '2000', '--max-events-per-batch', '5000', '--start-time', '2024-11-25T10:40:00Z', '--users', '50', '--cores', '2', '--no-ui', '--drain', '--sink', `jsonl:${out}`, '--progress-json', progressFile]);
    expect(r.code).toBe(0);
    // stderr is a pipe here, so the terminal view is one plain line per batch.
    const lines = r.stderr.split('\n').filter((l) => /^batch \d+/.test(l));
    const firstOut = lines.findIndex((l) => !/\| out 0( |$)/.test(l));
    expect(firstOut).toBeGreaterThan(3);
    for (const line of lines.slice(0, firstOut)) expect(line).toMatch(/\| no rows yet: \d+ window\(s\) open.*; the oldest, 10:40:00-10:40:10, (is written in [\d.]+ s of event time|is written by the next batch)$/);
    for (const line of lines.slice(firstOut)) expect(line).not.toContain('no rows yet');

    const records = (await readFile(progressFile, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as ProgressRecord);
    expect(records.map((p) => p.batchId)).toEqual(records.map((_, i) => i));
    const [before, drained] = [records.at(-2)!, records.at(-1)!];
    expect(drained.kindling).toMatchObject({ drained: true, noDataBatch: true, rejected: 0, lateRows: 0 });
    expect(drained.numInputRows).toBe(0);
    // Every group the workers held after the batch before is removed, and each forced row is in the drain batch's file.
    expect(drained.stateOperators[0]).toMatchObject({ numRowsTotal: 0, numRowsRemoved: before.stateOperators[0]!.numRowsTotal });
    const forced = (await readFile(join(out, `batch-${drained.batchId}.jsonl`), 'utf8')).trim().split('\n');
    expect(drained.sink.numOutputRows).toBe(forced.length);
    expect(forced.every((l) => (JSON.parse(l) as { forced?: boolean }).forced === true)).toBe(true);
    // One drain task per worker, each busy for its own time, the phases adding up to the total.
    expect(drained.kindling.tasks.map((t) => [t.stage, t.workerId, t.partitionId]).sort()).toEqual([[2, 0, null], [2, 1, null]]);
    // Each hands over every group it held; HAVING then keeps the forced rows on the main thread.
    expect(drained.kindling.tasks.reduce((n, t) => n + t.rows, 0)).toBe(before.stateOperators[0]!.numRowsTotal);
    const { total, ...phases } = drained.durationMs;
    expect(Object.values(phases).reduce((a, b) => a + b, 0)).toBeCloseTo(total, 3);
    expect(lines.at(-1)).toMatch(new RegExp(`^batch ${drained.batchId} \\(drained\\): 0 rows in .*\\| out ${forced.length}$`));
  });
});

describe('--progress-json - piped to a JSON reader', () => {
  it('keeps stdout to progress records only; the console sink\'s tables go to stderr', async () => {
    const r = await kindling(['--events', '600000', '--users', '50', '--rate', '0', '--start-time', '2024-11-25T10:40:00Z', '--no-ui', '--progress-json', '-', '--cores', '2']);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n').filter((l) => l !== '');
    const records = lines.map((l) => JSON.parse(l) as { batchId: number; sink: { numOutputRows: number } });
    expect(records.length).toBeGreaterThan(1);
    expect(records.map((p) => p.batchId)).toEqual(records.map((_, i) => i));
    const rowsOut = records.reduce((s, p) => s + p.sink.numOutputRows, 0);
    expect(rowsOut).toBeGreaterThan(0);
    expect(r.stderr).toContain('Batch: ');
    expect(r.stderr).toContain('|crash_count|');
    // The documented pipe, when jq is installed: it must parse every line.
    if (spawnSync('jq', ['--version']).status === 0) {
      const jq = spawnSync('jq', ['-c', '.batchId'], { input: r.stdout, encoding: 'utf8' });
      expect(jq.status).toBe(0);
      expect(jq.stdout.trim().split('\n')).toEqual(records.map((p) => String(p.batchId)));
    }
  });
});

describe('Ctrl-C', () => {
  it('counts a SIGINT delivered twice at once (terminal and npm) as one: the run drains and exits 0', async () => {
    const child = spawn(process.execPath, [MAIN, '--rate', '2000', '--cores', '1', '--no-ui', '--sink', 'none'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const started = new Promise<void>((ok) =>
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (stderr.includes('checkpoint:')) ok();
      }),
    );
    const exited = new Promise<number | null>((ok) => child.on('close', (code) => ok(code)));
    await started;
    child.kill('SIGINT');
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(stderr).toContain('Kindling finished (stopped)');
  });

  const hasScript = spawnSync('script', ['--version']).status === 0;

  /** Runs `command` in a pseudo-terminal, types Ctrl-C once Kindling is running, and resolves with script's exit code and the output. */
  async function ctrlCInTerminal(command: string): Promise<{ code: number | null; out: string }> {
    // `script` gives the command a pseudo-terminal; writing ^C to it makes the terminal send SIGINT to its foreground processes.
    // script starts the command with `$SHELL -c`; `exec` makes the command itself the terminal's job, as when typed at a
    // prompt. Without it, dash (the shell script uses where SHELL is /bin/sh or unset, as on CI) stays as the command's
    // parent and re-raises the terminal's SIGINT once the command has exited: 130 whatever the command returned.
    const child = spawn('script', ['-qec', `exec ${command}`, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    const started = new Promise<void>((ok) =>
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('checkpoint:')) ok();
      }),
    );
    const exited = new Promise<number | null>((ok) => child.on('close', (code) => ok(code)));
    await started;
    child.stdin.write('\x03');
    const code = await exited;
    return { code, out };
  }

  it.skipIf(!hasScript)('under `sh -c` as npx runs it: Kindling stops cleanly; the exit code is the shell\'s (130 from dash, 0 from bash), as README says', async () => {
    const sh = realpathSync('/bin/sh');
    const { code, out } = await ctrlCInTerminal(`/bin/sh -c 'node ${MAIN} --rate 2000 --cores 1 --no-ui --sink none --quiet'`);
    expect(out).toContain('Kindling finished (stopped)');
    // dash (Debian, Ubuntu) re-raises the terminal's SIGINT on itself after its child exited; bash execs a lone command.
    if (basename(sh) === 'dash') expect(code).toBe(130);
    else if (basename(sh) === 'bash') expect(code).toBe(0);
  });

  it.skipIf(!hasScript)('through `npm start` in a terminal exits 0, as README says', async () => {
    // --ignore-scripts skips prestart's build (the suite already built dist/, and rebuilding would race other tests).
    const { code, out } = await ctrlCInTerminal('npm start --ignore-scripts -- --rate 2000 --cores 1 --no-ui --sink none --quiet');
    expect(code).toBe(0);
    expect(out).toContain('Kindling finished (stopped)');
  });
});
