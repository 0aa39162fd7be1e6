// approx_count_distinct through the plan (from_json, groupBy, stage-1 partials merged in stage 2) equals Spark 4.0.5's batch answer on the same records.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { approx_count_distinct, col } from '../../src/plan/column.js';
import { readStream } from '../../src/plan/dataframe.js';
import { runPlanReference } from '../../src/plan/reference.js';
import type { Row } from '../../src/plan/types.js';
import { runCompiled } from '../helpers/plan-run.js';

interface PlanVectors {
  plan: { records: number; t0Ms: number; ddl: string; rows: (string | number)[][] };
}

const { plan: spark } = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'hll', 'vectors.json'), 'utf8')) as PlanVectors;

const SEVERITIES = ['Low', 'Medium', 'High', 'Critical'];

/** Record i, by make_vectors.py's lab_record rule. */
function labRecord(i: number): string {
  const r: Record<string, unknown> = {
    timestamp: spark.t0Ms + ((i * 37) % 600000),
    status: i % 3 ? 'OK' : 'ERROR',
    severity: SEVERITIES[(i * 13) % 4],
    source_ip: `10.${(i * 31) % 7}.${(i * 17) % 256}.${(i * 7) % 256}`,
    user_id: `user_${(i * 7919) % 3000}`,
    content: `event ${i % 11}`,
  };
  if (i % 50 === 0) delete r.user_id;
  if (i % 40 === 0) r.source_ip = null;
  return JSON.stringify(r);
}

const records = Array.from({ length: spark.records }, (_, i) => labRecord(i));
/** The records cut into five micro-batches: complete mode's last batch covers them all. */
const batches = Array.from({ length: 5 }, (_, b) => records.slice((b * records.length) / 5, ((b + 1) * records.length) / 5));

const query = readStream(spark.ddl)
  .withColumn('event_time', col('timestamp').divide(1000).cast('timestamp'))
  .groupBy('severity')
  .agg(
    approx_count_distinct('user_id').alias('users'),
    approx_count_distinct('source_ip', 0.01).alias('ips'),
    approx_count_distinct('timestamp', 0.1).alias('timestamps'),
    approx_count_distinct('event_time', 0.3).alias('event_times'),
    approx_count_distinct(col('timestamp').divide(7), 0.05).alias('doubles'),
  )
  .toQuery({ name: 'distinct per severity', outputMode: 'complete' });

const bySeverity = (rows: readonly Row[]): Row[] => [...rows].sort((a, b) => String(a[0]).localeCompare(String(b[0])));

describe('approx_count_distinct in a plan equals Spark', () => {
  it('has Spark rows for every severity', () => {
    expect(spark.rows.map((r) => r[0])).toEqual([...SEVERITIES].sort());
  });

  it('the oracle interpreter, over five micro-batches', () => {
    const run = runPlanReference(query, batches);
    expect(bySeverity(run.batches.at(-1)!.rows)).toEqual(spark.rows);
  });

  it.each([
    { cuts: [0.5], partitions: 1 },
    { cuts: [0.2, 0.3, 0.1], partitions: 3 },
  ])('the compiled plan, splits $cuts into $partitions stage-2 states', (layout) => {
    const run = runCompiled(query, batches, { ...layout, precheck: false });
    expect(bySeverity(run.batches.at(-1)!.rows)).toEqual(spark.rows);
  });
});
