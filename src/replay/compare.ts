// Did the replay reproduce the logged run? Its watermarks against the offsets log, its rows against the run's jsonl output.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ReplayInput } from './input.js';
import type { ReplayTrace } from './trace.js';

/** What was compared, and the first place the replay differs from the run (null: it reproduced it). */
export interface ReplayCheck {
  readonly checked: string[];
  readonly divergence: string | null;
}

/** A row as comparable text: keys sorted, the drain's `forced` tag left out (the oracle does not tag rows). */
function canonical(line: string): string {
  const sort = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(sort) : v !== null && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sort((v as Record<string, unknown>)[k])])) : v;
  const row = JSON.parse(line) as Record<string, unknown>;
  delete row['forced'];
  return JSON.stringify(sort(row));
}

/** True when a row (jsonl text) belongs to the key. */
function rowOfKey(line: string, trace: ReplayTrace): boolean {
  const row = JSON.parse(line) as Record<string, unknown>;
  return trace.keyColumns.map((c) => (row[c] === undefined || row[c] === null ? 'null' : String(row[c]))).join(',') === trace.key;
}

/** The run's jsonl output: rows per batch id (batch-N.jsonl). */
async function readJsonl(dir: string): Promise<Map<number, string[]>> {
  const out = new Map<number, string[]>();
  for (const name of await readdir(dir)) {
    const m = /^batch-(\d+)\.jsonl$/.exec(name);
    if (!m) continue;
    out.set(Number(m[1]), (await readFile(join(dir, name), 'utf8')).split('\n').filter((l) => l !== ''));
  }
  return out;
}

const sameRows = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Checks the replay against what the run left: problems found in the input, each logged batch's
 * watermark (entries written after the previous batch ran carry it), and, given the run's jsonl
 * directory, every batch's rows — for the key first, so the message names what matters.
 */
export async function checkReplay(trace: ReplayTrace, input: ReplayInput, jsonlDir: string | null): Promise<ReplayCheck> {
  const checked: string[] = [];
  if (input.problems.length > 0) return { checked, divergence: `the input changed since the run: ${input.problems.join('; ')}` };
  const withWatermark = input.logged.filter((e) => e.watermarkMs !== null && e.polledAhead !== true);
  for (const entry of withWatermark) {
    const replayed = trace.batches[entry.batchId];
    if (replayed && replayed.watermarkMs !== entry.watermarkMs) {
      return { checked, divergence: `batch ${entry.batchId} ran with watermark ${entry.watermarkMs} (offsets log) but replays with ${replayed.watermarkMs}: the input or the query changed since the run` };
    }
  }
  if (withWatermark.length > 0) checked.push(`the watermark of ${withWatermark.length} logged batch(es)`);
  if (jsonlDir === null) return { checked, divergence: null };
  const written = await readJsonl(jsonlDir);
  const lastLogged = input.logged.length > 0 ? input.logged.length - 1 : Infinity;
  let rows = 0;
  for (const batch of trace.batches) {
    // A run stopped early wrote nothing for the batches the replay adds after its log (the no-data and drain batches).
    if (batch.batchId > lastLogged && !written.has(batch.batchId)) continue;
    const got = (written.get(batch.batchId) ?? []).map(canonical);
    const want = batch.rows.map(canonical);
    const gotKey = got.filter((l) => rowOfKey(l, trace));
    const wantKey = want.filter((l) => rowOfKey(l, trace));
    if (!sameRows(gotKey, wantKey)) {
      return {
        checked,
        divergence: `batch ${batch.batchId}: the run wrote ${gotKey.length} row(s) for ${trace.key} (${gotKey.join(' ') || 'none'}), the replay gives ${wantKey.length} (${wantKey.join(' ') || 'none'})`,
      };
    }
    if (!sameRows(got, want)) {
      const missing = want.find((l) => !got.includes(l)) ?? got.find((l) => !want.includes(l));
      return { checked, divergence: `batch ${batch.batchId}: the run wrote ${got.length} row(s), the replay gives ${want.length} (first difference: ${missing ?? 'the order'}); ${trace.key}'s rows are the same` };
    }
    rows += got.length;
  }
  checked.push(`${rows} output row(s) in ${jsonlDir}`);
  return { checked, divergence: null };
}
