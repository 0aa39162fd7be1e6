// Helpers for the Kafka end-to-end tests: kindling as a child process, a topic read back with kafkajs, the oracle cut at recorded offsets.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect } from 'vitest';
import type { ProgressRecord } from '../../src/metrics/progress.js';
import { kafkaClient, uniqueName, waitFor } from '../helpers/kafka.js';

const MAIN = resolve('dist/src/main.js');

/** A kindling child process with its output so far. */
export class Kindling {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor(args: readonly string[], env: NodeJS.ProcessEnv = {}) {
    this.child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    this.child.stdout!.on('data', (d: Buffer) => (this.stdout += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolvePromise) => this.child.on('close', (code) => resolvePromise(code)));
  }

  /** Waits until stderr matches `pattern`. */
  async waitForLog(pattern: RegExp, timeoutMs = 30_000): Promise<void> {
    await waitFor(() => pattern.test(this.stderr) || this.child.exitCode !== null, { timeoutMs, intervalMs: 50, what: `${pattern} in kindling's stderr` });
    if (!pattern.test(this.stderr)) throw new Error(`kindling exited (${this.child.exitCode}) before logging ${pattern}; stderr:\n${this.stderr}`);
  }

  /** Waits for the exit (killing it after `timeoutMs`) and returns the code. */
  async finish(timeoutMs = 60_000): Promise<number | null> {
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends Ctrl-C and waits for the exit. */
  async interrupt(timeoutMs = 30_000): Promise<number | null> {
    this.child.kill('SIGINT');
    return this.finish(timeoutMs);
  }
}

/** Runs kindling to completion and returns its exit code and output; `env` adds to (undefined: removes from) the environment. */
export async function kindling(args: readonly string[], timeoutMs = 90_000, env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const k = new Kindling(args, env);
  const code = await k.finish(timeoutMs);
  return { code, stdout: k.stdout, stderr: k.stderr };
}

/** Temporary folders removed by `cleanTemps`. */
const temps: string[] = [];

export async function tempDir(prefix = 'kindling-kafka-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

export async function cleanTemps(): Promise<void> {
  await Promise.all(temps.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

/** The progress records a run wrote with --progress-json (none yet: empty). */
export async function readProgress(file: string): Promise<ProgressRecord[]> {
  if (!existsSync(file)) return [];
  const text = await readFile(file, 'utf8');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as ProgressRecord];
      } catch {
        return []; // a line being written
      }
    });
}

/** Offsets per topic partition as the Kafka source reports them: `{topic: {partition: offset}}`. */
export type Offsets = Record<string, Record<string, number>>;

/** Input rows of every data batch so far. */
export function inputRows(progress: readonly ProgressRecord[]): number {
  return progress.reduce((n, p) => n + p.numInputRows, 0);
}

/**
 * Reads every message of `topic` with a kafkajs consumer (its own group), as text per topic
 * partition indexed by offset; a null value reads as ''.
 */
export async function readTopic(brokers: string, topic: string): Promise<Map<number, string[]>> {
  const kafka = kafkaClient(brokers);
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const data = new Map<number, string[]>(ends.map((e) => [e.partition, []]));
  const seen = new Map<number, number>(ends.map((e) => [e.partition, 0]));
  const want = ends.reduce((n, e) => n + Number(e.high), 0);
  let total = 0;
  const consumer = kafka.consumer({ groupId: uniqueName('reader'), maxWaitTimeInMs: 100 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        const list = data.get(batch.partition)!;
        for (const m of batch.messages) {
          const offset = Number(m.offset);
          if (list[offset] === undefined) {
            total++;
            seen.set(batch.partition, seen.get(batch.partition)! + 1);
          }
          list[offset] = m.value === null ? '' : m.value.toString();
        }
      },
    });
    await waitFor(() => total >= want, { timeoutMs: 30_000, intervalMs: 50, what: `${want} messages of ${topic} read back (so far ${total})` });
  } finally {
    await consumer.disconnect();
  }
  return data;
}

/**
 * The batches a run processed, as the oracle's input: each data batch is the topic's records in
 * its recorded [startOffset, endOffset) per topic partition; a no-data batch is empty. Also checks
 * that the ranges are contiguous (no offset lost or read twice). Replayed batches (same id again
 * after a restart) count once, the last time.
 */
export function batchesFromProgress(progress: readonly ProgressRecord[], topic: string, data: ReadonlyMap<number, readonly string[]>): string[][] {
  const byId = new Map<number, ProgressRecord>();
  for (const p of progress) if (!p.kindling.drained) byId.set(p.batchId, p);
  const ids = [...byId.keys()].sort((a, b) => a - b);
  expect(ids).toEqual(ids.map((_, i) => (ids[0] ?? 0) + i));
  const next = new Map<string, number>();
  return ids.map((id) => {
    const s = byId.get(id)!.sources[0]!;
    if (s.startOffset === null) return [];
    const start = (s.startOffset as Offsets)[topic]!;
    const end = (s.endOffset as Offsets)[topic]!;
    const records: string[] = [];
    for (const [partition, from] of Object.entries(start)) {
      const to = end[partition]!;
      if (next.has(partition)) expect(from, `batch ${id}: ${topic}-${partition} starts where the last batch ended`).toBe(next.get(partition));
      next.set(partition, to);
      records.push(...data.get(Number(partition))!.slice(from, to));
    }
    return records;
  });
}

/** Every jsonl file in a sink folder: name -> content. */
export async function readSinkDir(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  if (!existsSync(dir)) return out;
  for (const name of (await readdir(dir)).sort()) if (name.endsWith('.jsonl')) out[name] = await readFile(join(dir, name), 'utf8');
  return out;
}
