// `kindling export --pyspark` run in real PySpark 4.0.5: the exported lab queries give, batch by batch, the rows Kindling's engine writes for the same files.
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzePlan, type QueryPlan } from '../../src/plan/plan.js';
import { rowToJson } from '../../src/plan/output.js';
import { runPlanReference } from '../../src/plan/reference.js';
import { runNodeScript, runProcess } from '../helpers/process.js';

const MAIN = resolve('dist/src/main.js');
const FIXTURE = resolve('test/fixtures/lab-small');
const RUN_EXPORTED = resolve('test/fixtures/pyspark/run_exported.py');
const MIX_PLAN = resolve('test/fixtures/export-mix-plan.mjs');
/** A Python with real PySpark 4.0.5 (and a JDK 17 for it). */
const PYSPARK = process.env['KINDLING_PYSPARK'];
const SKIP =
  "KINDLING_PYSPARK is not set: the exported-script tests in real Spark are skipped (python3 -m venv DIR && DIR/bin/pip install 'pyspark==4.0.5', a JDK 17, then KINDLING_PYSPARK=DIR/bin/python)";
if (!PYSPARK) console.warn(`\n!!! [kindling] ${SKIP}\n`);

type Row = Record<string, unknown>;
interface Batch {
  batchId: number;
  rows: Row[];
}

/** Rows as a multiset: sorted JSON texts. */
const multiset = (rows: readonly Row[]): string[] => rows.map((r) => JSON.stringify(r)).sort();

/** The same multiset with doubles rounded to 12 significant digits (Spark sums in arrival order, Kindling exactly). */
const roundedMultiset = (rows: readonly Row[]): string[] =>
  multiset(rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(12)) : v]))));

describe.skipIf(!PYSPARK)(`kindling export --pyspark in real Spark${PYSPARK ? '' : ` [skipped: ${SKIP}]`}`, () => {
  let dir = '';
  const queries = ['crash-alerts', 'vulnerability-by-ip', MIX_PLAN] as const;
  const spark = new Map<string, Batch[]>();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kindling-export-'));
    // One file per batch on both sides; Spark takes files by modification time, so the times follow the names.
    const input = join(dir, 'in');
    await mkdir(input);
    const names = (await readdir(FIXTURE)).sort();
    for (const [i, name] of names.entries()) {
      await copyFile(join(FIXTURE, name), join(input, name));
      await utimes(join(input, name), 1_700_000_000 + i, 1_700_000_000 + i);
    }
    const scripts: string[] = [];
    for (const q of queries) {
      const script = join(dir, `${basename(q).replace(/\.mjs$/, '')}.py`);
      const r = await runNodeScript(MAIN, ['export', '--pyspark', '--query', q, '--source', 'file', '--path', input, '--max-files-per-batch', '1', '--out', script], 30_000);
      expect(r.code, r.stderr).toBe(0);
      scripts.push(script);
    }
    // One JVM runs both exported queries.
    const r = await runProcess(PYSPARK!, [RUN_EXPORTED, ...scripts], { timeoutMs: 300_000 });
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
    for (const line of r.stdout.split('\n').filter((l) => l.startsWith('{'))) {
      const out = JSON.parse(line) as { script: string; batches: Batch[] };
      spark.set(queries[scripts.indexOf(out.script)]!, out.batches);
    }
  }, 400_000);

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Kindling's engine on the same files, one file per batch: its rows per batch id (batches without rows write no file). */
  async function kindlingBatches(query: string): Promise<Map<number, Row[]>> {
    const out = join(dir, `kindling-${query}`);
    const r = await runNodeScript(MAIN, ['--query', query, '--source', 'file', '--path', join(dir, 'in'), '--max-files-per-batch', '1', '--sink', `jsonl:${out}`, '--quiet'], 60_000);
    expect(r.code, r.stderr).toBe(0);
    const batches = new Map<number, Row[]>();
    for (const name of await readdir(out)) {
      const text = await readFile(join(out, name), 'utf8');
      batches.set(Number(/batch-(\d+)\.jsonl/.exec(name)![1]), text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Row));
    }
    return batches;
  }

  it('crash-alerts (append, watermark, window) emits the same rows in the same batches', async () => {
    const ours = await kindlingBatches('crash-alerts');
    const theirs = spark.get('crash-alerts')!;
    expect(theirs.filter((b) => b.rows.length > 0).length).toBeGreaterThan(0);
    for (const b of theirs) expect(multiset(ours.get(b.batchId) ?? []), `batch ${b.batchId}`).toEqual(multiset(b.rows));
    expect([...ours.keys()].every((id) => theirs.some((b) => b.batchId === id))).toBe(true);
  });

  it('vulnerability-by-ip (complete, sorted by count) gives the same table after every batch', async () => {
    const ours = await kindlingBatches('vulnerability-by-ip');
    const theirs = spark.get('vulnerability-by-ip')!;
    expect(theirs.length).toBe(ours.size);
    for (const b of theirs) {
      const rows = ours.get(b.batchId) ?? [];
      expect(multiset(rows), `batch ${b.batchId}`).toEqual(multiset(b.rows));
      // Ties may come in any order; the counts' order is the query's.
      expect(rows.map((r) => r['count']), `batch ${b.batchId}`).toEqual(b.rows.map((r) => r['count']));
    }
  });

  it('a plan module with sliding windows, several keys, when/otherwise, substring and every aggregate (update mode) gives the rows of Kindling\'s plan reference per batch', async () => {
    const plan = ((await import(MIX_PLAN)) as { default: QueryPlan }).default;
    const files = (await readdir(join(dir, 'in'))).sort();
    const batches = await Promise.all(files.map(async (f) => (await readFile(join(dir, 'in', f), 'utf8')).split('\n').filter((l) => l !== '')));
    const reference = runPlanReference(plan, batches);
    const columns = analyzePlan(plan.root, { ansi: plan.ansi }).columns;
    const theirs = spark.get(MIX_PLAN)!;
    expect(theirs.reduce((n, b) => n + b.rows.length, 0)).toBeGreaterThan(20);
    expect(theirs.map((b) => b.batchId)).toEqual(reference.batches.map((b) => b.batchId));
    for (const [i, b] of theirs.entries()) {
      const ours = reference.batches[i]!.rows.map((row) => JSON.parse(rowToJson(row, columns)) as Row);
      expect(roundedMultiset(ours), `batch ${b.batchId}`).toEqual(roundedMultiset(b.rows));
    }
  });
});
