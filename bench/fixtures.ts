// Benchmark inputs: seeded lab events written once as NDJSON files and cached under bench/.data.
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import { projectRoot } from '../src/engine/pool.js';
import { DEFAULT_GENERATOR, labEventJson, type GeneratorSpec } from '../src/source/lab-events.js';

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
  const spec = benchSpec(seed);
  const perFile = Math.ceil(events / files);
  const started = Date.now();
  for (let f = 0; f < files; f++) {
    const out = createWriteStream(join(temp, `part-${String(f).padStart(3, '0')}.ndjson`));
    const end = Math.min(events, (f + 1) * perFile);
    for (let i = f * perFile; i < end; ) {
      const chunk: string[] = [];
      for (const stop = Math.min(end, i + 10_000); i < stop; i++) chunk.push(labEventJson(spec, i));
      if (!out.write(chunk.join('\n') + '\n')) await once(out, 'drain');
    }
    out.end();
    await once(out, 'close');
    log(`  wrote bench input file ${f + 1}/${files} (${end.toLocaleString('en-US')} of ${events.toLocaleString('en-US')} events, ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  }
  await rename(temp, dir);
  // A hidden marker: the file source skips hidden files.
  await writeFile(join(dir, '.done'), `${events}\n`);
  return dir;
}
