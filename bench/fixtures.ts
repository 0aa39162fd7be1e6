// Benchmark inputs: seeded lab events written once as NDJSON files and cached under bench/.data.
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { projectRoot } from '../src/engine/pool.js';
import { writeLabFiles } from '../src/generate.js';
import { DEFAULT_GENERATOR, type GeneratorSpec } from '../src/source/lab-events.js';

/** The bench's event stream: the lab's defaults, fixed start time, in event-time order. */
export function benchSpec(seed = 1): GeneratorSpec {
  return { ...DEFAULT_GENERATOR, seed, startTimeMs: Date.parse('2024-11-25T10:40:00Z') };
}

/** Writes `events` lab events as `files` NDJSON files (once; cached by name), printing progress; returns the folder. */
export async function labFiles(events: number, files: number, seed = 1, log: (s: string) => void = console.error): Promise<string> {
  const dir = join(projectRoot(), 'bench', '.data', `lab-${events}-${files}-${seed}`);
  if (existsSync(join(dir, '.done'))) return dir;
  await rm(dir, { recursive: true, force: true });
  const temp = `${dir}.tmp`;
  await rm(temp, { recursive: true, force: true });
  await mkdir(temp, { recursive: true });
  const perFile = Math.ceil(events / files);
  await writeLabFiles(temp, benchSpec(seed), files, perFile, (line) => log(`  bench input:${line}`), events);
  await rename(temp, dir);
  // A hidden marker: the file source skips hidden files.
  await writeFile(join(dir, '.done'), `${events}\n`);
  return dir;
}
