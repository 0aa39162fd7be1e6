// `npm run profile`: a bounded engine run under clinic (flame or doctor) and per-thread `node --cpu-prof`, with a readable summary.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { parseRunArgs, type RunConfig } from '../src/config.js';
import { SPLIT_BYTES, SPLIT_EVENTS } from '../src/engine/build.js';
import { runInline } from '../src/engine/inline.js';
import { projectRoot } from '../src/engine/pool.js';
import { KindlingError } from '../src/errors.js';
import { planOf } from '../src/engine/build.js';
import { FileSource } from '../src/source/file.js';
import { GeneratorSource } from '../src/source/generator.js';
import { KafkaSource } from '../src/source/kafka.js';
import type { Source } from '../src/source/source.js';
import { labFiles } from './fixtures.js';

const SELF = fileURLToPath(import.meta.url);
const log = (s: string): void => {
  process.stderr.write(s + '\n');
};

/** Which profiler wraps the run: clinic flame or doctor (each followed by a per-thread pass), or only the per-thread pass. */
export type ProfileTool = 'flame' | 'doctor' | 'cpu';

/** The profile command's own settings; every other flag goes to the engine. */
export interface ProfileOptions {
  readonly tool: ProfileTool;
  /** Run the query on the main thread with no pool (src/engine/inline.ts), so one flamegraph holds all of it. */
  readonly inline: boolean;
  /** Also run once under `node --cpu-prof` (one .cpuprofile per thread) after clinic. */
  readonly cpuProf: boolean;
  readonly outDir: string | null;
  /** Functions listed per thread in the summary. */
  readonly top: number;
  /** Events in the default input (bench NDJSON files) when no source flag is given. */
  readonly inputEvents: number;
  readonly engineArgs: readonly string[];
}

const USAGE = `Usage: npm run profile -- [profile flags] [engine flags]
       npm run profile:doctor -- [profile flags] [engine flags]

Runs one bounded engine run under a profiler and writes everything to one folder it names.

Profile flags:
  --tool flame|doctor|cpu  flame (default): clinic flame, an HTML flamegraph of the MAIN thread;
                           doctor: clinic doctor, an HTML report of CPU, memory, event-loop delay, handles;
                           cpu: only the per-thread pass below (fast, no clinic)
  --inline                 run the query on the main thread with no worker pool (src/engine/inline.ts):
                           the flamegraph then shows the whole query (parse, pre-check, window, partition)
  --no-cpu-prof            skip the per-thread pass that follows clinic
  --out DIR                where reports go (default .kindling/profiles/<time>-<tool>[-inline])
  --top N                  functions listed per thread in the summary (default 12)
  --input-events N         size of the default input (default 2000000)

The per-thread pass runs the same command under \`node --cpu-prof\`: one .cpuprofile per thread (main and
each worker; open them in Chrome DevTools > Performance, or speedscope), summarised per thread in
summary.txt and on stdout.

Engine flags are \`kindling run\` flags (see npm start -- --help). Defaults added when absent, to keep the
run bounded and the profile about the engine: the bench's NDJSON files (bench/.data, written once) as
--source file; --sink none --no-ui --quiet; for --source generator --rate 0 --events 2000000; for Kafka
--available-now --starting-offsets earliest.`;

/** Splits argv into the profile command's flags and the engine's; a UsageError-like KindlingError on bad values. */
export function parseProfileArgs(argv: readonly string[], defaultTool: ProfileTool = 'flame'): ProfileOptions | 'help' {
  let tool = defaultTool;
  let inline = false;
  let cpuProf = true;
  let outDir: string | null = null;
  let top = 12;
  let inputEvents = 2_000_000;
  const engineArgs: string[] = [];
  const usage = (message: string): KindlingError => new KindlingError('USAGE', message, { domain: 'user' });
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg : arg.slice(0, eq);
    const value = (): string => {
      const v = eq === -1 ? argv[++i] : arg.slice(eq + 1);
      if (v === undefined || v === '') throw usage(`${name} needs a value`);
      return v;
    };
    const int = (min: number): number => {
      const raw = value();
      const n = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
      if (!Number.isSafeInteger(n) || n < min) throw usage(`${name} must be an integer >= ${min}; got '${raw}'`);
      return n;
    };
    switch (name) {
      case '--tool': {
        const v = value();
        if (v !== 'flame' && v !== 'doctor' && v !== 'cpu') throw usage(`--tool must be one of flame, doctor, cpu; got '${v}'`);
        tool = v;
        break;
      }
      case '--inline':
        inline = true;
        break;
      case '--no-cpu-prof':
        cpuProf = false;
        break;
      case '--out':
        outDir = resolve(value());
        break;
      case '--top':
        top = int(1);
        break;
      case '--input-events':
        inputEvents = int(1);
        break;
      case '--help':
      case '-h':
        return 'help';
      default:
        engineArgs.push(arg);
    }
  }
  return { tool, inline, cpuProf: cpuProf || tool === 'cpu', outDir, top, inputEvents, engineArgs };
}

