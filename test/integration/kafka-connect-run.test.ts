// The lab's crash-alerts PySpark script, unchanged, through `kindling run` on a real Kafka topic: the same rows as Kindling's own crash-alerts query on the same records.
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ProgressRecord } from '../../src/metrics/progress.js';
import { createTopic, describeKafka, kafkaClient, uniqueName, waitFor } from '../helpers/kafka.js';
import { cleanTemps, Kindling, kindling, readSinkDir, tempDir } from './kafka-harness.js';

const FIXTURE = resolve('test/fixtures/lab-small');
const SCRIPT = resolve('test/fixtures/pyspark/lab_crash_alerts.py');
const PYTHON = process.env['KINDLING_PYSPARK_CLIENT'];
/** Records per batch on both sides: one fixture file's worth, so the batches (and late rows) are the same. */
const PER_BATCH = '1504';

describeKafka(`the lab's PySpark script through kindling run${PYTHON ? '' : ' [skipped: KINDLING_PYSPARK_CLIENT is not set]'}`, (brokers) => {
  const topic = uniqueName('kindling-connect-lab');
  let records = 0;

  beforeAll(async () => {
    if (!PYTHON) return;
    await createTopic(brokers, topic, { partitions: 1 });
    const producer = kafkaClient(brokers).producer();
    await producer.connect();
    for (const name of (await readdir(FIXTURE)).sort()) {
      const lines = (await readFile(join(FIXTURE, name), 'utf8')).split('\n').filter((l) => l !== '');
      records += lines.length;
      await producer.send({ topic, messages: lines.map((value) => ({ value })) });
    }
    await producer.disconnect();
  });
  afterAll(cleanTemps);

  it.skipIf(!PYTHON)('gives, batch by batch, the rows of kindling --query crash-alerts on the same topic', async () => {
    const ours = await tempDir();
    const engine = await kindling(['--query', 'crash-alerts', '--brokers', brokers, '--topic', topic, '--starting-offsets', 'earliest', '--available-now', '--max-offsets-per-trigger', PER_BATCH, '--sink', `jsonl:${ours}`, '--quiet']);
    expect(engine.code, engine.stderr).toBe(0);
    const viaScript = await tempDir();
    // The script's checkpointLocation is a fixed path: each run gets a new one, as a first run would.
    const run = await kindling(['run', SCRIPT, '--python', PYTHON!, '--brokers', brokers, '--available-now', '--sink', `jsonl:${viaScript}`, '--checkpoint-dir', await tempDir(), '--', topic, PER_BATCH]);
    expect(run.code, run.stderr).toBe(0);
    const expected = await readSinkDir(ours);
    expect(Object.keys(expected).length).toBeGreaterThan(0);
    expect(await readSinkDir(viaScript)).toEqual(expected);
    expect(run.stderr).toContain("Kindling: spark.sparkContext.setLogLevel('WARN') has no effect");
    expect(records).toBeGreaterThan(4500);
  });

  it.skipIf(!PYTHON)("prints the alerts as Spark's console sink does", async () => {
    const ours = await tempDir();
    const engine = await kindling(['--query', 'crash-alerts', '--brokers', brokers, '--topic', topic, '--starting-offsets', 'earliest', '--available-now', '--max-offsets-per-trigger', PER_BATCH, '--sink', `jsonl:${ours}`, '--quiet']);
    expect(engine.code, engine.stderr).toBe(0);
    const run = await kindling(['run', SCRIPT, '--python', PYTHON!, '--brokers', brokers, '--available-now', '--checkpoint-dir', await tempDir(), '--', topic, PER_BATCH]);
    expect(run.code, run.stderr).toBe(0);
    // Each batch's first 20 rows (the console sink's default numRows), in the query's order.
    const batches = Object.values(await readSinkDir(ours)).map((text) => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { window: { start: string; end: string }; user_id: string; crash_count: number }));
    const rows = batches.flatMap((b) => b.slice(0, 20));
    if (batches.some((b) => b.length > 20)) expect(run.stdout).toContain('only showing top 20 rows');
    // truncate=false: cells left-aligned, windows as {start, end} in the session time zone (UTC).
    for (const r of rows) {
      const start = r.window.start.replace('T', ' ').replace(/\.000Z$/, '');
      const end = r.window.end.replace('T', ' ').replace(/\.000Z$/, '');
      expect(run.stdout).toMatch(new RegExp(`\\|\\{${start}, ${end}\\}\\s*\\|${r.user_id}\\s*\\|${r.crash_count}\\s*\\|`));
    }
    expect(run.stdout).toContain('-------------------------------------------\nBatch: 0\n-------------------------------------------\n+------+-------+-----------+\n|window|user_id|crash_count|\n+------+-------+-----------+\n+------+-------+-----------+\n');
  });

  it.skipIf(!PYTHON)("runs as a student runs it (the lab's trigger, until stopped): the alerts in the terminal, the query on the web UI at 4040", async () => {
    const ours = await tempDir();
    const engine = await kindling(['--query', 'crash-alerts', '--brokers', brokers, '--topic', topic, '--starting-offsets', 'earliest', '--available-now', '--max-offsets-per-trigger', PER_BATCH, '--sink', `jsonl:${ours}`, '--quiet']);
    expect(engine.code, engine.stderr).toBe(0);
    const expected = Object.values(await readSinkDir(ours)).flatMap((text) => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as unknown));
    expect(expected.length).toBeGreaterThan(0);

    // No --available-now: the script's own trigger and awaitTermination(), as `npx kindling run Activity3.py --brokers ...`.
    const run = new Kindling(['run', SCRIPT, '--python', PYTHON!, '--brokers', brokers, '--checkpoint-dir', await tempDir(), '--', topic, PER_BATCH]);
    try {
      await run.waitForLog(/web UI: http:\/\/127\.0\.0\.1:\d+\//, 60_000);
      const base = /web UI: (http:\/\/127\.0\.0\.1:(\d+)\/)/.exec(run.stderr)!;
      // Spark's UI port, or the next free one as Spark's UI takes (other runs on this machine may hold 4040).
      expect(Number(base[2])).toBeGreaterThanOrEqual(4040);
      expect(Number(base[2])).toBeLessThanOrEqual(4056);
      const get = async <T>(path: string): Promise<T> => (await (await fetch(`${base[1]}api/${path}`)).json()) as T;
      // The UI follows the query until it has read the whole topic.
      await waitFor(async () => (await get<unknown[]>('queries')).length === 1 && (await get<ProgressRecord[]>('progress')).reduce((n, p) => n + p.numInputRows, 0) === records, { timeoutMs: 60_000, intervalMs: 200, what: 'the UI showing every record read' });
      const [query] = await get<Array<{ id: string; active: boolean }>>('queries');
      expect(query!.active).toBe(true);
      const config = await get<{ id: string; query: { graph: Array<{ name: string }> } }>('config');
      expect(config.id).toBe(query!.id);
      expect(config.query.graph.map((o) => o.name)).toEqual(['Scan', 'Pre-check', 'FromJson', 'Filter / Project', 'Partial aggregate', 'Exchange', 'Stateful aggregate', 'Filter (HAVING)', 'Sink']);
      let progress = await get<ProgressRecord[]>('progress');
      expect(progress.every((p) => p.id === query!.id)).toBe(true);
      expect(progress.some((p) => p.stateOperators[0]!.numRowsTotal > 0 && p.eventTime.watermark !== undefined)).toBe(true);
      // The Results tab has the alerts kindling --query crash-alerts writes for the same records (the last ones come
      // with the no-data batch that runs after the last records, once the watermark moved).
      const rows = async (): Promise<unknown[]> => (await get<{ enabled: boolean; batches: Array<{ rows: unknown[] }> }>('results')).batches.flatMap((b) => b.rows).sort(byJson);
      await expect.poll(rows, { timeout: 30_000 }).toEqual([...expected].sort(byJson));
      // And the alerts are in the terminal, one console table per batch.
      progress = await get<ProgressRecord[]>('progress');
      await waitFor(() => (run.stdout.match(/^Batch: \d+$/gm) ?? []).length >= progress.length, { timeoutMs: 10_000, intervalMs: 100, what: 'the console tables' });
      expect(run.stdout).toMatch(/^\|window\s*\|user_id\s*\|crash_count\|$/m);
    } finally {
      // SIGTERM is passed on to the script; kindling run exits with the script's status (128 + 15).
      run.child.kill('SIGTERM');
      expect(await run.finish(30_000)).toBe(143);
    }
  });

  it.skipIf(!PYTHON)('returns from processAllAvailable() once the query has read what the topic holds, then stops it', async () => {
    const r = await kindling(['run', resolve('test/fixtures/pyspark/kafka_process_all.py'), '--python', PYTHON!, '--', brokers, topic]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.split('\n').find((l) => l.startsWith('{'))!)).toEqual({ inputRows: records, activeAfterStop: false });
  });
});

const byJson = (a: unknown, b: unknown): number => JSON.stringify(a).localeCompare(JSON.stringify(b));
