// Engine benchmark: the same NDJSON input through the inline baseline and the engine at several cores and partitions.
import { execFile } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { compileQuery } from '../src/plan/compile-plan.js';
import { rowToJson } from '../src/plan/output.js';
import type { QueryPlan } from '../src/plan/plan.js';
import { crashAlertsPlan } from '../src/plan/queries.js';
import { runPlanReference } from '../src/plan/reference.js';
import { digestOf, threeGroupsPlan, type EngineBenchCase, type EngineBenchResult } from './engine-child.js';
import { labFiles } from './fixtures.js';
import { measureFloor, type FloorResult } from './floor.js';

const run = promisify(execFile);
const CHILD = fileURLToPath(new URL('./engine-child.js', import.meta.url));

/** One configuration's figures, with its ratio to the baseline. */
export interface EngineBenchRow extends EngineBenchResult {
  name: string;
  /** Threads doing the query's work: 1 inline, --cores for the engine. */
  cores: number;
  ratioToBaseline: number;
  /** events/s / (the floor's events/s x cores): the share of what the machine's cores could scan. */
  ofFloor: number;
  /** The same two ratios for the second (warm) pass, to the baseline's second pass (0 without one). */
  warmRatioToBaseline: number;
  warmOfFloor: number;
}

/** The engine section: the floor measured in the same run, and every configuration. */
export interface EngineBenchReport {
  floor: FloorResult;
  /** The machine's logical CPUs (os.availableParallelism), for the scaling ceiling under the tables. */
  machineCpus?: number;
  /** Rounds each crash-alerts configuration ran (its figures are the median round's). */
  rounds?: number;
  rows: EngineBenchRow[];
  /** The three-groups plan (avg/max over a double, three keys, every record parsed); ratioToBaseline is to crash-alerts in the same configuration. */
  threeGroups: EngineBenchRow[];
}

/** The oracle's rows over the whole input, streamed file by file in batches of 100k records (`last`: the final batch's rows, for a complete-mode plan). */
function oracleDigest(dir: string, plan: QueryPlan = crashAlertsPlan): { digest: string; rows: number; records: number; last: string } {
  function* batches(): Generator<string[]> {
    for (const name of readdirSync(dir).filter((n) => !n.startsWith('.')).sort()) {
      const lines = readFileSync(join(dir, name), 'utf8').split('\n');
      if (lines.at(-1) === '') lines.pop();
      for (let i = 0; i < lines.length; i += 100_000) yield lines.slice(i, i + 100_000);
    }
  }
  const r = runPlanReference(plan, batches(), { drain: true });
  const lines = r.batches.flatMap((b) => b.rows.map((row) => rowToJson(row, r.columns)));
  const last = (r.batches.at(-1)?.rows ?? []).map((row) => rowToJson(row, r.columns));
  return { digest: digestOf(lines), rows: lines.length, records: r.counters.records, last: digestOf(last) };
}

/** Rounds per configuration (KINDLING_BENCH_ROUNDS, default 3); see engineBench. */
const ROUNDS = Math.max(1, Number(process.env.KINDLING_BENCH_ROUNDS ?? 3) || 3);

/** The run whose `key` is the median of the runs' (the lower middle one of an even count). */
function medianBy<T>(runs: readonly T[], key: (r: T) => number): T {
  return [...runs].sort((a, b) => key(a) - key(b))[Math.floor((runs.length - 1) / 2)]!;
}

