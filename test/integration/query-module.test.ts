// `--query PATH` and `--explain` as a user runs them: the real CLI on real module files, its output, messages and exit codes.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadQueryPlan } from '../../src/engine/query-module.js';
import { explainQuery } from '../../src/plan/explain.js';
import { crashAlertsPlan } from '../../src/plan/queries.js';
import { runNodeScript, type ProcessResult } from '../helpers/process.js';

const MAIN = resolve('dist/src/main.js');
const FIXTURE_ARGS = ['--source', 'file', '--path', 'test/fixtures/lab-small', '--max-events-per-batch', '1000', '--max-record-bytes', '2000', '--quiet', '--no-ui'];
const temps: string[] = [];

afterEach(async () => {
  await Promise.all(temps.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

const kindling = (args: string[]): Promise<ProcessResult> => runNodeScript(MAIN, args, 60_000);

async function sinkDir(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await readdir(dir)).sort()) out[name] = await readFile(join(dir, name), 'utf8');
  return out;
}

describe('--query PATH', () => {
  it('runs a module written with SQL strings: the same rows as the built-in crash-alerts (the golden files)', async () => {
    const out = await mkdtemp(join(tmpdir(), 'kindling-query-module-'));
    temps.push(out);
    const r = await kindling([...FIXTURE_ARGS, '--query', 'test/fixtures/sql-query.mjs', '--cores', '2', '--sink', `jsonl:${out}`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('query crash-alerts-sql (append mode)');
    expect(await sinkDir(out)).toEqual(await sinkDir(resolve('test/fixtures/lab-small.golden')));
  });

  it.each([
    ['test/fixtures/nope.mjs', `--query test/fixtures/nope.mjs: no such file (${resolve('test/fixtures/nope.mjs')}); give a built-in query (crash-alerts, vulnerability-by-ip) or the path of a module exporting a plan`],
    ['test/fixtures/bad-query/no-plan.mjs', '--query test/fixtures/bad-query/no-plan.mjs: the module exports no plan: export default readStream(schema)...toQuery({ name, outputMode })'],
    ['test/fixtures/bad-query/dataframe.mjs', '--query test/fixtures/bad-query/dataframe.mjs: the module exports a DataFrame, not a plan: end it with .toQuery({ name: "my-query"'],
    ['test/fixtures/bad-query/sql-error.mjs', `--query test/fixtures/bad-query/sql-error.mjs: SQL expression "severity = 'High' AND" at position 21: expected an expression, got the end of the text`],
    ['test/fixtures/bad-query/append-without-watermark.mjs', '--query test/fixtures/bad-query/append-without-watermark.mjs: append output mode needs a watermark on a windowed aggregation: add withWatermark('],
  ])('%s: exits 2 before any batch, saying what is wrong', async (module, message) => {
    for (const extra of [[], ['--explain']]) {
      const r = await kindling([...FIXTURE_ARGS, '--query', module, ...extra]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`kindling: ${message}`);
      expect(r.stderr).not.toMatch(/^batch \d+/m);
      expect(r.stdout).toBe('');
    }
  });
});

describe('--explain', () => {
  it('prints the built-in query\'s plan and how Kindling runs it, then exits 0 without running a batch', async () => {
    const r = await kindling(['--explain']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(explainQuery(crashAlertsPlan) + '\n');
    expect(r.stdout).toContain('pre-check: \'crash\'');
    expect(r.stderr).toBe('');
  });

  it('explains a module\'s plan in the --output-mode given', async () => {
    const r = await kindling(['--query', 'test/fixtures/sliding-query.mjs', '--output-mode', 'update', '--explain']);
    expect(r.code, r.stderr).toBe(0);
    const plan = await loadQueryPlan('test/fixtures/sliding-query.mjs');
    expect(r.stdout).toBe(explainQuery({ ...plan, outputMode: 'update' }) + '\n');
    expect(r.stdout).toContain('== Execution (sliding-crashes, update mode) ==');
  });
});