const has = (args: readonly string[], flag: string): boolean => args.some((a) => a === flag || a.startsWith(flag + '='));
const valueOf = (args: readonly string[], flag: string): string | undefined => {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === flag) return args[i + 1];
    if (a.startsWith(flag + '=')) return a.slice(flag.length + 1);
  }
  return undefined;
};

/**
 * The engine flags of the profiled run: the user's, plus what keeps it bounded and quiet. A run
 * without a source flag reads the bench's NDJSON files, not the generator, because workers that
 * generate their own events would spend most of the profile in the generator.
 */
export function boundedEngineArgs(options: ProfileOptions, defaultInput: string): string[] {
  const args = [...options.engineArgs];
  const explicitSource = valueOf(args, '--source') ?? (has(args, '--brokers') ? 'kafka' : has(args, '--path') ? 'file' : undefined);
  const generatorFlags = ['--events', '--rate', '--seed', '--start-time', '--event-rate', '--users'];
  if (explicitSource === undefined && !generatorFlags.some((f) => has(args, f))) {
    args.push('--source', 'file', '--path', defaultInput);
  } else if (explicitSource === 'file') {
    if (!has(args, '--source')) args.push('--source', 'file');
  } else if ((explicitSource ?? 'generator') === 'generator') {
    if (!has(args, '--rate')) args.push('--rate', '0');
    if (!has(args, '--events')) args.push('--events', String(options.inputEvents));
  } else if (explicitSource === 'kafka') {
    if (!has(args, '--available-now')) args.push('--available-now');
    if (!has(args, '--starting-offsets')) args.push('--starting-offsets', 'earliest');
  }
  if (!has(args, '--sink')) args.push('--sink', 'none');
  if (!has(args, '--no-ui') && !has(args, '--ui-port')) args.push('--no-ui');
  if (!has(args, '--quiet')) args.push('--quiet');
  return args;
}

/** Runs a command to its end with stderr/stdout passed through; resolves its exit code. */
function runChild(command: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { env, cwd, stdio: ['ignore', 'inherit', 'inherit'] });
    // Ctrl-C reaches the whole process group; the child finishes its batch and exits on its own.
    const ignore = (): void => undefined;
    process.on('SIGINT', ignore);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      process.off('SIGINT', ignore);
      resolvePromise(code ?? (signal ? 128 : 1));
    });
  });
}

/** The clinic command-line script installed with the package (a devDependency). */
function clinicBin(): string {
  const require = createRequire(import.meta.url);
  let pkgPath: string;
  try {
    pkgPath = require.resolve('clinic/package.json');
  } catch (err) {
    throw new KindlingError('NO_CLINIC', 'clinic is not installed: run `npm install` (it is a devDependency), or use --tool cpu', { domain: 'user', cause: err });
  }
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { bin: string | Record<string, string> };
  const bin = typeof pkg.bin === 'string' ? pkg.bin : pkg.bin['clinic']!;
  return join(dirname(pkgPath), bin);
}