async function runCase(dir: string, c: EngineBenchCase): Promise<EngineBenchResult> {
  const { stdout } = await run(process.execPath, [CHILD, dir, JSON.stringify(c)], { maxBuffer: 1 << 20 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as EngineBenchResult;
}

/** Runs the engine section: returns rows and prints a table of ratios to the inline baseline. */
export async function engineBench(options: { events: number; log: (s: string) => void }): Promise<EngineBenchReport> {
  const { log } = options;
  log(`engine bench: ${options.events.toLocaleString('en-US')} lab events as NDJSON files, crash-alerts, file source`);
  const dir = await labFiles(options.events, 4, 1, log);
  log('  computing the oracle\'s answer (single-threaded reference)...');
  const oracle = oracleDigest(dir);
  log(`  oracle: ${oracle.records.toLocaleString('en-US')} records, ${oracle.rows} alert rows (digest ${oracle.digest})`);
  log('  measuring the floor (one-thread byte scan of the same files)...');
  // The term the plan's pre-check derives from its filter ("crash").
  const floor = measureFloor(dir, compileQuery(crashAlertsPlan).precheck[0]![0]!);
  for (const v of floor.variants) {
    if (v.lines !== oracle.records) throw new Error(`floor ${v.name}: counted ${v.lines} lines, the oracle ${oracle.records} records`);
    log(`  floor: ${v.name}: ${Math.round(v.eventsPerSecond).toLocaleString('en-US')} events/s (${v.gigabytesPerSecond.toFixed(2)} GB/s, ${v.termHits} hits of "${floor.term}")`);
  }
  const cases: Array<[string, EngineBenchCase]> = [
    ['inline, 1 thread (baseline)', { kind: 'inline' }],
    ['engine --cores 1 --partitions 1', { kind: 'engine', cores: 1, partitions: 1 }],
    ['engine --cores 2 --partitions 2', { kind: 'engine', cores: 2, partitions: 2 }],
    ['engine --cores 2 --partitions 8', { kind: 'engine', cores: 2, partitions: 8 }],
    ['engine --cores 2 --partitions 200', { kind: 'engine', cores: 2, partitions: 200 }],
  ];
  // Every configuration runs ROUNDS times, the rounds interleaved (all configurations once, then
  // again), so a burst of other load on a shared machine hits every configuration alike; each
  // figure is the median round's (the first-pass figures from the round with the median first-pass
  // rate, the warm ones from the round with the median warm rate).
  const runs: EngineBenchResult[][] = cases.map(() => []);
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [i, [name, c]] of cases.entries()) {
      log(`  running ${name} (round ${round} of ${ROUNDS})...`);
      const r = await runCase(dir, c);
      if (r.rowsDigest !== oracle.digest || r.records !== oracle.records || r.warm?.rowsDigest !== oracle.digest || r.warm.records !== oracle.records) {
        throw new Error(`${name}: output differs from the oracle (${r.rows} rows, digest ${r.rowsDigest}, second pass ${r.warm?.rowsDigest}; oracle ${oracle.rows} rows, ${oracle.digest}); its time does not count`);
      }
      runs[i]!.push(r);
    }
  }
  const rows: EngineBenchRow[] = [];
  for (const [i, [name, c]] of cases.entries()) {
    const r = { ...medianBy(runs[i]!, (x) => x.eventsPerSecond), warm: medianBy(runs[i]!, (x) => x.warm!.eventsPerSecond).warm };
    const cores = c.kind === 'inline' ? 1 : c.cores;
    rows.push({ name, ...r, cores, ratioToBaseline: 0, ofFloor: r.eventsPerSecond / (floor.best.eventsPerSecond * cores), warmRatioToBaseline: 0, warmOfFloor: r.warm!.eventsPerSecond / (floor.best.eventsPerSecond * cores) });
  }
  const base = rows[0]!;
  for (const r of rows) {
    r.ratioToBaseline = r.eventsPerSecond / base.eventsPerSecond;
    r.warmRatioToBaseline = r.warm!.eventsPerSecond / base.warm!.eventsPerSecond;
  }
  // The second plan: every record parsed, avg and max over a double, three grouping keys; its final
  // result (complete mode) must be the oracle's before its time counts.
  log('  three-groups plan: computing the oracle\'s final result...');
  const groupsOracle = oracleDigest(dir, threeGroupsPlan);
  const threeGroups: EngineBenchRow[] = [];
  for (const [name, c] of [['three-groups, inline, 1 thread', { kind: 'inline', query: 'three-groups', warm: false }], ['three-groups, engine --cores 2 --partitions 2', { kind: 'engine', cores: 2, partitions: 2, query: 'three-groups', warm: false }]] as Array<[string, EngineBenchCase]>) {
    log(`  running ${name}...`);
    const r = await runCase(dir, c);
    if (r.lastBatchDigest !== groupsOracle.last || r.records !== groupsOracle.records) throw new Error(`${name}: final result differs from the oracle (digest ${r.lastBatchDigest}; oracle ${groupsOracle.last}); its time does not count`);
    const cores = c.kind === 'inline' ? 1 : c.cores;
    const same = rows.find((x) => x.name.endsWith(c.kind === 'inline' ? 'inline, 1 thread (baseline)' : 'engine --cores 2 --partitions 2'))!;
    threeGroups.push({ name, ...r, cores, ratioToBaseline: r.eventsPerSecond / same.eventsPerSecond, ofFloor: r.eventsPerSecond / (floor.best.eventsPerSecond * cores), warmRatioToBaseline: 0, warmOfFloor: 0 });
  }
  return { floor, rows, threeGroups, machineCpus: availableParallelism(), rounds: ROUNDS };
}

