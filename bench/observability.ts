// Observability bench: engine throughput with the web UI open (a live SSE client) and --progress-json on, vs both off, as a ratio.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRunArgs, type RunConfig } from '../src/config.js';
import { openSinks, openSource, planOf } from '../src/engine/build.js';
import { runQueryPlan } from '../src/engine/run.js';
import { startObservability } from '../src/metrics/observe.js';
import { ResultsSink } from '../src/metrics/results-sink.js';
import { describeRun } from '../src/metrics/run-info.js';

const EVENTS = 2_000_000;
/** Pairs of runs (`--rounds N` to change): more pairs steady the median on a busy machine. */
const ROUNDS = Number(/^--rounds=?(\d+)$/.exec(process.argv.slice(2).join('='))?.[1] ?? 5);
/** The target of issue 5: observability costs at most 5% of throughput. */
const TARGET = 0.95;
const ARGS = ['--rate', '0', '--events', String(EVENTS), '--sink', 'none', '--seed', '42', '--start-time', '2024-11-25T10:40:00Z', '--quiet'];

type Mode = 'off' | 'on';

/** One run's figures; the output checks come first, the clock second. */
interface RunResult {
  mode: Mode;
  records: number;
  matched: number;
  rowsOut: number;
  batches: number;
  eventsPerSecond: number;
  /** CPU time of the whole process (main thread and workers) during the run: steadier than wall time on a busy machine. */
  cpuMs: number;
  jsonLines: number;
  sseEvents: number;
}

/** Opens the page's event stream as a browser tab would, and counts the progress events. */
function openEventStream(url: string): { count: () => number; close: () => void; connected: Promise<void> } {
  let events = 0;
  let ready: () => void = () => undefined;
  const connected = new Promise<void>((resolve) => (ready = resolve));
  const req = request(`${url}api/events`, (res) => {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      if (chunk.includes('event: hello')) ready();
      events += chunk.split('event: progress').length - 1;
    });
  });
  req.on('error', () => undefined);
  req.end();
  return { count: () => events, close: () => req.destroy(), connected };
}