/** Runs the target under clinic flame or doctor; returns the HTML report's path. */
async function runClinic(tool: 'flame' | 'doctor', dest: string, targetArgs: string[]): Promise<string> {
  await mkdir(dest, { recursive: true });
  // Without a terminal clinic exits 0 and writes nothing unless NO_INSIGHT is set (TOOLCHAIN.md).
  const env = { ...process.env, NO_INSIGHT: '1' };
  log(`clinic ${tool} will print "To generate the report press: Ctrl + C": no need, the profiled run is bounded and ends by itself, then clinic writes the report`);
  const code = await runChild(process.execPath, [clinicBin(), tool, '--open=false', '--dest', dest, '--', process.execPath, SELF, ...targetArgs], env, process.cwd());
  const html = readdirSync(dest).filter((n) => n.endsWith('.html')).map((n) => join(dest, n));
  if (html.length === 0) throw new KindlingError('CLINIC_FAILED', `clinic ${tool} exited with code ${code} and wrote no HTML report in ${dest}`);
  if (code !== 0) log(`clinic ${tool} exited with code ${code}; the report may be partial`);
  return html[0]!;
}

/** Runs the target under `node --cpu-prof`, one .cpuprofile per thread into `dir`. */
async function runCpuProf(dir: string, targetArgs: string[]): Promise<number> {
  await mkdir(dir, { recursive: true });
  return runChild(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, SELF, ...targetArgs], process.env, process.cwd());
}

// ---- the per-thread summary -------------------------------------------------------------------

/** A V8 CPU profile (`.cpuprofile`, Chrome DevTools' format) as far as the summary reads it. */
interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }>;
  samples: number[];
  timeDeltas: number[];
}

/** Where a sample's time goes: the engine's steps as docs/profiling.md names them. */
export type Phase =
  | 'pre-check'
  | 'parse'
  | 'filter'
  | 'window (stage 1)'
  | 'partition'
  | 'window state (stage 2)'
  | 'generate events'
  | 'read input'
  | 'kafka fetch/decode'
  | 'dispatch'
  | 'coordinate/merge'
  | 'sinks/metrics/checkpoint'
  | 'startup'
  | 'gc'
  | 'vm/native'
  | 'other'
  | 'idle';

/**
 * Which phase a frame belongs to, or null when it says nothing (a builtin such as `exec` or
 * `parse` has no URL: the caller decides). Rules follow the code's layout (README, "How it works").
 */
export function phaseOfFrame(functionName: string, url: string): Phase | null {
  if (functionName === '(garbage collector)') return 'gc';
  if (functionName === '(idle)') return 'idle';
  if (functionName === '(program)') return 'vm/native';
  if (functionName === '(root)') return null;
  if (url === '') return null;
  // A piscina worker blocks in Atomics.wait between tasks: waiting, not working.
  if (functionName === 'atomicsWaitLoop' && url.includes('/node_modules/piscina/')) return 'idle';
  const file = basename(url.split('?')[0]!);
  if (url.includes('/src/plan/')) {
    if (file === 'from-json.js' || file === 'json-text.js' || file === 'timestamp.js') return 'parse';
    if (file === 'precheck.js') return 'pre-check';
    if (file === 'compile-plan.js') {
      if (functionName === 'accumulate' || functionName === 'addTo') return 'window (stage 1)';
      if (functionName === 'runSteps') return 'filter';
      return functionName === 'scanRecord' ? 'parse' : 'pre-check';
    }
    if (file === 'aggregate.js' || file === 'hll.js' || file === 'xxhash64.js' || file === 'hll-aggregate.js' || file === 'values.js') return 'window (stage 1)';
    if (file === 'state.js' || file === 'order.js') return 'window state (stage 2)';
    return 'filter';
  }
  if (url.endsWith('/src/engine/stages.js') && (functionName === 'ownAggregates' || functionName === 'ownDedup')) return 'partition';
  if (url.endsWith('/src/engine/watermark.js')) return 'window state (stage 2)';
  // The SIMD byte kernel (src/kernel/, its wasm functions) only runs the pre-check's searches.
  if (url.includes('/src/kernel/') || url.startsWith('wasm://')) return 'pre-check';
  if (url.endsWith('/src/partition.js')) return 'partition';
  if (url.includes('/src/source/')) {
    if (file === 'lab-events.js') return 'generate events';
    return file.startsWith('kafka') ? 'kafka fetch/decode' : 'read input';
  }
  if (url.includes('/node_modules/kafkajs/')) return 'kafka fetch/decode';
  if (url.includes('/src/engine/coordinator.js') || url.includes('/src/engine/inline.js')) return 'coordinate/merge';
  if (url.includes('/src/engine/') || url.includes('/workers/') || url.includes('/node_modules/piscina/')) return 'dispatch';
  if (url.includes('/src/sink/') || url.includes('/src/metrics/') || url.includes('/src/checkpoint/')) return 'sinks/metrics/checkpoint';
  if (url.startsWith('node:internal/worker') || url.includes('messageport') || url.startsWith('node:worker_threads')) return 'dispatch';
  if (url.startsWith('node:internal/modules') || url.startsWith('node:internal/main') || url.startsWith('node:internal/bootstrap')) return 'startup';
  // Anything else (node:fs, buffers, streams...) is charged to its caller: reading a file under
  // src/source/ is input, the same call under the module loader is start-up.
  return null;
}

