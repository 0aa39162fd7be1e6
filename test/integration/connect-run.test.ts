// `kindling run SCRIPT.py` with the real pyspark-client: the script talks to Kindling, its output streams through, its exit code is Kindling's.
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVER_VERSION } from '../../src/connect/protocol-version.js';
import { runNodeScript, type ProcessResult } from '../helpers/process.js';

const MAIN = resolve('dist/src/main.js');
const SCRIPT = resolve('test/fixtures/pyspark/run_script.py');
const PYTHON = process.env['KINDLING_PYSPARK_CLIENT'];
const SKIP = "KINDLING_PYSPARK_CLIENT is not set: the kindling run tests are skipped (python3 -m venv DIR && DIR/bin/pip install 'pyspark-client==4.0.*', then KINDLING_PYSPARK_CLIENT=DIR/bin/python)";
if (!PYTHON) console.warn(`\n!!! [kindling] ${SKIP}\n`);

const kindling = (args: string[]): Promise<ProcessResult> => runNodeScript(MAIN, args, 90_000);

describe.skipIf(!PYTHON)(`kindling run SCRIPT.py${PYTHON ? '' : ` [skipped: ${SKIP}]`}`, () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kindling-run-'));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("runs the script against Kindling, accepts builder.master and setLogLevel with a note, passes its arguments, streams its output and exits with its code", async () => {
    const r = await kindling(['run', SCRIPT, '--python', PYTHON!, '--', '3', 'x']);
    expect(r.code, r.stderr).toBe(3);
    expect(JSON.parse(r.stdout.split('\n')[0]!)).toEqual({
      version: SERVER_VERSION,
      argv: ['3', 'x'],
      otherSparkContextCall:
        'spark.sparkContext.parallelize is not available under kindling run: a Spark Connect client has no SparkContext (only spark.sparkContext.setLogLevel is accepted, as a no-op)',
    });
    expect(r.stderr).toMatch(/^kindling run: .*run_script\.py with .* \(pyspark 4\.\d+\.\d+\), SPARK_REMOTE=sc:\/\/127\.0\.0\.1:\d+$/m);
    expect(r.stderr).toContain("Kindling: SparkSession.builder.master('local[*]') is ignored: the script runs on Kindling (sc://127.0.0.1:");
    // Noted once, for the first call.
    expect(r.stderr.match(/setLogLevel/g)).toEqual(['setLogLevel']);
    expect(r.stderr).toContain("Kindling: spark.sparkContext.setLogLevel('WARN') has no effect");
    expect(r.stderr).toContain('a line on stderr');
  });

  it('takes the Python from KINDLING_PYTHON, and exits 0 with a script that does', async () => {
    const child = spawn(process.execPath, [MAIN, 'run', SCRIPT, '--', '0'], { env: { ...process.env, KINDLING_PYTHON: PYTHON! }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const code = await new Promise<number | null>((done) => child.on('exit', (c) => done(c)));
    expect(code).toBe(0);
    expect(JSON.parse(stdout.split('\n')[0]!)['argv']).toEqual(['0']);
  });

  it('says how to install pyspark-client when the Python cannot import it (exit 2), and when it cannot start', async () => {
    // A Python that sees no site-packages at all.
    const bare = join(dir, 'bare-python');
    await writeFile(bare, '#!/bin/sh\nexec python3 -I -S "$@"\n');
    await chmod(bare, 0o755);
    const r = await kindling(['run', SCRIPT, '--python', bare]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`kindling: ${bare} (--python) cannot import pyspark's Spark Connect client: ModuleNotFoundError: No module named 'pyspark'`);
    expect(r.stderr).toContain("~/venv-pyspark-client/bin/pip install 'pyspark-client==4.0.*'");
    const missing = await kindling(['run', SCRIPT, '--python', join(dir, 'no-such-python')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`kindling: cannot start ${join(dir, 'no-such-python')} (--python): spawn ${join(dir, 'no-such-python')} ENOENT`);
  });

  it('stops the script and the server on SIGTERM, exiting 128 + 15', async () => {
    const child = spawn(process.execPath, [MAIN, 'run', SCRIPT, '--python', PYTHON!, '--', '0', 'sleep'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    const sleeping = new Promise<void>((ready) =>
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (stdout.includes('sleeping')) ready();
      }),
    );
    const exited = new Promise<number | null>((done) => child.on('exit', (c) => done(c)));
    await sleeping;
    child.kill('SIGTERM');
    expect(await exited).toBe(143);
  });

  const fixture = resolve('test/fixtures/lab-small');
  /** `kindling export --pyspark` of crash-alerts over the fixture files, one file per batch, written to DIR/NAME. */
  async function exportCrashAlerts(name: string): Promise<string> {
    const script = join(dir, name);
    const exported = await kindling(['export', '--pyspark', '--query', 'crash-alerts', '--source', 'file', '--path', fixture, '--max-files-per-batch', '1', '--out', script]);
    expect(exported.code, exported.stderr).toBe(0);
    return script;
  }

  it('runs a script kindling export wrote and gives the rows Kindling writes for the same query and files', async () => {
    const script = await exportCrashAlerts('crash_alerts.py');
    const viaScript = join(dir, 'via-script');
    const r = await kindling(['run', script, '--python', PYTHON!, '--sink', `jsonl:${viaScript}`]);
    expect(r.code, r.stderr).toBe(0);
    const engine = join(dir, 'engine');
    const e = await kindling(['--query', 'crash-alerts', '--source', 'file', '--path', fixture, '--max-files-per-batch', '1', '--sink', `jsonl:${engine}`, '--quiet']);
    expect(e.code, e.stderr).toBe(0);
    const files = async (d: string): Promise<Record<string, string>> => Object.fromEntries(await Promise.all((await readdir(d)).sort().map(async (f) => [f, await readFile(join(d, f), 'utf8')] as const)));
    const expected = await files(engine);
    expect(Object.keys(expected).length).toBeGreaterThan(0);
    expect(await files(viaScript)).toEqual(expected);
  });

  it('--explain prints the plan a script became, as kindling --explain prints the same query, and runs no batch', async () => {
    const script = await exportCrashAlerts('explain_crash_alerts.py');
    const out = join(dir, 'explain-out');
    const r = await kindling(['run', script, '--python', PYTHON!, '--explain', '--sink', `jsonl:${out}`, '--no-ui']);
    expect(r.code, r.stderr).toBe(0);
    const engine = await kindling(['--query', 'crash-alerts', '--source', 'file', '--path', fixture, '--explain']);
    expect(engine.code, engine.stderr).toBe(0);
    // The logical plan and the pre-check/stage lines are the engine's for the same query (only the header names differ).
    const body = (text: string): string[] => text.split('\n').filter((line) => line !== '' && !line.startsWith('== Execution'));
    const planStart = r.stdout.indexOf('== Logical Plan ==');
    expect(planStart).toBeGreaterThanOrEqual(0);
    expect(body(r.stdout.slice(planStart))).toEqual(body(engine.stdout.slice(engine.stdout.indexOf('== Logical Plan =='))));
    // No batch ran: the sink's directory holds no batch file.
    const written = await readdir(out).catch(() => [] as string[]);
    expect(written.filter((f) => f.startsWith('batch-'))).toEqual([]);
  });

  it('refuses a second positional argument, pointing at --', async () => {
    const r = await kindling(['run', SCRIPT, 'extra', '--python', PYTHON!]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`kindling: unexpected argument 'extra' after ${SCRIPT}; arguments for the script go after -- (kindling run ${SCRIPT} -- extra)`);
  });
});
