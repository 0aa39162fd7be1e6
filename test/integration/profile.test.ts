// `npm run profile` as a user runs it: a small bounded run under clinic and node --cpu-prof must leave its reports behind.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { phaseOfFrame } from '../../bench/profile.js';
import { DEFAULT_GENERATOR, labEventsNdjson } from '../../src/source/lab-events.js';
import { runNodeScript, type ProcessResult } from '../helpers/process.js';

const PROFILE = resolve('dist/bench/profile.js');
let root = '';
let input = '';

/** Why clinic cannot run here, or null when it can: the only reason these tests may skip. */
const clinicMissing = ((): string | null => {
  try {
    createRequire(import.meta.url).resolve('clinic/package.json');
    return null;
  } catch {
    return 'clinic is not installed (npm install adds it as a devDependency)';
  }
})();
if (clinicMissing) console.warn(`profile tests with clinic SKIPPED: ${clinicMissing}`);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'kindling-profile-'));
  input = join(root, 'input');
  await mkdir(input);
  // 200,000 lab events in two files: enough for every phase to show, small enough to stay quick.
  const spec = { ...DEFAULT_GENERATOR, seed: 1, startTimeMs: Date.parse('2024-11-25T10:40:00Z') };
  await writeFile(join(input, 'part-000.ndjson'), labEventsNdjson(spec, 0, 100_000));
  await writeFile(join(input, 'part-001.ndjson'), labEventsNdjson(spec, 100_000, 100_000));
});

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

/** Runs the profile command to completion and returns its exit code and output. */
function profile(args: string[], timeoutMs = 85_000): Promise<ProcessResult> {
  return runNodeScript(PROFILE, args, timeoutMs);
}

const cpuProfiles = async (dir: string): Promise<string[]> => (await readdir(join(dir, 'cpuprofile'))).filter((n) => n.endsWith('.cpuprofile'));

describe('npm run profile', () => {
  // The two clinic runs spend most of their time building the HTML report; they run side by side.
  (clinicMissing !== null ? it.skip : it.concurrent)(
    'writes a clinic flame report, one .cpuprofile per thread (main and both workers) and a per-thread summary',
    async () => {
      const out = join(root, 'flame');
      const r = await profile(['--out', out, '--source', 'file', '--path', input, '--cores', '2', '--partitions', '4']);
      expect(r.code, r.stderr).toBe(0);
      const html = (await readdir(join(out, 'clinic-flame'))).filter((n) => n.endsWith('.html'));
      expect(html).toHaveLength(1);
      expect(await cpuProfiles(out)).toHaveLength(3);
      const summary = await readFile(join(out, 'summary.txt'), 'utf8');
      expect(summary).toContain('main thread (thread id 0');
      expect(summary).toMatch(/worker thread 0 .*\n  busy time by phase: .*pre-check/);
      expect(summary).toMatch(/worker thread 1 .*\n  busy time by phase: .*pre-check/);
      expect(r.stdout).toContain('top functions by self time');
      expect(r.stderr).toContain(out);
    },
    90_000,
  );

  (clinicMissing !== null ? it.skip : it.concurrent)(
    'profile:doctor writes a clinic doctor report for a run with worker threads',
    async () => {
      const out = join(root, 'doctor');
      const r = await profile(['--tool', 'doctor', '--no-cpu-prof', '--out', out, '--source', 'file', '--path', input, '--cores', '2']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).not.toContain('Decoded message is not valid');
      const html = (await readdir(join(out, 'clinic-doctor'))).filter((n) => n.endsWith('.html'));
      expect(html).toHaveLength(1);
      expect(existsSync(join(out, 'cpuprofile'))).toBe(false);
    },
    90_000,
  );

  it('--tool cpu --inline profiles the whole query on the main thread, with parse and pre-check in its summary', async () => {
    const out = join(root, 'inline');
    const r = await profile(['--tool', 'cpu', '--inline', '--out', out, '--source', 'file', '--path', input]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('inline: 200000 records');
    expect(await cpuProfiles(out)).toHaveLength(1);
    const summary = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8')) as Array<{ thread: string; phases: Array<{ phase: string }> }>;
    expect(summary.map((t) => t.thread)).toEqual(['main thread']);
    const phases = summary[0]!.phases.map((p) => p.phase);
    expect(phases).toContain('pre-check');
    expect(phases).toContain('parse');
  });

  it('rejects a bad engine flag before any profiler starts, with the engine\'s message and exit code 2', async () => {
    const r = await profile(['--tool', 'cpu', '--out', join(root, 'bad'), '--cores', 'two']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--cores must be an integer >= 1");
    expect(existsSync(join(root, 'bad', 'cpuprofile'))).toBe(false);
  });
});

describe('the per-thread summary charges each frame to an engine phase', () => {
  const dist = 'file:///work/kindling/dist';
  it.each([
    ['scanWindow', `${dist}/src/plan/compile-plan.js`, 'pre-check'],
    ['precheckAccepts', `${dist}/src/plan/precheck.js`, 'pre-check'],
    ['scanRecord', `${dist}/src/plan/compile-plan.js`, 'parse'],
    ['parse', `${dist}/src/plan/from-json.js`, 'parse'],
    ['runSteps', `${dist}/src/plan/compile-plan.js`, 'filter'],
    ['lower', `${dist}/src/plan/functions.js`, 'filter'],
    ['accumulate', `${dist}/src/plan/compile-plan.js`, 'window (stage 1)'],
    ['update', `${dist}/src/plan/aggregate.js`, 'window (stage 1)'],
    ['ownAggregates', `${dist}/src/engine/stages.js`, 'partition'],
    ['murmur2', `${dist}/src/partition.js`, 'partition'],
    ['step', `${dist}/src/plan/state.js`, 'window state (stage 2)'],
    ['labEventJson', `${dist}/src/source/lab-events.js`, 'generate events'],
    ['readAt', `${dist}/src/source/file.js`, 'read input'],
    ['decodeRecordBatch', `${dist}/src/source/kafka-records.js`, 'kafka fetch/decode'],
    ['runBatch', `${dist}/src/engine/coordinator.js`, 'coordinate/merge'],
    ['runOn', `${dist}/src/engine/pool.js`, 'dispatch'],
    ['postTask', 'file:///work/kindling/node_modules/piscina/dist/worker_pool/index.js', 'dispatch'],
    ['atomicsWaitLoop', 'file:///work/kindling/node_modules/piscina/dist/worker.js', 'idle'],
    ['(garbage collector)', '', 'gc'],
    ['(idle)', '', 'idle'],
  ])('%s in %s is %s', (fn, url, phase) => {
    expect(phaseOfFrame(fn, url)).toBe(phase);
  });

  it.each([
    ['exec', ''],
    ['parse', ''],
    ['read', 'node:internal/fs/promises'],
  ])('%s (%s) says nothing by itself: its caller decides', (fn, url) => {
    expect(phaseOfFrame(fn, url)).toBeNull();
  });
});
