// Deterministic NDJSON inputs for the PySpark comparison suite: the lab's records with late ones, and sensor readings
// with corrupt lines, missing, null and mistyped fields and late events; one file per micro-batch.
import { copyFile, mkdir, readdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { random } from './random.js';

/** Writes `files` (name -> lines) into `dir` with modification times in name order: Spark's file source takes the oldest first. */
async function writeBatches(dir: string, files: ReadonlyArray<readonly [string, readonly string[]]>): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [i, [name, lines]] of files.entries()) {
    await writeFile(join(dir, name), lines.map((l) => `${l}\n`).join(''));
    await utimes(join(dir, name), 1_700_000_000 + i, 1_700_000_000 + i);
  }
}

/** The lab's small fixture (three files of 1,504 records) and a file of late, malformed and user-less records. */
export async function writeLabData(dir: string, fixtureDir: string, lateFile: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const names = (await readdir(fixtureDir)).sort();
  for (const [i, name] of names.entries()) {
    await copyFile(join(fixtureDir, name), join(dir, name));
    await utimes(join(dir, name), 1_700_000_000 + i, 1_700_000_000 + i);
  }
  const late = `part-${String(names.length).padStart(3, '0')}.ndjson`;
  await copyFile(lateFile, join(dir, late));
  await utimes(join(dir, late), 1_700_000_000 + names.length, 1_700_000_000 + names.length);
}

const SITES = ['north', 'south', 'east'] as const;
/** The first reading's event time, 2025-11-24T16:00:00Z, in seconds. */
const START_S = 1_764_000_000;

/**
 * Sensor readings `sensor_id, site, temperature, humidity, ok, at`, six files of 20 s of event time each. Besides
 * well-formed readings (at as an ISO string or as epoch seconds), each file holds lines Spark's from_json makes
 * partly or wholly null: corrupt JSON, a missing or null field, a value of the wrong type; repeated readings (of the
 * same file and of the previous one); from the third file on, readings 30-45 s behind the newest ones (late for a
 * short watermark); and in the fourth, a NaN temperature.
 */
export async function writeSensorData(dir: string): Promise<void> {
  const next = random(20251124);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  const iso = (seconds: number): string => new Date(seconds * 1000).toISOString();
  const files: Array<[string, string[]]> = [];
  for (let f = 0; f < 6; f++) {
    const lines: string[] = [];
    for (let i = 0; i < 60; i++) {
      const sensor = 1 + Math.floor(next() * 9);
      const atMs = (START_S + f * 20) * 1000 + Math.floor(next() * 20_000);
      const reading: Record<string, unknown> = {
        sensor_id: `s${String(sensor).padStart(2, '0')}`,
        site: SITES[sensor % 3],
        temperature: Math.round((next() * 40 - 5) * 100) / 100,
        humidity: 20 + Math.floor(next() * 70),
        ok: next() < 0.8,
        // Epoch seconds (an integer is seconds for a TIMESTAMP field) or an ISO string with milliseconds.
        at: i % 4 === 0 ? Math.floor(atMs / 1000) : iso(atMs / 1000),
      };
      const damage = next();
      if (damage < 0.04) delete reading['site'];
      else if (damage < 0.07) reading['temperature'] = null;
      else if (damage < 0.1) reading['temperature'] = pick(['hot', true, { c: 21 }]);
      else if (damage < 0.13) reading['humidity'] = pick(['55', 55.5, 2147483648]);
      else if (damage < 0.15) reading['ok'] = pick(['yes', 1]);
      else if (damage < 0.17) reading['at'] = pick(['not a time', 1.5, null]);
      else if (damage < 0.19) reading['temperature'] = Math.floor(reading['temperature'] as number);
      lines.push(JSON.stringify(reading));
    }
    if (f >= 2) {
      for (let i = 0; i < 4; i++) {
        const atMs = (START_S + f * 20 - 45) * 1000 + i * 4_000;
        lines.push(JSON.stringify({ sensor_id: 's0' + (1 + i), site: SITES[(1 + i) % 3], temperature: 10 + i, humidity: 40 + i, ok: true, at: iso(atMs / 1000) }));
      }
    }
    // Spark's from_json reads the string "NaN" as a DOUBLE NaN: it sorts above every number and makes sums NaN.
    if (f === 3) lines.push(JSON.stringify({ sensor_id: 's05', site: 'east', temperature: 'NaN', humidity: 50, ok: false, at: iso(START_S + f * 20 + 10) }));
    // Repeats (for dropDuplicates): two readings of this file, and three of the previous one, some behind a watermark.
    lines.push(lines[3]!, lines[10]!, ...(f > 0 ? [0, 20, 40].map((i) => files[f - 1]![1][i]!) : []));
    lines.splice(7, 0, 'not json at all', '{"sensor_id": "s01", "site": ', '[1, 2, 3]', '42', '{"sensor_id":"s02","site":"north"} trailing');
    files.push([`readings-${f}.json`, lines]);
  }
  await writeBatches(dir, files);
}
