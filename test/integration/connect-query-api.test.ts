// A streaming query's life through the real pyspark-client's query API (status, progress, processAllAvailable, awaitTermination, stop, spark.streams) under `kindling run`.
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runNodeScript } from '../helpers/process.js';

const MAIN = resolve('dist/src/main.js');
const FIXTURE = resolve('test/fixtures/lab-small');
const SCRIPT = resolve('test/fixtures/pyspark/query_api.py');
const PYTHON = process.env['KINDLING_PYSPARK_CLIENT'];
const SKIP = "KINDLING_PYSPARK_CLIENT is not set (python3 -m venv DIR && DIR/bin/pip install 'pyspark-client==4.0.*', then KINDLING_PYSPARK_CLIENT=DIR/bin/python)";

describe.skipIf(!PYTHON)(`the query API through kindling run${PYTHON ? '' : ` [skipped: ${SKIP}]`}`, () => {
  it("answers status, progress, awaitTermination, stop and spark.streams as Spark does, and prints the console sink's tables", async () => {
    const engine = await runNodeScript(MAIN, ['--query', 'vulnerability-by-ip', '--source', 'file', '--path', FIXTURE, '--max-files-per-batch', '1', '--sink', 'console', '--quiet'], 60_000);
    expect(engine.code, engine.stderr).toBe(0);
    const r = await runNodeScript(MAIN, ['run', SCRIPT, '--python', PYTHON!, '--', FIXTURE], 120_000);
    expect(r.code, r.stderr).toBe(0);
    const seen = JSON.parse(r.stdout.split('\n').find((l) => l.startsWith('{'))!) as Record<string, unknown>;
    const ids = seen['activeIds'] as string[];
    expect(ids.length).toBe(1);
    expect(seen).toEqual({
      name: 'vulns',
      activeIds: ids,
      getSame: true,
      awaitAnyTermination: null,
      isActive: false,
      status: { message: 'Stopped', isDataAvailable: false, isTriggerActive: false },
      lastProgress: { id: true, runId: true, name: 'vulns', batchId: 2 },
      recentBatchIds: [0, 1, 2],
      // Every line of the three files but the blank one: Spark's json source reads no row from it.
      inputRows: 4511,
      awaitTerminationTimeout: true,
      exception: null,
      activeAfterStop: 0,
      getAfterStop: null,
    });
    // The same three batches Kindling's own vulnerability-by-ip prints (all rows), top 3 rows each (numRows 3; widths follow the rows shown).
    const tables = (text: string): string[][][] =>
      [...text.matchAll(/Batch: (\d+)\n-+\n((?:[+|].*\n)+)/g)].map((m) => [[m[1]!], ...m[2]!.split('\n').filter((l) => l.startsWith('|')).slice(0, 4).map((l) => l.split('|').slice(1, -1).map((c) => c.trim()))]);
    expect(tables(r.stdout).length).toBe(3);
    expect(r.stdout).toContain('only showing top 3 rows');
    expect(tables(r.stdout)).toEqual(tables(engine.stdout));
  });
});