async function runOnce(mode: Mode, dir: string): Promise<RunResult> {
  const jsonPath = join(dir, `progress-${mode}.jsonl`);
  const flags = mode === 'on' ? ['--ui-port', '0', '--progress-json', jsonPath] : ['--no-ui'];
  const { config } = await parseRunArgs([...ARGS, ...flags]);
  const cfg = config as RunConfig;
  const results = cfg.ui ? new ResultsSink() : null;
  const plan = await planOf(cfg);
  const source = await openSource(cfg, () => undefined);
  let observers = null as Awaited<ReturnType<typeof startObservability>> | null;
  let stream = null as ReturnType<typeof openEventStream> | null;
  let cpuBefore = process.cpuUsage();
  const run = await runQueryPlan(plan, {
    source,
    sinks: [...(await openSinks(cfg, { log: () => undefined })), ...(results ? [results] : [])],
    cores: cfg.cores,
    partitions: cfg.partitions,
    triggerMs: cfg.triggerMs,
    drain: cfg.drain,
    async beforeFirstBatch({ coordinator }) {
      observers = await startObservability(coordinator, {
        terminal: 'none',
        progressJson: cfg.progressJson,
        ui: cfg.ui,
        run: describeRun(cfg, plan, source.describe(), coordinator),
        results,
        log: (line) => process.stderr.write(line + '\n'),
      });
      stream = observers.uiUrl ? openEventStream(observers.uiUrl) : null;
      await stream?.connected;
      cpuBefore = process.cpuUsage();
    },
  });
  try {
    const s = await run.done;
    const cpu = process.cpuUsage(cpuBefore);
    await observers?.close();
    const jsonLines = mode === 'on' ? (await readFile(jsonPath, 'utf8')).split('\n').filter(Boolean).length : 0;
    return { mode, records: s.records, matched: s.matched, rowsOut: s.rowsOut, batches: s.batches, eventsPerSecond: (s.records * 1000) / s.elapsedMs, cpuMs: (cpu.user + cpu.system) / 1000, jsonLines, sseEvents: stream?.count() ?? 0 };
  } finally {
    stream?.close();
    await observers?.close();
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'kindling-bench-obs-'));
  const runs: RunResult[] = [];
  try {
    // A first run, not counted: in one process the first run came out fastest (fresh heap), which
    // would favour whichever mode ran first.
    // A line per run on stderr: the whole bench takes a minute or more and would otherwise print nothing until the end.
    const total = 1 + 2 * ROUNDS;
    process.stderr.write(`observability bench: ${total} runs of ${EVENTS.toLocaleString('en-US')} events (1 warm-up, then ${ROUNDS} on/off pairs)\n`);
    await runOnce('off', dir);
    process.stderr.write(`  run 1/${total} (warm-up) done\n`);
    // Pairs of runs, the order swapped every round, so drift (other load, heat) falls on both modes alike.
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const);
      for (const mode of order) {
        const r = await runOnce(mode, dir);
        runs.push(r);
        process.stderr.write(`  run ${runs.length + 1}/${total} (${mode}): ${Math.round(r.eventsPerSecond).toLocaleString('en-US')} events/s\n`);
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  // Output first: every run read every event and produced the same rows; the observers saw every batch.
  const first = runs[0]!;
  for (const r of runs) {
    if (r.records !== EVENTS || r.matched !== first.matched || r.rowsOut !== first.rowsOut) throw new Error(`run ${r.mode} differs: ${JSON.stringify(r)} vs ${JSON.stringify(first)}`);
    if (r.mode === 'on' && (r.jsonLines !== r.batches || r.sseEvents !== r.batches)) throw new Error(`observers missed batches: ${JSON.stringify(r)}`);
  }
  const rate = (mode: Mode): number => median(runs.filter((r) => r.mode === mode).map((r) => r.eventsPerSecond));
  const off = rate('off');
  const on = rate('on');
  // The ratio within each pair of neighbouring runs, then their median: robust to a noisy neighbour.
  const pairs = Array.from({ length: ROUNDS }, (_, i) => {
    const pair = runs.slice(2 * i, 2 * i + 2);
    return pair.find((r) => r.mode === 'on')!.eventsPerSecond / pair.find((r) => r.mode === 'off')!.eventsPerSecond;
  });
  const ratio = median(pairs);
  const k = (x: number): string => `${Math.round(x / 1000).toLocaleString('en-US')}k`;
  console.log(`Observability bench: ${EVENTS.toLocaleString('en-US')} generated events, --rate 0 --sink none, ${first.batches} batches, ${ROUNDS} pairs of runs after one warm-up run`);
  console.log(`  off (--no-ui, no --progress-json)           ${k(off)} events/s   runs: ${runs.filter((r) => r.mode === 'off').map((r) => k(r.eventsPerSecond)).join(', ')}`);
  console.log(`  on  (web UI + live SSE client + JSON lines) ${k(on)} events/s   runs: ${runs.filter((r) => r.mode === 'on').map((r) => k(r.eventsPerSecond)).join(', ')}`);
  const cpu = (mode: Mode): number => median(runs.filter((r) => r.mode === mode).map((r) => r.cpuMs));
  console.log(`  CPU time per run (all threads): off ${Math.round(cpu('off'))} ms, on ${Math.round(cpu('on'))} ms: ${((cpu('on') - cpu('off')) / first.batches).toFixed(2)} ms more per batch (${(cpu('on') / cpu('off')).toFixed(3)}x)`);
  console.log(`  ratio on/off per pair: ${pairs.map((r) => r.toFixed(3)).join(', ')}`);
  console.log(`  ratio on/off: ${ratio.toFixed(3)}x (median of pairs; baseline: off; target >= ${TARGET}) ${ratio >= TARGET ? 'OK' : 'BELOW TARGET'}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
