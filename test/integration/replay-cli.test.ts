// kindling explain and what-if through the built binary, on generated files and real runs with --checkpoint-dir, checked against the engine's own output.
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReplayTrace } from '../../src/replay/trace.js';
import type { WhatIfResult } from '../../src/replay/what-if.js';
import { percentiles } from '../../src/replay/what-if.js';
import { runNodeScript } from '../helpers/process.js';

const MAIN = resolve('dist/src/main.js');
const kindling = (args: string[]) => runNodeScript(MAIN, args, 90_000);

// 5 users and a crash in 1 of 10 events make windows with more and fewer than 3 crashes; late pushes of up to 60 s make late rows.
const GEN = ['--files', '20', '--events-per-file', '1000', '--seed', '7', '--users', '5', '--event-rate', '200', '--crash-one-in', '10', '--late-fraction', '0.1', '--late-spread-ms', '60000', '--start-time', '2024-11-25T10:40:00Z'];
const RUN = ['--source', 'file', '--max-files-per-batch', '1', '--cores', '2', '--partitions', '3', '--no-ui', '--quiet'];

let dir: string;
let logs: string;

/** The run's jsonl rows per batch id. */
async function jsonlRows(out: string): Promise<Map<number, Array<Record<string, unknown>>>> {
  const rows = new Map<number, Array<Record<string, unknown>>>();
  for (const name of await readdir(out)) {
    const m = /^batch-(\d+)\.jsonl$/.exec(name);
    if (m) rows.set(Number(m[1]), (await readFile(join(out, name), 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>));
  }
  return rows;
}

type ExplainJson = Omit<ReplayTrace, 'batches'> & { answer: string; check: { checked: string[]; divergence: string | null } };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kindling-replay-'));
  logs = join(dir, 'logs');
  expect((await kindling(['generate', '--out', logs, ...GEN])).code).toBe(0);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('kindling explain', () => {
  let out: string;
  let ck: string;
  beforeAll(async () => {
    out = join(dir, 'out');
    ck = join(dir, 'ck');
    const r = await kindling([...RUN, '--path', logs, '--sink', `jsonl:${out}`, '--checkpoint-dir', ck]);
    expect(r.code).toBe(0);
  });

  it("explains every window of a key as the engine's output shows it, and says the replay reproduced the run", async () => {
    const rows = await jsonlRows(out);
    const users = [...new Set([...rows.values()].flat().map((r) => r['user_id'] as string))].sort();
    expect(users.length).toBeGreaterThan(1);
    for (const user of users) {
      const r = await kindling(['explain', '--checkpoint-dir', ck, '--key', user, '--jsonl', out, '--json']);
      expect(r.code).toBe(0);
      const explained = JSON.parse(r.stdout) as ExplainJson;
      expect(explained.check.divergence).toBeNull();
      expect(explained.check.checked.join(' ')).toContain(`output row(s) in ${out}`);
      // The windows explain calls emitted are exactly the engine's rows for the user, batch for batch.
      const emitted = explained.windows.flatMap((w) => (w.outcome.kind === 'emitted' ? [[w.outcome.batchId, w.outcome.row] as const] : []));
      const engine = [...rows].flatMap(([batchId, list]) => list.filter((row) => row['user_id'] === user).map((row) => [batchId, row] as const));
      expect(emitted.sort((a, b) => a[0] - b[0])).toEqual(engine.sort((a, b) => a[0] - b[0]));
      // A window HAVING dropped has no row in the engine's output, and at most 2 crashes.
      for (const w of explained.windows.filter((x) => x.outcome.kind === 'having-false')) {
        expect(w.counted).toBeLessThanOrEqual(2);
        const start = new Date(w.window!.startMs).toISOString();
        expect(engine.some(([, row]) => (row['window'] as { start: string }).start === start)).toBe(false);
      }
    }
  });

  it('answers for one window in one sentence, with records at their file lines', async () => {
    const r = await kindling(['explain', '--checkpoint-dir', ck, '--key', 'user_1002', '--jsonl', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('replay check: the replay reproduces the run');
    const withLate = /^ {2}\[(\d\d:\d\d:\d\d)\.000, [^)]*\) {2}counted \d+, late [1-9]/m.exec(r.stdout);
    expect(withLate).not.toBeNull();
    const one = await kindling(['explain', '--checkpoint-dir', ck, '--key', 'user_1002', '--window', `2024-11-25T${withLate![1]}Z`]);
    expect(one.code).toBe(0);
    const answer = one.stdout.split('\n').find((l) => l.startsWith('answer: '))!;
    expect(answer).toMatch(/user_1002 .*\[\d\d:\d\d:\d\d\.000, \d\d:\d\d:\d\d\.000\): .* late \(arrived in batch \d+, [\d.]+ s after the watermark passed the window's end\)/);
    // The late record's position is a real line of the input: that line holds user_1002's crash.
    const late = /^ {2}(\S+) line (\d+) .* late in /m.exec(one.stdout)!;
    const line = (await readFile(resolve(late[1]!), 'utf8')).split('\n')[Number(late[2]) - 1]!;
    expect(JSON.parse(line)).toMatchObject({ user_id: 'user_1002' });
    expect((JSON.parse(line) as { content: string }).content.toLowerCase()).toContain('crash');
  });

  it('gives the same answer from the files alone, cut by the same flags', async () => {
    const fromCk = await kindling(['explain', '--checkpoint-dir', ck, '--key', 'user_1003', '--json']);
    const fromFiles = await kindling(['explain', '--source', 'file', '--path', logs, '--max-files-per-batch', '1', '--key', 'user_1003', '--json']);
    expect(fromFiles.code).toBe(0);
    const a = JSON.parse(fromCk.stdout) as ExplainJson;
    const b = JSON.parse(fromFiles.stdout) as ExplainJson;
    expect(b.windows).toEqual(a.windows);
    expect(b.records).toEqual(a.records);
  });

  it('reports where the replay diverged when an input file changed after the run', async () => {
    const changed = join(dir, 'changed');
    const changedOut = join(dir, 'changed-out');
    const changedCk = join(dir, 'changed-ck');
    await cp(logs, changed, { recursive: true });
    expect((await kindling([...RUN, '--path', changed, '--sink', `jsonl:${changedOut}`, '--checkpoint-dir', changedCk])).code).toBe(0);
    // Every user_1002 in part-003 becomes user_1004 (same length): the files still cut at the logged offsets, the rows differ.
    const file = join(changed, 'part-003.ndjson');
    await writeFile(file, (await readFile(file, 'utf8')).replaceAll('"user_1002"', '"user_1004"'));
    const r = await kindling(['explain', '--checkpoint-dir', changedCk, '--key', 'user_1002', '--jsonl', changedOut]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/replay check: DIVERGED from the run: batch \d+: the run wrote \d+ row\(s\) for user_1002/);
    // Batches cut inside files: a file cut shorter no longer holds the logged ranges, said before any replay.
    const cutCk = join(dir, 'cut-ck');
    expect((await kindling([...RUN.filter((f, i, all) => f !== '--max-files-per-batch' && all[i - 1] !== '--max-files-per-batch'), '--max-events-per-batch', '700', '--path', changed, '--sink', 'none', '--checkpoint-dir', cutCk])).code).toBe(0);
    await writeFile(file, (await readFile(file, 'utf8')).slice(0, 1000));
    const short = await kindling(['explain', '--checkpoint-dir', cutCk, '--key', 'user_1002']);
    expect(short.code).toBe(1);
    expect(short.stdout).toMatch(/replay check: DIVERGED from the run: the input changed since the run: batch \d+ (starts|ends) at byte \d+ of /);
    expect(short.stdout).toContain(`${file}, which now has only 1000 bytes`);
  });

  it('replays a run whose snapshots were pruned (the logs keep every batch by default), and says which batches --checkpoint-retain dropped', async () => {
    const kept = join(dir, 'ck-every-2');
    expect((await kindling([...RUN, '--path', logs, '--sink', 'none', '--checkpoint-dir', kept, '--checkpoint-every', '2'])).code).toBe(0);
    expect((await readdir(join(kept, 'snapshots'))).length).toBe(3);
    expect((await readdir(join(kept, 'offsets'))).length).toBe(21);
    const whole = await kindling(['explain', '--checkpoint-dir', kept, '--key', 'user_1003', '--json']);
    expect(whole.code).toBe(0);
    const fromCk = await kindling(['explain', '--checkpoint-dir', ck, '--key', 'user_1003', '--json']);
    expect((JSON.parse(whole.stdout) as ExplainJson).windows).toEqual((JSON.parse(fromCk.stdout) as ExplainJson).windows);

    const retained = join(dir, 'ck-retain-3');
    expect((await kindling([...RUN, '--path', logs, '--sink', 'none', '--checkpoint-dir', retained, '--checkpoint-every', '2', '--checkpoint-retain', '3'])).code).toBe(0);
    const first = Math.min(...(await readdir(join(retained, 'offsets'))).map((n) => Number(n.replace('.json', ''))));
    expect(first).toBeGreaterThan(0);
    const refused = await kindling(['explain', '--checkpoint-dir', retained, '--key', 'user_1003']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`the offsets log starts at batch ${first}; batches 0-${first - 1} were pruned`);
    const noDir = await kindling(['--source', 'file', '--path', logs, '--checkpoint-retain', '3', '--no-ui']);
    expect(noDir.code).toBe(2);
    expect(noDir.stderr).toContain('--checkpoint-retain needs --checkpoint-dir DIR');
  });

  it('refuses bad flags with exit code 2 and the rule', async () => {
    const noKey = await kindling(['explain', '--checkpoint-dir', ck]);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain('--key KEY is required');
    const both = await kindling(['explain', '--checkpoint-dir', ck, '--path', logs, '--key', 'x']);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--path is for a replay without a checkpoint');
    const badWindow = await kindling(['explain', '--checkpoint-dir', ck, '--key', 'x', '--window', 'noon']);
    expect(badWindow.code).toBe(2);
    expect(badWindow.stderr).toContain("--window must be an ISO 8601 instant (2024-11-25T10:40:10Z) or epoch milliseconds; got 'noon'");
    const badWatermark = await kindling(['what-if', '--checkpoint-dir', ck, '--watermark', '0s,ten']);
    expect(badWatermark.code).toBe(2);
    expect(badWatermark.stderr).toContain("--watermark must be a comma-separated list of durations such as 0s,10s,30s,60s (units ms, s, m, h); got 'ten'");
    // A query without a watermark is the user's mistake, said before any replay thread starts.
    const noWatermark = await kindling(['what-if', '--source', 'file', '--path', logs, '--query', 'vulnerability-by-ip']);
    expect(noWatermark.code).toBe(2);
    expect(noWatermark.stderr).toContain('query vulnerability-by-ip has no watermark and window: what-if varies those');
  });
});

/** A query module for the engine: crash-alerts with another watermark delay, as a plan. */
function crashAlertsModule(delayMs: number): string {
  const plan = pathToHref(resolve('dist/src/plan/index.js'));
  return `// crash-alerts with a ${delayMs} ms watermark (written by replay-cli.test.ts)
import { col, count, lower, readStream, window, LAB_SCHEMA } from '${plan}';
const plan = readStream(LAB_SCHEMA)
  .withColumn('event_time', col('timestamp').divide(1000).cast('timestamp'))
  .filter(lower(col('content')).contains('crash').and(col('severity').isin('High', 'Critical')))
  .withWatermark('event_time', '${delayMs} milliseconds')
  .groupBy(window(col('event_time'), '10 seconds'), col('user_id'))
  .agg(count('*').alias('crash_count'))
  .filter(col('crash_count').gt(2))
  .toQuery({ name: 'crash-alerts-${delayMs}', outputMode: 'append' });
export default plan;
`;
}

const pathToHref = (p: string): string => new URL(`file://${p}`).href;

describe('kindling what-if', () => {
  it('gives, per watermark, the figures of a separate engine run with that watermark', async () => {
    const settings = [0, 10_000, 30_000];
    const r = await kindling(['what-if', '--source', 'file', '--path', logs, '--max-files-per-batch', '1', '--watermark', settings.map((ms) => `${ms / 1000}s`).join(','), '--json']);
    expect(r.code).toBe(0);
    const results = (JSON.parse(r.stdout) as { results: WhatIfResult[] }).results;
    expect(results.map((x) => x.setting.watermarkMs)).toEqual(settings);
    for (const result of results) {
      const delayMs = result.setting.watermarkMs;
      const module = join(dir, `crash-alerts-${delayMs}.mjs`);
      await writeFile(module, crashAlertsModule(delayMs));
      const out = join(dir, `what-if-out-${delayMs}`);
      const progress = join(dir, `what-if-progress-${delayMs}.jsonl`);
      const run = await kindling([...RUN, '--path', logs, '--query', module, '--sink', `jsonl:${out}`, '--progress-json', progress]);
      expect(run.code).toBe(0);
      const records = (await readFile(progress, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as {
        batchId: number;
        stateOperators: Array<{ numRowsTotal: number; numRowsDroppedByWatermark: number }>;
        kindling: { lateRows: number; maxEventTimeMs: number | null };
      });
      const rows = await jsonlRows(out);
      // The event-time delay of each engine row: the stream's max event time before its batch, minus its window's end.
      const maxBefore = (batchId: number): number => Math.max(...records.filter((p) => p.batchId < batchId && p.kindling.maxEventTimeMs !== null).map((p) => p.kindling.maxEventTimeMs!));
      const delays = [...rows].flatMap(([batchId, list]) => list.map((row) => maxBefore(batchId) - Date.parse((row['window'] as { end: string }).end)));
      expect({
        batches: result.batches,
        rowsEmitted: result.rowsEmitted,
        lateEvents: result.lateEvents,
        lateGroups: result.lateGroups,
        peakStateRows: result.peakStateRows,
        delayEventTimeMs: result.delayEventTimeMs,
      }).toEqual({
        batches: records.length,
        rowsEmitted: [...rows.values()].flat().length,
        lateEvents: records.reduce((n, p) => n + p.kindling.lateRows, 0),
        lateGroups: records.reduce((n, p) => n + p.stateOperators[0]!.numRowsDroppedByWatermark, 0),
        peakStateRows: Math.max(...records.map((p) => p.stateOperators[0]!.numRowsTotal)),
        delayEventTimeMs: percentiles(delays),
      });
    }
    // The trade-off shows: a longer watermark drops fewer late events and keeps more state.
    expect(results[0]!.lateEvents).toBeGreaterThan(results[2]!.lateEvents);
    expect(results[2]!.peakStateRows).toBeGreaterThan(results[0]!.peakStateRows);
  });

  it('prints a table, one row per setting, window sizes included', async () => {
    const r = await kindling(['what-if', '--source', 'file', '--path', logs, '--max-files-per-batch', '1', '--watermark', '0s,30s', '--window', '10s,30s']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.at(-6)).toMatch(/^watermark\s+window\s+rows\s+late events\s+late groups\s+peak state\s+delay p50\s+delay p99\s+batches p50\s+batches p99$/);
    expect(lines.slice(-4).map((l) => l.split(/\s+/).slice(0, 2).join(' '))).toEqual(['0s 10s', '30s 10s', '0s 30s', '30s 30s']);
  });
});