/** One thread's profile, summarised. */
export interface ThreadSummary {
  readonly file: string;
  readonly thread: string;
  readonly threadId: number;
  readonly sampledMs: number;
  readonly busyMs: number;
  readonly phases: ReadonlyArray<{ phase: Phase; ms: number }>;
  readonly top: ReadonlyArray<{ name: string; where: string; selfMs: number }>;
}

/** Reads a .cpuprofile: self time per function and time per phase (each sample goes to its innermost frame that names one). */
export function summariseProfile(file: string, top = 12): ThreadSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const root = projectRoot();
  // Phase per node, decided once: the node's own frame if it names a phase, else its caller's.
  const phaseOf = new Map<number, Phase>();
  const resolvePhase = (id: number): Phase => {
    const known = phaseOf.get(id);
    if (known) return known;
    const chain: number[] = [];
    let phase: Phase = 'other';
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const cached = phaseOf.get(cur);
      if (cached) {
        phase = cached;
        break;
      }
      chain.push(cur);
      const frame = byId.get(cur)!.callFrame;
      const p = phaseOfFrame(frame.functionName, frame.url);
      if (p) {
        phase = p;
        break;
      }
    }
    for (const c of chain) phaseOf.set(c, phase);
    return phase;
  };
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, profile.timeDeltas[i] ?? 0));
  }
  const phaseUs = new Map<Phase, number>();
  const fnUs = new Map<string, { name: string; where: string; us: number }>();
  let totalUs = 0;
  let workerCode = false;
  for (const n of profile.nodes) {
    const { functionName, url, lineNumber } = n.callFrame;
    if (url.includes('/workers/task.js')) workerCode = true;
    const us = selfUs.get(n.id) ?? 0;
    if (us === 0) continue;
    totalUs += us;
    const phase = resolvePhase(n.id);
    phaseUs.set(phase, (phaseUs.get(phase) ?? 0) + us);
    if (phase === 'idle') continue;
    let where = url === '' ? '(native)' : url.startsWith('file://') ? relative(root, fileURLToPath(url)) : url;
    where = where.replace(/^node_modules\//, '').replace(/^dist\//, '');
    if (url !== '') where += `:${lineNumber + 1}`;
    const name = functionName || '(anonymous)';
    const key = `${name}@${where}`;
    const entry = fnUs.get(key) ?? { name, where, us: 0 };
    entry.us += us;
    fnUs.set(key, entry);
  }
  const m = /\.(\d+)\.(\d+)\.(\d+)\.cpuprofile$/.exec(basename(file));
  const threadId = m ? Number(m[2]) : -1;
  const idleUs = phaseUs.get('idle') ?? 0;
  return {
    file,
    thread: threadId === 0 ? 'main thread' : workerCode ? 'worker thread' : 'thread',
    threadId,
    sampledMs: totalUs / 1000,
    busyMs: (totalUs - idleUs) / 1000,
    phases: [...phaseUs].filter(([p]) => p !== 'idle').map(([phase, us]) => ({ phase, ms: us / 1000 })).sort((a, b) => b.ms - a.ms),
    top: [...fnUs.values()].sort((a, b) => b.us - a.us).slice(0, top).map((f) => ({ name: f.name, where: f.where, selfMs: f.us / 1000 })),
  };
}

