// The rate source and trigger(once=True) with the real pyspark-client through `kindling run`, read off Spark's console sink.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runNodeScript } from '../helpers/process.js';

const MAIN = resolve('dist/src/main.js');
const SCRIPT = resolve('test/fixtures/pyspark/rate_and_once.py');
const PYTHON = process.env['KINDLING_PYSPARK_CLIENT'];
const SKIP = "KINDLING_PYSPARK_CLIENT is not set: the rate/once tests are skipped (python3 -m venv DIR && DIR/bin/pip install 'pyspark-client==4.0.*', then KINDLING_PYSPARK_CLIENT=DIR/bin/python)";
if (!PYTHON) console.warn(`\n!!! [kindling] ${SKIP}\n`);

/** The console sink's batches: each batch's data rows, as cells. */
function consoleBatches(stdout: string): string[][][] {
  return stdout.split(/^-+\nBatch: \d+\n-+\n/m).slice(1).map((table) =>
    table.split('\n').filter((line) => line.startsWith('|')).slice(1).map((line) => line.split('|').slice(1, -1).map((cell) => cell.trim())),
  );
}

/** Spark's console text of a UTC timestamp (`2026-12-04 13:30:00.02`) as epoch ms. */
const epochMs = (text: string): number => Date.parse(`${text.replace(' ', 'T')}Z`);

describe.skipIf(!PYTHON)(`the rate source and trigger(once=True)${PYTHON ? '' : ` [skipped: ${SKIP}]`}`, () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kindling-rate-once-'));
    for (const [i, values] of [[1, 2], [3], [4, 5, 6]].entries()) await writeFile(join(dir, `part-${i}.json`), values.map((n) => `{"n":${n}}\n`).join(''));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('reads rate as Spark does: values 0, 1, 2, ... in whole seconds, each at start + value * 1000 / rowsPerSecond ms', async () => {
    const r = await runNodeScript(MAIN, ['run', SCRIPT, '--python', PYTHON!, '--', 'rate'], 90_000);
    expect(r.code, r.stderr).toBe(0);
    const batches = consoleBatches(r.stdout).filter((rows) => rows.length > 0);
    expect(batches.length).toBeGreaterThanOrEqual(2);
    // Spark's offsets are whole seconds: each batch holds 50 rows per second elapsed.
    for (const rows of batches) expect(rows.length % 50).toBe(0);
    const rows = batches.flat();
    expect(rows.map(([value]) => Number(value))).toEqual(rows.map((_, i) => i));
    // RateStreamMicroBatchStream: round((value - first) * 1000 / rowsPerSecond) ms after its second's start.
    const startMs = epochMs(rows[0]![1]!);
    expect(rows.map(([, timestamp]) => epochMs(timestamp!) - startMs)).toEqual(rows.map((_, i) => i * 20));
  });

  it('refuses rampUpTime at start(), saying what to do', async () => {
    const r = await runNodeScript(MAIN, ['run', SCRIPT, '--python', PYTHON!, '--', 'rampUp'], 90_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('refused: [KINDLING_UNSUPPORTED] Not supported by Kindling: The rate source\'s rampUpTime="5s". Kindling produces rowsPerSecond from the first second: leave rampUpTime out.');
  });

  it('runs one batch over all that is available with trigger(once=True), and a batch per file with availableNow', async () => {
    const once = await runNodeScript(MAIN, ['run', SCRIPT, '--python', PYTHON!, '--', 'once', dir], 90_000);
    expect(once.code, once.stderr).toBe(0);
    const onceBatches = consoleBatches(once.stdout);
    expect(onceBatches.length).toBe(1);
    expect(onceBatches[0]!.map(([n]) => Number(n)).sort()).toEqual([1, 2, 3, 4, 5, 6]);
    const now = await runNodeScript(MAIN, ['run', SCRIPT, '--python', PYTHON!, '--', 'availableNow', dir], 90_000);
    expect(now.code, now.stderr).toBe(0);
    const nowBatches = consoleBatches(now.stdout);
    expect(nowBatches.map((rows) => rows.map(([n]) => Number(n)).sort())).toEqual([[1, 2], [3], [4, 5, 6]]);
  });
});