/** The markdown table of an engine bench. */
export function engineTable(report: EngineBenchReport): string {
  const { floor, rows } = report;
  const f = (x: number, d = 0): string => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  /** CPUs the process kept busy on average over the timed run: its CPU time (all threads) / wall time. */
  const busy = (r: { cpuNsPerEvent: number; eventsPerSecond: number }): number => (r.cpuNsPerEvent * r.eventsPerSecond) / 1e9;
  const lines = [
    `Floor (one thread, same files: read, count lines, find "${floor.term}"; fastest of 3 passes each):`,
    '',
    '| floor variant | events/s | GB/s | term hits |',
    '|---|---:|---:|---:|',
    ...floor.variants.map((v) => `| ${v.name}${v === floor.best ? ' (the floor)' : ''} | ${f(v.eventsPerSecond)} | ${f(v.gigabytesPerSecond, 2)} | ${f(v.termHits)} |`),
    '',
    ...(report.rounds !== undefined ? [`crash-alerts, each configuration the median of ${report.rounds} interleaved rounds; CPUs busy = the process's CPU time (all threads) / wall time:`, ''] : []),
    '| configuration | events/s | x baseline | of floor x cores | CPU ns/event | CPUs busy | batch p50 ms | batch p99 ms | main-thread share | peak RSS MB |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.name} | ${f(r.eventsPerSecond)} | ${f(r.ratioToBaseline, 2)} | ${f(r.ofFloor, 2)} | ${f(r.cpuNsPerEvent)} | ${f(busy(r), 2)} | ${f(r.batchLatencyP50Ms, 1)} | ${f(r.batchLatencyP99Ms, 1)} | ${r.name.startsWith('inline') ? '1 thread' : f(r.mainThreadShare * 100, 0) + ' %'} | ${f(r.peakRssMb)} |`),
    '',
    'The same configurations, second pass over the same files in the same process and threads (the query code compiled and optimised by then):',
    '',
    '| configuration (warm) | events/s | x baseline | of floor x cores | CPU ns/event | CPUs busy | batch p50 ms | batch p99 ms | main-thread share |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.name} | ${f(r.warm!.eventsPerSecond)} | ${f(r.warmRatioToBaseline, 2)} | ${f(r.warmOfFloor, 2)} | ${f(r.warm!.cpuNsPerEvent)} | ${f(busy(r.warm!), 2)} | ${f(r.warm!.batchLatencyP50Ms, 1)} | ${f(r.warm!.batchLatencyP99Ms, 1)} | ${r.name.startsWith('inline') ? '1 thread' : f(r.warm!.mainThreadShare * 100, 0) + ' %'} |`),
  ];
  if (report.threeGroups.length > 0) {
    lines.push(
      '',
      'avg/max over a double field, three grouping columns (severity, status, source_ip), every record parsed, complete mode; "x crash-alerts" is to crash-alerts in the same configuration:',
      '',
      '| configuration | events/s | x crash-alerts | CPU ns/event | peak RSS MB |',
      '|---|---:|---:|---:|---:|',
      ...report.threeGroups.map((r) => `| ${r.name} | ${f(r.eventsPerSecond)} | ${f(r.ratioToBaseline, 2)} | ${f(r.cpuNsPerEvent)} | ${f(r.peakRssMb)} |`),
    );
  }
  const get = (n: string): EngineBenchRow | undefined => rows.find((r) => r.name.startsWith(n));
  const c1 = get('engine --cores 1');
  const c2 = get('engine --cores 2 --partitions 2');
  const p200 = get('engine --cores 2 --partitions 200');
  if (c1 && c2 && p200) {
    lines.push(
      '',
      `Targets, first pass: --cores 2 at ${f(c2.ofFloor, 2)} of floor x 2 (>= 0.5); --cores 2 vs baseline ${f(c2.ratioToBaseline, 2)}x (>= 1.5); --cores 2 vs --cores 1 ${f(c2.eventsPerSecond / c1.eventsPerSecond, 2)}x (>= 1.6); ` +
        `--partitions 200 costs ${f((1 - p200.eventsPerSecond / c2.eventsPerSecond) * 100, 1)} % vs 2 (<= 10 %); peak RSS at 2 cores ${f(Math.max(c2.peakRssMb, p200.peakRssMb))} MB (<= 150).`,
      `Targets, second (warm) pass: --cores 2 at ${f(c2.warmOfFloor, 2)} of floor x 2; vs baseline ${f(c2.warmRatioToBaseline, 2)}x; vs --cores 1 ${f(c2.warm!.eventsPerSecond / c1.warm!.eventsPerSecond, 2)}x; ` +
        `CPU ns/event --cores 2 / --cores 1 ${f(c2.warm!.cpuNsPerEvent / c1.warm!.cpuNsPerEvent, 2)}x (first pass ${f(c2.cpuNsPerEvent / c1.cpuNsPerEvent, 2)}x); --partitions 200 costs ${f((1 - p200.warm!.eventsPerSecond / c2.warm!.eventsPerSecond) * 100, 1)} % vs 2.`,
    );
    const cpus = report.machineCpus;
    if (cpus !== undefined) {
      // --cores 1 is one worker, but the main thread and V8's own threads (compiler, GC) run beside it.
      lines.push(
        `Scaling ceiling on this ${cpus}-CPU machine: --cores 1 keeps ${f(busy(c1), 2)} CPUs busy (warm ${f(busy(c1.warm!), 2)}), so at the same CPU per event --cores 2 can be at most ` +
          `${f(cpus / busy(c1), 2)}x --cores 1 (warm ${f(cpus / busy(c1.warm!), 2)}x); --cores 2 kept ${f(busy(c2), 2)} busy (warm ${f(busy(c2.warm!), 2)}).`,
      );
    }
  }
  return lines.join('\n');
}
