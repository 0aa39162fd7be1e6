// The web UI in a real headless Chromium (Debian's package, driven by playwright-core) against a running engine.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ProgressRecord } from '../../src/metrics/progress.js';
import { BROWSER_SKIP, chartPoints, needsBrowser, openBrowser } from '../helpers/browser.js';

const MAIN = resolve('dist/src/main.js');
const OUT = resolve('test-output');
// Event time runs 10x faster than wall time, so windows close (and rows come out) within seconds.
const ENGINE_ARGS = ['--rate', '20000', '--event-rate', '2000', '--trigger', '250', '--cores', '2', '--crash-one-in', '5', '--users', '20', '--late-fraction', '0.02', '--late-spread-ms', '40000', '--sink', 'none', '--ui-port', '0', '--quiet'];

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

/** Polls `check` until it returns a value (not undefined/false) or the time is up. */
async function waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts the engine as a user would and returns the UI's address from its banner. */
async function startEngine(args: readonly string[] = ENGINE_ARGS): Promise<{ base: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  cleanups.push(async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  });
  const base = await waitFor('the web UI address in the banner', () => {
    if (child.exitCode !== null) throw new Error(`engine exited early: ${stderr}`);
    return /web UI: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stderr)?.[1];
  });
  return { base, child };
}

async function progress(base: string): Promise<ProgressRecord[]> {
  return (await (await fetch(`${base}api/progress`)).json()) as ProgressRecord[];
}

if (needsBrowser) console.warn(`[kindling] ${BROWSER_SKIP}`);

