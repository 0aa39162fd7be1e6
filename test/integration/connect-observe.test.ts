// The queries a PySpark script starts, seen as Kindling's own run is: the web UI in a real Chromium, --progress-json, and Spark's query identity across restarts (real pyspark-client).
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ProgressRecord } from '../../src/metrics/progress.js';
import { BROWSER_SKIP, chartPoints, needsBrowser, openBrowser } from '../helpers/browser.js';
import { waitFor } from '../helpers/kafka.js';
import { runProcess } from '../helpers/process.js';
import { cleanTemps, Kindling, readProgress, tempDir } from './kafka-harness.js';

const SCRIPT = resolve('test/fixtures/pyspark/two_queries.py');
const PYTHON = process.env['KINDLING_PYSPARK_CLIENT'];
const SKIP = 'KINDLING_PYSPARK_CLIENT is not set';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  await cleanTemps();
});

interface Ids {
  readonly id: string;
  readonly runId: string;
}

/** The script's JSON lines on stdout, by kind ("started" or "lastProgress") and query name. */
function scriptLines(stdout: string, kind: 'started' | 'lastProgress'): Record<string, Ids & { name?: string }> {
  const out: Record<string, Ids> = {};
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{"')) continue;
    const o = JSON.parse(line) as Record<string, string>;
    if (o[kind] !== undefined) out[o[kind]!] = { id: o['id']!, runId: o['runId']!, ...(o['name'] !== undefined ? { name: o['name'] } : {}) };
  }
  return out;
}

/** Runs two_queries.py under kindling run; the process is stopped at the end of the test if still running. */
function runScript(args: readonly string[], checkpoints: string, stopFile: string): Kindling {
  const k = new Kindling(['run', SCRIPT, '--python', PYTHON!, ...args, '--', checkpoints, stopFile]);
  cleanups.push(async () => {
    if (k.child.exitCode !== null) return;
    // SIGTERM reaches the script through kindling run (Ctrl-C would reach it from the terminal).
    k.child.kill('SIGTERM');
    await k.finish(30_000);
  });
  return k;
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  expect(res.status, url).toBe(200);
  return (await res.json()) as T;
}

/** --progress-json's records of one run, by query runId. */
function byRun(records: readonly ProgressRecord[]): Map<string, ProgressRecord[]> {
  const runs = new Map<string, ProgressRecord[]>();
  for (const r of records) runs.set(r.runId, [...(runs.get(r.runId) ?? []), r]);
  return runs;
}