/** Every .cpuprofile in `dir`, main thread first, then workers by thread id. */
export function summariseProfiles(dir: string, top = 12): ThreadSummary[] {
  const files = existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith('.cpuprofile')) : [];
  return files.map((n) => summariseProfile(join(dir, n), top)).sort((a, b) => a.threadId - b.threadId);
}

/** The summary as text: per thread, busy time, phases, then the top functions by self time. */
export function renderSummary(threads: readonly ThreadSummary[]): string {
  const f = (x: number, d = 0): string => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  const out: string[] = [];
  let worker = 0;
  for (const t of threads) {
    const label = t.thread === 'worker thread' ? `worker thread ${worker++}` : t.thread;
    const busyPct = t.sampledMs > 0 ? (100 * t.busyMs) / t.sampledMs : 0;
    out.push(`${label} (thread id ${t.threadId}, ${basename(t.file)}): ${f(t.sampledMs)} ms sampled, busy ${f(t.busyMs)} ms (${f(busyPct)} %)`);
    const pct = (ms: number): string => (t.busyMs > 0 ? `${f((100 * ms) / t.busyMs)} %` : '-');
    out.push('  busy time by phase: ' + t.phases.filter((p) => p.ms >= t.busyMs * 0.005).map((p) => `${p.phase} ${pct(p.ms)}`).join(' · '));
    out.push('  top functions by self time:');
    for (const fn of t.top) out.push(`    ${pct(fn.selfMs).padStart(5)}  ${f(fn.selfMs).padStart(6)} ms  ${fn.name}  ${fn.where}`);
    out.push('');
  }
  return out.join('\n');
}

// ---- the profiled process ---------------------------------------------------------------------

/**
 * Makes the worker threads this process starts profiler-safe: the pool hands `process.execArgv` and
 * the environment to its workers. clinic flame's `--prof --logfile --print-opt-source` are per-process
 * V8 flags that Worker rejects (ERR_WORKER_INVALID_EXEC_ARGV), its `-r` preloads would run in every
 * thread, and clinic doctor's NODE_OPTIONS preload in a worker corrupts doctor's data stream
 * ("Decoded message is not valid", TOOLCHAIN.md). `--cpu-prof*` is kept: it is what gives each worker
 * its own profile. The main thread has already loaded the preloads, so it stays profiled.
 */
function scrubForWorkers(): void {
  const keep: string[] = [];
  for (let i = 0; i < process.execArgv.length; i++) {
    const a = process.execArgv[i]!;
    if (a.startsWith('--cpu-prof')) {
      keep.push(a);
      if (!a.includes('=') && a !== '--cpu-prof' && process.execArgv[i + 1] !== undefined) keep.push(process.execArgv[++i]!);
    }
  }
  process.execArgv.splice(0, process.execArgv.length, ...keep);
  delete process.env['NODE_OPTIONS'];
}

/** Builds the source a RunConfig names, as src/engine/build.ts does, without a pool. */
async function openSource(config: RunConfig): Promise<Source<unknown>> {
  if (config.source.kind === 'file') return FileSource.open({ ...config.source, splitBytes: SPLIT_BYTES });
  if (config.source.kind === 'kafka') return new KafkaSource({ ...config.source, splitBytes: SPLIT_BYTES, log });
  return new GeneratorSource({ ...config.source, splitEvents: SPLIT_EVENTS });
}

/** The inline target: the whole query on this thread (no pool), then one summary line. */
async function runInlineTarget(argv: string[]): Promise<number> {
  // --cores means nothing inline; giving it skips core detection, which spawns lscpu into the profile.
  const { config } = await parseRunArgs(argv.some((a) => a === '--cores' || a.startsWith('--cores=')) ? argv : [...argv, '--cores', '1']);
  if (!config) return 0;
  const plan = await planOf(config);
  const source = await openSource(config);
  const started = performance.now();
  try {
    const s = await runInline(plan, source, { drain: config.drain, maxRecordBytes: config.maxRecordBytes, emit: () => undefined });
    const ms = performance.now() - started;
    // Plain numbers: the first toLocaleString loads ICU data, ~20 ms that would show in the profile.
    log(`inline: ${s.records} records, ${s.matched} matched, ${s.rowsOut} rows out, ${s.batches} batches in ${ms.toFixed(0)} ms (${Math.round((s.records * 1000) / ms)} events/s, on one thread)`);
  } finally {
    await source.close();
  }
  return 0;
}