// The reason in the suite's name reaches the run's final summary (test/helpers/skipped-summary.ts).
describe.skipIf(needsBrowser)(`the web UI in headless Chromium${needsBrowser ? ` [skipped: ${BROWSER_SKIP}]` : ''}`, () => {
  it('loads, draws charts from the running engine, and shows the same numbers as /api/progress', async () => {
    const { base } = await startEngine();
    const { page, requests, errors } = await openBrowser(cleanups);
    await page.goto(base);
    expect(await chartPoints(page, 'rates', 3)).toBeGreaterThanOrEqual(3);

    // Charts have real shapes: two rate lines with several points, and phase bars.
    const lines = await page.$$eval('svg[data-chart="rates"] path.line', (ps) => ps.map((p) => (p.getAttribute('d') ?? '').split('L').length));
    expect(lines).toHaveLength(2);
    for (const points of lines) expect(points).toBeGreaterThanOrEqual(3);
    expect(await page.locator('svg[data-chart="durations"] rect.bar').count()).toBeGreaterThan(0);
    for (const id of ['input-rows', 'watermark-gap', 'state-rows', 'late-rows']) expect(await chartPoints(page, id, 3)).toBeGreaterThanOrEqual(3);

    // The headline numbers are those of one batch in /api/progress, exactly.
    const shown = await page.evaluate(() => {
      const strip = document.querySelector('[data-testid="kpi-strip"]')!;
      const read = (id: string) => {
        const el = document.querySelector(`[data-testid="kpi-${id}"]`)!;
        return { value: Number(el.getAttribute('data-value')), text: el.textContent ?? '' };
      };
      return { batch: Number(strip.getAttribute('data-batch')), rows: read('input-rows'), processed: read('process-rate'), input: read('input-rate'), duration: read('duration'), watermark: read('watermark') };
    });
    const p = (await progress(base)).find((r) => r.batchId === shown.batch);
    expect(p, `batch ${shown.batch} in /api/progress`).toBeDefined();
    expect(shown.rows).toEqual({ value: p!.numInputRows, text: p!.numInputRows.toLocaleString('en-US') });
    expect(shown.processed.value).toBe(p!.processedRowsPerSecond);
    expect(shown.input.value).toBe(p!.inputRowsPerSecond);
    expect(shown.duration.value).toBe(p!.durationMs.total);
    expect(shown.watermark.text).toBe(p!.eventTime.watermark!.slice(11, 19));

    await mkdir(OUT, { recursive: true });
    await page.screenshot({ path: join(OUT, 'ui-streaming.png'), fullPage: true });
    expect(errors).toEqual([]);
    expect(requests.filter((u) => !u.startsWith(base) && !u.startsWith('data:'))).toEqual([]);
  });

  it('updates live: new batches arrive over SSE without reloading', async () => {
    const { base } = await startEngine();
    const { page, errors } = await openBrowser(cleanups);
    await page.goto(base);
    await page.waitForFunction(() => Number(document.body.dataset['rendered'] ?? -1) >= 1, undefined, { timeout: 20_000 });
    const first = Number(await page.evaluate(() => document.body.dataset['rendered']));
    await page.waitForFunction((n) => Number(document.body.dataset['rendered']) >= n + 3, first, { timeout: 20_000 });
    expect(await page.getAttribute('#status', 'data-link')).toBe('live');
    // The page's newest batch is one the engine has reported.
    const rendered = Number(await page.evaluate(() => document.body.dataset['rendered']));
    expect((await progress(base)).some((r) => r.batchId === rendered)).toBe(true);
    expect(errors).toEqual([]);
  });

  it('before the first append rows, says how many windows are open and how far the watermark is from closing the oldest', async () => {
    // Event time at wall-clock speed: the first window closes 30-40 s in, long after the page looks.
    const { base } = await startEngine(['--rate', '4000', '--trigger', '250', '--cores', '1', '--partitions', '200', '--sink', 'none', '--ui-port', '0', '--quiet']);
    const { page, errors } = await openBrowser(cleanups);
    await page.goto(base);
    await page.waitForSelector('[data-testid="first-rows"]', { timeout: 20_000 });
    await expect.poll(() => page.textContent('[data-testid="first-rows"]')).toMatch(/no rows yet: \d+ window\(s\) open; the oldest, \d\d:\d\d:\d\d-\d\d:\d\d:\d\d, is written in [\d.]+ s of event time/);
    expect(await page.textContent('[data-testid="first-rows"]')).toContain('live, 30-40 s after the first matching event');
    await page.goto(`${base}#tasks`);
    await expect.poll(() => page.getAttribute('[data-testid="spark-tasks"]', 'data-spark-tasks')).toBe('200');
    expect(await page.textContent('[data-testid="spark-tasks"]')).toMatch(/Stage 2 lists \d+ of the 200 partitions: the other \d+ received, emitted and evicted nothing/);
    expect(errors).toEqual([]);
  });

  it('shows the Tasks, Workers, Results and Config tabs with the run\'s data', async () => {
    const { base } = await startEngine();
    const { page, errors } = await openBrowser(cleanups);
    await mkdir(OUT, { recursive: true });
    await page.goto(`${base}#tasks`);
    expect(await chartPoints(page, 'timeline', 2)).toBeGreaterThanOrEqual(2);
    await expect.poll(() => page.textContent('[data-testid="bottleneck"]')).toMatch(/takes \d+% of this .* batch/);
    const chosen = Number(await page.getAttribute('[data-testid="bottleneck"]', 'data-batch'));
    const p = (await progress(base)).find((r) => r.batchId === chosen)!;
    expect(Number(await page.textContent('[data-testid="stage1-tasks"]'))).toBe(p.kindling.tasks.filter((t) => t.stage === 1).length);
    expect(await chartPoints(page, 'partition-rows', 2)).toBe(2);
    // Spark's stage-2 task count is the shuffle partitions, whatever Kindling ran.
    expect(Number(await page.getAttribute('[data-testid="spark-tasks"]', 'data-spark-tasks'))).toBe(p.stateOperators[0]!.numShufflePartitions);
    expect(await page.textContent('[data-testid="spark-tasks"]')).toContain(`Spark would run ${p.stateOperators[0]!.numShufflePartitions} stage-2 tasks`);
    await page.screenshot({ path: join(OUT, 'ui-tasks.png'), fullPage: true });

    await page.click('nav a[href="#workers"]');
    expect(await chartPoints(page, 'worker-utilisation', 2)).toBeGreaterThanOrEqual(2);
    await page.waitForFunction(() => document.querySelectorAll('svg[data-chart="cpu-cores"] path.line').length >= 2, undefined, { timeout: 20_000 });
    expect(await page.locator('[data-testid="worker-meters"] .meter-row').count()).toBe(3);
    await page.screenshot({ path: join(OUT, 'ui-workers.png'), fullPage: true });

    await page.click('nav a[href="#results"]');
    await page.waitForSelector('[data-testid="result-batch"] tbody tr', { timeout: 30_000 });
    expect(await page.textContent('[data-testid="result-batch"] thead')).toMatch(/window.*user_id.*crash_count/);
    await page.screenshot({ path: join(OUT, 'ui-results.png'), fullPage: true });

    await page.click('nav a[href="#config"]');
    await expect.poll(() => page.textContent('[data-testid="config-query"]')).toContain('crash-alerts');
    expect(await page.textContent('[data-testid="config-settings"]')).toMatch(/cores\s*2/);
    await page.screenshot({ path: join(OUT, 'ui-config.png'), fullPage: true });
    expect(errors).toEqual([]);
  });

  it('shows the plan as a graph of operators, each with the rows in and out of the chosen batch', async () => {
    const { base } = await startEngine();
    const { page, errors } = await openBrowser(cleanups);
    await page.goto(`${base}#plan`);
    await page.waitForFunction(() => document.querySelector('[data-testid="plan-graph"]')?.getAttribute('data-batch') !== '', undefined, { timeout: 20_000 });
    const config = (await (await fetch(`${base}api/config`)).json()) as { query: { graph: Array<{ name: string; place: string }> } };
    // The operators of crash-alerts, stage by stage, as the engine runs them.
    expect(config.query.graph.map((o) => `${o.place}: ${o.name}`)).toEqual([
      'stage 1: Scan', 'stage 1: Pre-check', 'stage 1: FromJson', 'stage 1: Filter / Project', 'stage 1: Partial aggregate',
      'shuffle: Exchange', 'stage 2: Stateful aggregate', 'main thread: Filter (HAVING)', 'main thread: Sink',
    ]);
    // One read of the page, so the batch id and the operators' figures come from the same render (the
    // live page redraws for every new batch).
    // Polled until a render holds the graph: on a loaded machine a read can fall between two renders.
    type Shown = { batch: number; ops: Array<{ name: string; rowsIn: number; rowsOut: number }> };
    const shown = async (): Promise<Shown> =>
      (await (
        await page.waitForFunction(
          () => {
            const graph = document.querySelector('[data-testid="plan-graph"]');
            const ops = [...document.querySelectorAll('[data-testid="plan-op"]')];
            if (!graph || graph.getAttribute('data-batch') === '' || ops.length === 0) return null;
            return {
              batch: Number(graph.getAttribute('data-batch')),
              ops: ops.map((e) => ({ name: e.getAttribute('data-name')!, rowsIn: Number(e.getAttribute('data-rows-in')), rowsOut: Number(e.getAttribute('data-rows-out')) })),
            };
          },
          undefined,
          { timeout: 20_000 },
        )
      ).jsonValue()) as Shown;
    const check = async (): Promise<number> => {
      const { batch, ops } = await shown();
      const p = (await progress(base)).find((r) => r.batchId === batch)!;
      expect(ops.map((o) => o.name)).toEqual(config.query.graph.map((o) => o.name));
      expect(ops.map(({ rowsIn, rowsOut }) => ({ rowsIn, rowsOut }))).toEqual(p.kindling.operators);
      // The figures are the batch's: records in, matched rows after the filter, partial groups into stage 2, rows to the sink.
      expect(ops[0]!.rowsIn).toBe(p.numInputRows);
      expect(ops[3]!.rowsOut).toBe(p.kindling.matched);
      expect(ops[6]!.rowsIn).toBe(p.kindling.tasks.filter((t) => t.stage === 2).reduce((n, t) => n + t.rows, 0));
      expect(ops.at(-1)!.rowsIn).toBe(p.sink.numOutputRows);
      return batch;
    };
    const latest = await check();
    // Another batch with input, picked by hand, shows its own figures.
    const other = (await progress(base)).find((r) => r.batchId !== latest && !r.kindling.noDataBatch && r.numInputRows > 0)!;
    await page.selectOption('[data-testid="plan-batch-picker"]', String(other.batchId));
    await page.waitForFunction((id) => document.querySelector('[data-testid="plan-graph"]')?.getAttribute('data-batch') === String(id), other.batchId, { timeout: 10_000 });
    expect(await check()).toBe(other.batchId);
    expect((await shown()).ops[0]!.rowsIn).toBeGreaterThan(0);
    await mkdir(OUT, { recursive: true });
    await page.screenshot({ path: join(OUT, 'ui-plan.png'), fullPage: true });
    expect(errors).toEqual([]);
  });

  it('answers "why?" on a result row and "why not?" for a key by replaying the run from its checkpoint', async () => {
    const ck = await mkdtemp(join(tmpdir(), 'kindling-ui-why-'));
    cleanups.push(() => rm(ck, { recursive: true, force: true }));
    const { base } = await startEngine([...ENGINE_ARGS, '--checkpoint-dir', ck]);
    const { page, errors } = await openBrowser(cleanups);
    await mkdir(OUT, { recursive: true });
    await page.goto(`${base}#results`);
    const first = page.locator('[data-testid="result-batch"] tbody tr').first();
    await first.waitFor({ timeout: 30_000 });
    // The engine emitted this row in this batch; the replay must say the same.
    const batchId = await page.locator('[data-testid="result-batch"]').first().getAttribute('data-batch');
    const row = JSON.parse((await first.locator('button.why').getAttribute('data-row'))!) as { user_id: string; crash_count: number; window: { start: string } };
    await first.locator('button.why').click();
    const answer = page.locator('[data-testid="why-answer"]');
    await answer.waitFor({ timeout: 30_000 });
    const start = row.window.start.slice(11, 23);
    expect(await answer.textContent()).toMatch(new RegExp(`^${row.user_id} has a row in \\[${start.replace(/\./g, '\\.')}, [^)]+\\): emitted in batch ${batchId} with crash_count = ${row.crash_count} \\(${row.crash_count} counted`));
    expect(await page.locator('.why-records tbody tr').count()).toBeGreaterThanOrEqual(row.crash_count);
    await page.screenshot({ path: join(OUT, 'ui-why.png'), fullPage: true });

    // "why not?" for a key that never occurs, typed into the box, which survives the tab's live updates.
    await page.fill('.why-form input[name="key"]', 'user_nobody');
    await page.fill('.why-form input[name="window"]', '');
    await page.click('.why-form button[type="submit"]');
    await expect.poll(() => answer.textContent(), { timeout: 30_000 }).toMatch(/^no record of user_id = user_nobody in the replayed input \(\d+ batches\)$/);
    await page.waitForTimeout(600);
    expect(await page.inputValue('.why-form input[name="key"]')).toBe('user_nobody');

    // What if: the same replay under two watermarks, plotted and tabulated, one point and one row per setting.
    await page.fill('.whatif-panel input[name="watermark"]', '0s,30s');
    await page.click('.whatif-panel button[type="submit"]');
    await page.waitForSelector('[data-testid="whatif-table"] tbody tr', { timeout: 30_000 });
    expect(await page.locator('[data-testid="whatif-table"] tbody tr td:first-child').allTextContents()).toEqual(['0s', '30s']);
    expect(await page.getAttribute('svg[data-chart="whatif-counts"]', 'data-points')).toBe('2');
    // A 0 s watermark drops at least the late events a 30 s one does.
    const late = (await page.locator('[data-testid="whatif-table"] tbody tr td:nth-child(3)').allTextContents()).map((t) => Number(t.replace(/,/g, '')));
    expect(late[0]).toBeGreaterThanOrEqual(late[1]!);
    await page.screenshot({ path: join(OUT, 'ui-whatif.png'), fullPage: true });
    expect(errors).toEqual([]);
  });
});

