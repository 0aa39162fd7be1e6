// Shared by the checkpoint and crash tests: seeded NDJSON input files, running the built CLI as a child process, reading jsonl output.
import { expect } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../../src/engine/pool.js';
import { labEventsNdjson, type GeneratorSpec } from '../../src/source/lab-events.js';

/** The lab's stream, dense enough that windows emit rows and some events arrive late. */
export const INPUT_SPEC: GeneratorSpec = {
  seed: 7,
  startTimeMs: Date.parse('2024-11-25T10:40:00Z'),
  eventsPerSecond: 200,
  users: 50,
  userBase: 1000,
  sourceIps: 20,
  crashOneIn: 4,
  vulnerabilityOneIn: 10,
  lateFraction: 0.05,
  lateSpreadMs: 90_000,
};

/** A fresh temporary folder for one test; remove it with `rmSync(dir, {recursive: true})`. */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `kindling-${prefix}-`));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Writes `files` NDJSON files of `perFile` events each into `dir` (named so they sort in order). */
export function writeInput(dir: string, files: number, perFile: number, spec: GeneratorSpec = INPUT_SPEC): string {
  mkdirSync(dir, { recursive: true });
  for (let f = 0; f < files; f++) writeFileSync(join(dir, `part-${String(f).padStart(3, '0')}.ndjson`), labEventsNdjson(spec, f * perFile, perFile));
  return dir;
}

/** The usual flags: file source with small batches, jsonl sink, no UI, no progress lines. */
export function runArgs(input: string, out: string, extra: readonly string[] = []): string[] {
  return ['--source', 'file', '--path', input, '--max-events-per-batch', '1000', '--sink', `jsonl:${out}`, '--no-ui', '--quiet', ...extra];
}

/** How a child run ended. */
export interface ChildResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
  readonly stdout: string;
  /** What `killWhen` reported when it killed the child (undefined if it was not killed). */
  readonly killedBecause?: string;
}

/**
 * Runs `node dist/src/main.js ...args`. `killWhen` is polled every 5 ms while the child runs; when it
 * returns a reason, the child gets SIGKILL at once (a crash at an arbitrary instant).
 */
export function runKindling(args: readonly string[], options: { env?: NodeJS.ProcessEnv; killWhen?: (elapsedMs: number) => string | null; timeoutMs?: number } = {}): Promise<ChildResult> {
  const main = join(projectRoot(), 'dist', 'src', 'main.js');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [main, ...args], { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    let killedBecause: string | undefined;
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const started = Date.now();
    const timeout = setTimeout(() => {
      killedBecause = 'timeout';
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 60_000);
    const poll = options.killWhen
      ? setInterval(() => {
          if (killedBecause !== undefined) return;
          const reason = options.killWhen!(Date.now() - started);
          if (reason !== null) {
            killedBecause = reason;
            child.kill('SIGKILL');
          }
        }, 5)
      : null;
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timeout);
      if (poll) clearInterval(poll);
      if (killedBecause === 'timeout') return reject(new Error(`kindling ${args.join(' ')} timed out; stderr:\n${stderr}`));
      resolve({ code, signal, stderr, stdout, ...(killedBecause !== undefined ? { killedBecause } : {}) });
    });
  });
}

/** The jsonl sink's batch files (temporary files of killed writers excluded): name -> content. */
export function readOutput(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names.filter((n) => /^batch-\d+\.jsonl$/.test(n))) out.set(name, readFileSync(join(dir, name), 'utf8'));
  return out;
}

/** Every row of a jsonl output folder, with the batch it came from. */
export function outputRows(dir: string): Array<{ batch: string; row: string }> {
  return [...readOutput(dir)].flatMap(([batch, text]) => text.split('\n').filter((l) => l !== '').map((row) => ({ batch, row })));
}

/** Names in a folder (empty if it does not exist). */
export function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Throws with the child's stderr unless it exited 0. */
export function expectSuccess(result: ChildResult): ChildResult {
  if (result.code !== 0) throw new Error(`kindling exited with ${result.code ?? result.signal}; stderr:\n${result.stderr}`);
  return result;
}

/**
 * Writes a seeded input of `files` files and runs it once uninterrupted at --cores 2 --partitions 2:
 * the output every restored or killed run must reproduce. Fails unless windows emit in many batches,
 * or the comparisons would prove little.
 */
export async function referenceRun(root: string, files: number): Promise<{ input: string; reference: Map<string, string> }> {
  const input = writeInput(join(root, 'input'), files, 12_000);
  const out = join(root, 'reference');
  expectSuccess(await runKindling(runArgs(input, out, ['--cores', '2', '--partitions', '2'])));
  const reference = readOutput(out);
  expect(reference.size).toBeGreaterThan(10);
  return { input, reference };
}