/** `profile.js --as-target engine|inline ARGS`: the process the profilers run. */
async function target(kind: string, argv: string[]): Promise<void> {
  scrubForWorkers();
  if (kind === 'inline') {
    process.exit(await runInlineTarget(argv));
  }
  // src/main.ts runs on import with process.argv.slice(2) and exits when the run ends.
  process.argv.splice(2, process.argv.length - 2, ...argv);
  await import('../src/main.js');
}

// ---- the command ------------------------------------------------------------------------------

/** Stands for the default input's folder until the flags are known to be good (it is written only then). */
const DEFAULT_INPUT_PLACEHOLDER = '<bench input>';

function stamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === '--as-target') {
    await target(argv[1] ?? 'engine', argv.slice(2));
    return -1;
  }
  const options = parseProfileArgs(argv);
  if (options === 'help') {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  // Bad engine flags stop here with the engine's own message, before any input is written or a profiler starts.
  const { config } = await parseRunArgs(boundedEngineArgs(options, DEFAULT_INPUT_PLACEHOLDER));
  if (!config) return 0;
  const engineArgs = boundedEngineArgs(options, DEFAULT_INPUT_PLACEHOLDER);
  const at = engineArgs.indexOf(DEFAULT_INPUT_PLACEHOLDER);
  if (at !== -1) engineArgs[at] = await labFiles(options.inputEvents, 4, 1, log);
  const kind = options.inline ? 'inline' : 'engine';
  const out = options.outDir ?? join(projectRoot(), '.kindling', 'profiles', `${stamp()}-${options.tool}${options.inline ? '-inline' : ''}`);
  await mkdir(out, { recursive: true });
  const targetArgs = ['--as-target', kind, ...engineArgs];
  const what = options.inline ? 'the query inline on the main thread (no pool)' : `the engine, ${config.cores} worker thread(s), ${config.partitions} partition(s)`;
  log(`profile: ${what}\n  flags: ${engineArgs.join(' ')}\n  output: ${out}`);
  const written: string[] = [];
  if (options.tool !== 'cpu') {
    log(`\n== clinic ${options.tool}`);
    const html = await runClinic(options.tool, join(out, `clinic-${options.tool}`), targetArgs);
    written.push(`clinic ${options.tool} report (open in a browser): ${html}`);
    if (options.tool === 'flame' && !options.inline) {
      written.push('  it draws the main thread only (workers cannot run V8\'s --prof): the per-thread --cpu-prof pass covers the workers, and --inline draws the whole query in one graph');
    }
  }
  if (options.cpuProf) {
    log('\n== node --cpu-prof (one profile per thread)');
    const dir = join(out, 'cpuprofile');
    const code = await runCpuProf(dir, targetArgs);
    if (code !== 0) throw new KindlingError('PROFILE_RUN_FAILED', `the profiled run exited with code ${code}`);
    const threads = summariseProfiles(dir, options.top);
    if (threads.length === 0) throw new KindlingError('PROFILE_MISSING', `node --cpu-prof wrote no .cpuprofile in ${dir}`);
    const text = renderSummary(threads);
    await writeFile(join(out, 'summary.txt'), `${what}\nflags: ${engineArgs.join(' ')}\n\n${text}`);
    await writeFile(join(out, 'summary.json'), JSON.stringify(threads, null, 2) + '\n');
    process.stdout.write(`\n${text}`);
    written.push(`per-thread CPU profiles (Chrome DevTools > Performance > Load profile, or speedscope): ${dir}`, `summary: ${join(out, 'summary.txt')}`);
  }
  log(`\nprofile written to ${out}\n` + written.map((w) => `  ${w}`).join('\n'));
  return 0;
}

if (process.argv[1] === SELF) {
  main(process.argv.slice(2)).then(
    (code) => {
      if (code >= 0) process.exit(code);
    },
    (err: unknown) => {
      if (err instanceof KindlingError) {
        log(`profile: ${err.message}`);
        process.exit(err.domain === 'user' ? 2 : 1);
      }
      log(`profile failed: ${(err as Error).stack ?? String(err)}`);
      process.exit(1);
    },
  );
}
