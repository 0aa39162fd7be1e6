// The PySpark comparison suite: each script of test/fixtures/pyspark/suite/ runs through `kindling run` (the real
// pyspark-client, Kindling's json sink) and in real Spark local[2] (one session for all, foreachBatch), trigger
// availableNow over the same files, one file per batch; the rows of every batch must be Spark's.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowDifferences, type Row } from '../helpers/batch-compare.js';
import { runProcess, type ProcessResult } from '../helpers/process.js';
import { writeLabData, writeSensorData } from '../helpers/suite-data.js';

const MAIN = resolve('dist/src/main.js');
const FIXTURES = resolve('test/fixtures/pyspark');
const CASE_DIR = join(FIXTURES, 'suite');
const PYSPARK = process.env['KINDLING_PYSPARK'];
const CLIENT = process.env['KINDLING_PYSPARK_CLIENT'];
const SKIP =
  "KINDLING_PYSPARK or KINDLING_PYSPARK_CLIENT is not set: the PySpark comparison suite is skipped (python3 -m venv A && A/bin/pip install 'pyspark==4.0.5' with a JDK 17, python3 -m venv B && B/bin/pip install 'pyspark-client==4.0.*', then KINDLING_PYSPARK=A/bin/python KINDLING_PYSPARK_CLIENT=B/bin/python)";
const READY = PYSPARK !== undefined && CLIENT !== undefined;
if (!READY) console.warn(`\n!!! [kindling] ${SKIP}\n`);

interface Progress {
  batchId: number;
  numInputRows: number;
}
interface SparkCase {
  case: string;
  error?: string;
  schema: unknown;
  orderedBy: string[];
  empty: boolean;
  batches: Array<{ batchId: number; rows: Row[] }>;
  progress: Progress[];
}
interface KindlingCase {
  case: string;
  error?: string;
  schema: unknown;
  progress: Progress[];
}

/** Batches whose id or input row count differ between the two runs' progress records. */
function progressDifferences(ours: readonly Progress[], theirs: readonly Progress[]): string[] {
  const text = (p: Progress | undefined): string => (p ? `batch ${p.batchId} read ${p.numInputRows} rows` : 'no batch');
  return Array.from({ length: Math.max(ours.length, theirs.length) }, (_, i) => [ours[i], theirs[i]] as const)
    .filter(([a, b]) => text(a) !== text(b))
    .map(([a, b]) => `progress: ${text(a)} | Spark ${text(b)}`);
}

/** The JSON lines a runner printed, by case name. */
function byCase<T extends { case: string }>(r: ProcessResult): Map<string, T> {
  return new Map(r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as T).map((c) => [c.case, c]));
}

// Listed also when skipped, so the skipped-tests summary names each script.
const CASES = (await readdir(CASE_DIR)).filter((f) => f.endsWith('.py')).sort().map((f) => f.replace(/\.py$/, ''));

describe.skipIf(!READY)(`PySpark scripts on Kindling and in real Spark, batch by batch${READY ? '' : ` [skipped: ${SKIP}]`}`, () => {
  let dir = '';
  let spark = new Map<string, SparkCase>();
  let kindling = new Map<string, KindlingCase>();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kindling-suite-'));
    await writeLabData(join(dir, 'in', 'lab'), resolve('test/fixtures/lab-small'), resolve('test/fixtures/spark/lab-late.ndjson'));
    await writeSensorData(join(dir, 'in', 'sensors'));
    const scripts = CASES.map((c) => join(CASE_DIR, `${c}.py`));
    const startedMs = Date.now();
    // Both sides at once: one JVM runs every Spark query; one kindling run (one client session) every Kindling one.
    const seconds = (): string => ((Date.now() - startedMs) / 1000).toFixed(1);
    const timed = async (side: string, run: Promise<ProcessResult>): Promise<ProcessResult> => {
      const r = await run;
      console.log(`[kindling] PySpark comparison suite: ${side} ran ${CASES.length} scripts in ${seconds()} s`);
      return r;
    };
    const [sparkRun, kindlingRun] = await Promise.all([
      timed('Spark (one local[2] session)', runProcess(PYSPARK!, [join(FIXTURES, 'suite_spark.py'), join(dir, 'in'), ...scripts], { timeoutMs: 300_000 })),
      timed('Kindling (one kindling run)', runProcess(process.execPath, [MAIN, 'run', join(FIXTURES, 'suite_kindling.py'), '--python', CLIENT!, '--', join(dir, 'in'), join(dir, 'out'), ...scripts], { timeoutMs: 300_000 })),
    ]);
    expect(sparkRun.code, sparkRun.stderr.slice(-3000)).toBe(0);
    expect(kindlingRun.code, kindlingRun.stderr.slice(-3000)).toBe(0);
    spark = byCase<SparkCase>(sparkRun);
    kindling = byCase<KindlingCase>(kindlingRun);
  }, 400_000);

  afterAll(async () => {
    // KINDLING_SUITE_KEEP=1 leaves the inputs and Kindling's output for a look.
    if (process.env['KINDLING_SUITE_KEEP']) console.log(`[kindling] PySpark comparison suite: kept ${dir}`);
    else if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Kindling's rows per batch id, from its json sink (a batch without rows writes no file). */
  async function kindlingBatches(name: string): Promise<Map<number, Row[]>> {
    const out = join(dir, 'out', name);
    const batches = new Map<number, Row[]>();
    for (const file of await readdir(out).catch(() => [] as string[])) {
      const id = /^batch-(\d+)\.jsonl$/.exec(file);
      if (!id) continue;
      const text = await readFile(join(out, file), 'utf8');
      batches.set(Number(id[1]), text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Row));
    }
    return batches;
  }

  it.each(CASES)('%s: the same batches, and in each the same rows, as Spark', async (name) => {
    const theirs = spark.get(name);
    const ours = kindling.get(name);
    expect(theirs?.error, 'Spark').toBeUndefined();
    expect(ours?.error, 'Kindling').toBeUndefined();
    const rows = await kindlingBatches(name);
    const differences = [
      // The same batches, each reading as many input rows.
      ...progressDifferences(ours!.progress, theirs!.progress),
      ...[...rows.keys()].filter((id) => !theirs!.batches.some((b) => b.batchId === id)).map((id) => `batch ${id}: only Kindling wrote it`),
      ...theirs!.batches.flatMap((b) => rowDifferences(rows.get(b.batchId) ?? [], b.rows, theirs!.orderedBy).map((d) => `batch ${b.batchId}: ${d}`)),
    ];
    expect(differences).toEqual([]);
    // The same columns, types and nullability.
    expect(ours!.schema).toEqual(theirs!.schema);
    // A case must exercise something: some batch emits rows (or, for a case that says so, none does).
    expect(theirs!.batches.some((b) => b.rows.length > 0)).toBe(!theirs!.empty);
  });
});
