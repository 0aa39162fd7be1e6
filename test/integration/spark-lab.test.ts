// The engine on real worker threads against what PySpark 4.0.5 did with the lab's crash-alerts query over files with
// malformed, mistyped and late records: the same rows per file, and per batch the same watermark and late-group count.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runQueryPlan } from '../../src/engine/run.js';
import type { ProgressRecord } from '../../src/metrics/progress.js';
import { rowToJson } from '../../src/plan/output.js';
import { crashAlertsPlan } from '../../src/plan/queries.js';
import { CollectingSink, MemorySource } from '../helpers/memory-source.js';

/** test/fixtures/spark/lab_small.py's output: per file, the rows Spark emitted and its progress per batch. */
interface SparkFile {
  readonly file: string;
  readonly rows: string[];
  readonly batches: Array<{ batchId: number; numInputRows: number; watermark: string | null; numRowsDroppedByWatermark: number | null }>;
}

const FILES = ['lab-small/part-000.ndjson', 'lab-small/part-001.ndjson', 'lab-small/part-002.ndjson', 'spark/lab-late.ndjson'];
const fixture = (path: string): string => readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8');
const spark = JSON.parse(fixture('spark/lab-small.spark.json')) as SparkFile[];

describe('crash-alerts as Spark ran it, file by file', () => {
  for (const cores of [1, 2]) {
    for (const partitions of [1, 7]) {
      it(`--cores ${cores} --partitions ${partitions}: the same rows per file, watermark and numRowsDroppedByWatermark per batch`, async () => {
        // Every line is a record (an empty one too: Spark's text source counts it, from_json makes it a row of nulls).
        const batches = FILES.map((f) => fixture(f).replace(/\n$/, '').split('\n'));
        const sink = new CollectingSink();
        const progress: ProgressRecord[] = [];
        // One file per batch, with a pause after each (Spark's processAllAvailable): no-data batches run between files.
        const run = await runQueryPlan(crashAlertsPlan, { source: new MemorySource(batches, 2, false, true), sinks: [sink], cores, partitions, onProgress: (p) => progress.push(p) });
        await run.done;
        // Rows per file: the file's batch and the no-data batch after it.
        const dataBatchIds = progress.filter((p) => !p.kindling.noDataBatch).map((p) => p.batchId);
        const perFile = dataBatchIds.map((id, i) =>
          sink.batches
            .filter((b) => b.batchId >= id && (i + 1 === dataBatchIds.length || b.batchId < dataBatchIds[i + 1]!))
            .flatMap((b) => b.rows.map((r) => rowToJson(r, b.columns)))
            .sort(),
        );
        expect(perFile).toEqual(spark.map((f) => f.rows));
        // Spark's first record is the trigger that found no file yet (no batch ran): left out.
        const sparkBatches = spark.flatMap((f) => f.batches).filter((b) => b.watermark !== null);
        expect(
          progress.map((p) => ({ batchId: p.batchId, numInputRows: p.numInputRows, watermark: p.eventTime.watermark ?? null, numRowsDroppedByWatermark: p.stateOperators[0]!.numRowsDroppedByWatermark })),
        ).toEqual(sparkBatches);
        // The null user_id of a record without one is a group of its own in Spark: it was dropped late here as one group.
        expect(spark.at(-1)!.batches[0]!.numRowsDroppedByWatermark).toBe(3);
        expect(progress.at(-2)!.kindling.lateRows).toBe(5);
      });
    }
  }
});