// No browser needed: the engine's own HTTP API, asked while the engine runs.
describe('the web UI replays on their own thread', () => {
  it('keeps completing batches while a what-if request is being answered', async () => {
    const ck = await mkdtemp(join(tmpdir(), 'kindling-ui-whatif-'));
    cleanups.push(() => rm(ck, { recursive: true, force: true }));
    const { base } = await startEngine([...ENGINE_ARGS, '--checkpoint-dir', ck]);
    // Enough input that replaying it under many settings is real work.
    await waitFor('20 batches', async () => (await progress(base)).length >= 20, 60_000);
    const watermarks = Array.from({ length: 12 }, (_, i) => `${i * 5}s`).join(',');
    const sentMs = Date.now();
    const answer = (await (await fetch(`${base}api/what-if?watermark=${watermarks}`)).json()) as { ok: boolean; batches: number; results: unknown[] };
    const answeredMs = Date.now();
    expect(answer.ok).toBe(true);
    expect(answer.results).toHaveLength(12);
    // A batch ends at its trigger timestamp plus its duration: those ending while the request was open ran beside the replay.
    const during = (await progress(base)).filter((p) => {
      const endMs = Date.parse(p.timestamp) + p.durationMs.total;
      return endMs > sentMs && endMs < answeredMs;
    });
    // Batches the replay did not include (logged after it read the input) yet completed before the answer: the loop kept going.
    expect(during.filter((p) => p.batchId >= answer.batches).length).toBeGreaterThan(0);
  });
});