describe.skipIf(!PYTHON)(`the queries of kindling run SCRIPT.py${PYTHON ? '' : ` [skipped: ${SKIP}]`}`, () => {
  it.skipIf(needsBrowser)(`are each on the web UI, with their batches, tasks, plan graph, watermark and state, and in --progress-json${needsBrowser ? ` [skipped: ${BROWSER_SKIP}]` : ''}`, async () => {
    const dir = await tempDir('kindling-observe-');
    const progressFile = join(dir, 'progress.jsonl');
    const stopFile = join(dir, 'stop');
    const k = runScript(['--ui-port', '0', '--progress-json', progressFile], join(dir, 'ck'), stopFile);
    await k.waitForLog(/web UI: http:\/\/127\.0\.0\.1:\d+\//);
    const base = /web UI: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(k.stderr)![1]!;
    const { page, requests, errors } = await openBrowser(cleanups);
    // Opened before the script started a query: the page waits, then follows the queries as they start.
    await page.goto(base);
    await waitFor(() => Object.keys(scriptLines(k.stdout, 'started')).length === 2 || k.child.exitCode !== null, { timeoutMs: 90_000, intervalMs: 100, what: 'both queries started' });
    const started = scriptLines(k.stdout, 'started');
    expect(Object.keys(started).sort(), k.stderr).toEqual(['deduped', 'windowed']);

    // The UI lists both, in start order, with the ids the client got from writeStream.start() (a query is listed once its engine is up).
    const listed = async (): Promise<unknown> =>
      (await getJson<Array<{ id: string; runId: string; name: string; active: boolean }>>(`${base}api/queries`)).map(({ id, runId, name, active }) => ({ id, runId, name, active }));
    await expect.poll(listed, { timeout: 20_000 }).toEqual([
      { ...started['windowed'], name: 'windowed', active: true },
      { ...started['deduped'], name: 'deduped', active: true },
    ]);
    // A page at the bare address follows the newest query: it moved to "deduped" when it started.
    await expect.poll(() => page.textContent('#status'), { timeout: 20_000 }).toMatch(/^deduped · live/);
    expect(await page.locator('#queries select option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value))).toEqual([started['windowed']!.runId, started['deduped']!.runId]);

    // Choosing the first query in the picker opens its page: its own batches, watermark and state.
    const first = started['windowed']!;
    await page.selectOption('#queries select', first.runId);
    await page.waitForURL(`${base}?query=${first.runId}`);
    await expect.poll(() => page.textContent('#status'), { timeout: 20_000 }).toMatch(/^windowed · live/);
    const api = (path: string): string => `${base}api/${path}${path.includes('?') ? '&' : '?'}query=${first.runId}`;
    for (const chart of ['input-rows', 'watermark-gap', 'state-rows']) expect(await chartPoints(page, chart, 2)).toBeGreaterThanOrEqual(2);
    const kpis = await page.evaluate(() => ({
      batch: Number(document.querySelector('[data-testid="kpi-strip"]')!.getAttribute('data-batch')),
      rows: Number(document.querySelector('[data-testid="kpi-input-rows"]')!.getAttribute('data-value')),
      // The watermark shown is the newest batch's (a no-data batch may have moved it).
      newest: Number(document.body.dataset['rendered']),
      watermarkMs: Number(document.querySelector('[data-testid="kpi-watermark"]')!.getAttribute('data-value')),
    }));
    const records = await getJson<ProgressRecord[]>(api('progress'));
    const shownBatch = records.find((r) => r.batchId === kpis.batch)!;
    expect(shownBatch.id).toBe(first.id);
    expect(kpis.rows).toBe(shownBatch.numInputRows);
    expect(kpis.watermarkMs).toBe(records.find((r) => r.batchId === kpis.newest)!.kindling.watermarkMs);
    expect(kpis.watermarkMs).toBeGreaterThan(0);
    expect(shownBatch.stateOperators[0]!.numRowsTotal).toBeGreaterThan(0);

    await mkdir(resolve('test-output'), { recursive: true });
    await page.screenshot({ path: resolve('test-output/ui-script-queries.png') });

    // Its plan graph: the operators the engine runs for the script's query, each with the shown batch's rows.
    const config = await getJson<{ id: string; runId: string; query: { name: string; graph: Array<{ name: string }> } }>(api('config'));
    expect({ id: config.id, runId: config.runId, name: config.query.name }).toEqual({ ...first, name: 'windowed' });
    await page.click('nav a[href="#plan"]');
    await page.waitForFunction(() => (document.querySelector('[data-testid="plan-graph"]')?.getAttribute('data-batch') ?? '') !== '', undefined, { timeout: 20_000 });
    const plan = await page.evaluate(() => ({
      batch: Number(document.querySelector('[data-testid="plan-graph"]')!.getAttribute('data-batch')),
      ops: [...document.querySelectorAll('[data-testid="plan-op"]')].map((e) => ({ name: e.getAttribute('data-name')!, rowsIn: Number(e.getAttribute('data-rows-in')), rowsOut: Number(e.getAttribute('data-rows-out')) })),
    }));
    expect(plan.ops.map((o) => o.name)).toEqual(config.query.graph.map((o) => o.name));
    expect(plan.ops.map((o) => o.name)).toContain('Stateful aggregate');
    const planBatch = (await getJson<ProgressRecord[]>(api('progress'))).find((r) => r.batchId === plan.batch)!;
    expect(plan.ops.map(({ rowsIn, rowsOut }) => ({ rowsIn, rowsOut }))).toEqual(planBatch.kindling.operators);

    // Its tasks: stage 1 and stage 2 of a batch, as the engine reported them.
    await page.click('nav a[href="#tasks"]');
    await expect.poll(() => page.textContent('[data-testid="bottleneck"]'), { timeout: 20_000 }).toMatch(/takes \d+% of this .* batch/);
    const tasksBatch = Number(await page.getAttribute('[data-testid="bottleneck"]', 'data-batch'));
    const t = (await getJson<ProgressRecord[]>(api('progress'))).find((r) => r.batchId === tasksBatch)!;
    expect(Number(await page.textContent('[data-testid="stage1-tasks"]'))).toBe(t.kindling.tasks.filter((x) => x.stage === 1).length);
    expect(Number(await page.getAttribute('[data-testid="spark-tasks"]', 'data-spark-tasks'))).toBe(t.stateOperators[0]!.numShufflePartitions);

    // Its Config tab: the query and the settings the script gave it.
    await page.click('nav a[href="#config"]');
    await expect.poll(() => page.textContent('[data-testid="config-query"]'), { timeout: 20_000 }).toContain('windowed');
    expect(await page.textContent('[data-testid="config-settings"]')).toMatch(/source\.format\s*rate/);

    // The script ends; every batch of both queries is in --progress-json, under the ids the client has.
    await writeFile(stopFile, '');
    expect(await k.finish(60_000), k.stderr).toBe(0);
    const last = scriptLines(k.stdout, 'lastProgress');
    const runs = byRun(await readProgress(progressFile));
    expect([...runs.keys()].sort()).toEqual([first.runId, started['deduped']!.runId].sort());
    for (const name of ['windowed', 'deduped']) {
      const records = runs.get(started[name]!.runId)!;
      expect(records.every((r) => r.id === started[name]!.id)).toBe(true);
      expect(records.map((r) => r.batchId)).toEqual(records.map((_, i) => i));
      // query.lastProgress is the same query and run as the records.
      expect(last[name]).toEqual({ ...started[name], name });
    }
    expect(errors).toEqual([]);
    expect(requests.filter((u) => !u.startsWith(base) && !u.startsWith('data:'))).toEqual([]);
  });

  it('under kindling connect: the web UI lists every query a script started, stopped ones too, and --progress-json has their batches', async () => {
    const dir = await tempDir('kindling-observe-connect-');
    const progressFile = join(dir, 'progress.jsonl');
    const stopFile = join(dir, 'stop');
    await writeFile(stopFile, '');
    const server = new Kindling(['connect', '--port', '0', '--ui-port', '0', '--progress-json', progressFile]);
    cleanups.push(async () => {
      if (server.child.exitCode === null) await server.interrupt();
    });
    await server.waitForLog(/web UI: http:\/\/127\.0\.0\.1:\d+\//);
    const remote = /serving Spark Connect on (sc:\/\/127\.0\.0\.1:\d+)/.exec(server.stderr)![1]!;
    const base = /web UI: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(server.stderr)![1]!;
    const script = await runProcess(PYTHON!, [SCRIPT, join(dir, 'ck'), stopFile], { timeoutMs: 90_000, env: { SPARK_REMOTE: remote } });
    expect(script.code, script.stderr).toBe(0);
    const started = scriptLines(script.stdout, 'started');
    // The script ended and its queries stopped; the server and its UI go on, the queries still on view.
    const listed = await getJson<Array<{ id: string; runId: string; name: string; active: boolean }>>(`${base}api/queries`);
    expect(listed.map(({ id, runId, name, active }) => ({ id, runId, name, active }))).toEqual([
      { ...started['windowed'], name: 'windowed', active: false },
      { ...started['deduped'], name: 'deduped', active: false },
    ]);
    const shown = await getJson<ProgressRecord[]>(`${base}api/progress?query=${started['windowed']!.runId}`);
    expect(shown.length).toBeGreaterThan(2);
    expect(await server.interrupt()).toBe(0);
    const runs = byRun(await readProgress(progressFile));
    for (const name of ['windowed', 'deduped']) expect(runs.get(started[name]!.runId)!.every((r) => r.id === started[name]!.id)).toBe(true);
    expect(runs.get(started['windowed']!.runId)!.map((r) => r.batchId)).toEqual(shown.map((r) => r.batchId));
  });

  it("keep Spark's query.id across runs on the same checkpointLocation (it is in the checkpoint); runId is new each run", async () => {
    const dir = await tempDir('kindling-identity-');
    const stopFile = join(dir, 'stop');
    // The stop file is there: each run starts both queries, waits for a batch of each, prints their ids and stops.
    await writeFile(stopFile, '');
    const runs: Array<{ started: Record<string, Ids>; last: Record<string, Ids>; records: Map<string, ProgressRecord[]> }> = [];
    for (const n of [1, 2]) {
      const file = join(dir, `progress-${n}.jsonl`);
      const k = runScript(['--no-ui', '--progress-json', file], join(dir, 'ck'), stopFile);
      expect(await k.finish(90_000), k.stderr).toBe(0);
      runs.push({ started: scriptLines(k.stdout, 'started'), last: scriptLines(k.stdout, 'lastProgress'), records: byRun(await readProgress(file)) });
    }
    const [one, two] = runs as [(typeof runs)[0], (typeof runs)[0]];
    for (const name of ['windowed', 'deduped']) {
      expect(two.started[name]!.id).toBe(one.started[name]!.id);
      expect(two.started[name]!.runId).not.toBe(one.started[name]!.runId);
      const metadata = JSON.parse(await readFile(join(dir, 'ck', name, 'metadata.json'), 'utf8')) as { queryId: string };
      expect(metadata.queryId).toBe(one.started[name]!.id);
      for (const run of runs) {
        expect(run.last[name]).toEqual({ ...run.started[name], name });
        const records = run.records.get(run.started[name]!.runId)!;
        expect(records.length).toBeGreaterThan(0);
        expect(records.every((r) => r.id === run.started[name]!.id)).toBe(true);
      }
      // The second run continues the first one's batches, as the same query does.
      const firstRun = one.records.get(one.started[name]!.runId)!;
      expect(two.records.get(two.started[name]!.runId)![0]!.batchId).toBeGreaterThan(firstRun.at(-1)!.batchId);
    }
    expect(existsSync(join(dir, 'ck', 'windowed', 'commits'))).toBe(true);
  });

  it('refuse at start() a checkpointLocation whose metadata cannot be read, with its message', async () => {
    const dir = await tempDir('kindling-identity-');
    const ck = join(dir, 'ck');
    await mkdir(ck);
    await writeFile(join(ck, 'metadata.json'), '{ not json');
    const script = join(dir, 'corrupt.py');
    await writeFile(
      script,
      [
        'from pyspark.sql import SparkSession',
        'spark = SparkSession.builder.getOrCreate()',
        'try:',
        `    spark.readStream.format("rate").load().writeStream.format("console").option("checkpointLocation", ${JSON.stringify(ck)}).start()`,
        'except Exception as e:',
        '    print(f"refused: {type(e).__name__}: {e}", flush=True)',
      ].join('\n') + '\n',
    );
    const k = new Kindling(['run', script, '--python', PYTHON!, '--no-ui']);
    expect(await k.finish(60_000), k.stderr).toBe(0);
    expect(k.stdout).toContain(`refused: IllegalArgumentException: [KINDLING_CHECKPOINT_CORRUPT] ${join(ck, 'metadata.json')} is not valid JSON`);
  });
});
