// Start-up benchmark: from process start to the first batch's start (and end) on the file source, beside a bare `node` start.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProgressRecord } from '../src/metrics/progress.js';
import { labEventJson } from '../src/source/lab-events.js';
import { benchSpec } from './fixtures.js';

const MAIN = fileURLToPath(new URL('../src/main.js', import.meta.url));

/** Medians over the repeats, in ms from the moment the process was spawned. */
export interface StartupResult {
  readonly repeats: number;
  /** `node -e 0`: spawn to exit, the floor of any Node process start. */
  readonly bareNodeMs: number;
  /** Spawn to the first batch's start (its progress record's timestamp): the start-up figure. */
  readonly toFirstBatchStartMs: number;
  /** Spawn to the first batch's end (its rows written; the worker threads have started by then). */
  readonly toFirstBatchEndMs: number;
  /** Spawn to exit, for the whole tiny run. */
  readonly wallMs: number;
  /** Every repeat, for the record: [toFirstBatchStartMs, toFirstBatchEndMs, wallMs]. */
  readonly runs: ReadonlyArray<readonly [number, number, number]>;
}

function runToExit(args: readonly string[]): Promise<{ code: number | null; stderr: string; exitedAtMs: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr, exitedAtMs: Date.now() }));
  });
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

/**
 * Runs `kindling run` on a 100-event NDJSON file `repeats` times with the defaults a user gets
 * (cores detected, crash-alerts) but no sink, UI or terminal view, plus --progress-json to a file
 * to read the first batch's timestamp; and `node -e 0` as many times, interleaved.
 */
export async function startupBench(options: { repeats?: number; log: (s: string) => void }): Promise<StartupResult> {
  const repeats = options.repeats ?? 9;
  const dir = await mkdtemp(join(tmpdir(), 'kindling-startup-'));
  try {
    const input = join(dir, 'in');
    await mkdir(input);
    const spec = benchSpec();
    await writeFile(join(input, 'events.ndjson'), Array.from({ length: 100 }, (_, i) => labEventJson(spec, i) + '\n').join(''));
    const bare: number[] = [];
    const runs: Array<[number, number, number]> = [];
    for (let r = 0; r < repeats; r++) {
      const t0 = Date.now();
      await runToExit(['-e', '0']);
      bare.push(Date.now() - t0);
      const progressFile = join(dir, `progress-${r}.jsonl`);
      const started = Date.now();
      const run = await runToExit([MAIN, '--source', 'file', '--path', input, '--sink', 'none', '--no-ui', '--quiet', '--progress-json', progressFile]);
      if (run.code !== 0) throw new Error(`start-up run failed (exit ${run.code}): ${run.stderr}`);
      const first = JSON.parse((await readFile(progressFile, 'utf8')).split('\n')[0]!) as ProgressRecord;
      const batchStart = Date.parse(first.timestamp);
      runs.push([batchStart - started, batchStart + first.durationMs.total - first.durationMs.source - started, run.exitedAtMs - started]);
    }
    const result: StartupResult = {
      repeats,
      bareNodeMs: median(bare),
      toFirstBatchStartMs: median(runs.map((r) => r[0])),
      toFirstBatchEndMs: median(runs.map((r) => r[1])),
      wallMs: median(runs.map((r) => r[2])),
      runs,
    };
    options.log(`start-up: first batch starts ${result.toFirstBatchStartMs} ms after spawn (bare node ${result.bareNodeMs} ms to exit), ends at ${result.toFirstBatchEndMs} ms`);
    return result;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The markdown table of a start-up bench. */
export function startupTable(r: StartupResult): string {
  return [
    `Median of ${r.repeats} runs each, interleaved; \`kindling\` on a 100-event NDJSON file with the default cores and query, \`--sink none --no-ui --quiet --progress-json FILE\`.`,
    '',
    '| from spawn to | ms | x bare node |',
    '|---|---:|---:|',
    `| \`node -e 0\` exits (bare node) | ${r.bareNodeMs} | 1.00 |`,
    `| kindling's first batch starts | ${r.toFirstBatchStartMs} | ${(r.toFirstBatchStartMs / r.bareNodeMs).toFixed(2)} |`,
    `| kindling's first batch ends (workers started, rows written) | ${Math.round(r.toFirstBatchEndMs)} | ${(r.toFirstBatchEndMs / r.bareNodeMs).toFixed(2)} |`,
    `| kindling exits | ${r.wallMs} | ${(r.wallMs / r.bareNodeMs).toFixed(2)} |`,
    '',
    `Target: first batch starts <= 250 ms after process start: ${r.toFirstBatchStartMs <= 250 ? 'met' : '**missed**'} (${r.toFirstBatchStartMs} ms).`,
  ].join('\n');
}
