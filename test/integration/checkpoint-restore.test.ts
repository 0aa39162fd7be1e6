// Restores as a user meets them, on real processes and files: other --cores/--partitions, corrupt snapshots, a changed query, bad directories, a dead worker.
import { readFileSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectSuccess,
  listDir,
  outputRows,
  readOutput,
  referenceRun,
  removeDir,
  runArgs,
  runKindling,
  tempDir,
  writeInput,
  type ChildResult,
} from './checkpoint-harness.js';

let root: string;
let input: string;
let reference: Map<string, string>;
let n = 0;

/** A fresh (checkpoint dir, output dir) pair under the suite's folder. */
function dirs(): { ck: string; out: string } {
  n++;
  return { ck: join(root, `ck-${n}`), out: join(root, `out-${n}`) };
}

const maxId = (dir: string): number => Math.max(-1, ...listDir(dir).map((f) => Number.parseInt(f, 10)).filter(Number.isFinite));

/**
 * Runs with checkpoints and SIGKILLs the process once batch `atBatch` is logged; a 30 ms trigger
 * paces the batches so the run cannot finish before the kill lands (boundaries do not depend on it).
 */
async function killedMidway(ck: string, out: string, extra: string[], atBatch = 14): Promise<ChildResult> {
  const result = await runKindling(runArgs(input, out, ['--checkpoint-dir', ck, '--trigger', '30', ...extra]), {
    killWhen: () => (maxId(join(ck, 'offsets')) >= atBatch ? `batch ${atBatch} logged` : null),
  });
  expect(result.signal, result.stderr).toBe('SIGKILL');
  return result;
}

beforeAll(async () => {
  root = tempDir('ckpt');
  ({ input, reference } = await referenceRun(root, 3));
});

afterAll(() => removeDir(root));

describe('restoring a checkpoint', () => {
  it('restarts at --cores 1 from a checkpoint written at --cores 2 with the uninterrupted output', async () => {
    const { ck, out } = dirs();
    await killedMidway(ck, out, ['--cores', '2', '--partitions', '2', '--checkpoint-every', '4']);
    const resumed = expectSuccess(await runKindling(runArgs(input, out, ['--checkpoint-dir', ck, '--cores', '1', '--partitions', '2'])));
    expect(resumed.stderr).toMatch(/resuming from batch \d+, watermark \d\d:\d\d:\d\d, [\d,]+ state rows, offsets \{"fileIndex"/);
    expect(resumed.stderr).toMatch(/written with 2 partition\(s\) on 2 worker\(s\)/);
    expect(readOutput(out)).toEqual(reference);
  });

  it('restarts at --partitions 7 from a checkpoint written at --partitions 2, re-hashing the state by key', async () => {
    const { ck, out } = dirs();
    await killedMidway(ck, out, ['--cores', '2', '--partitions', '2', '--checkpoint-every', '4']);
    const resumed = expectSuccess(await runKindling(runArgs(input, out, ['--checkpoint-dir', ck, '--cores', '2', '--partitions', '7'])));
    expect(resumed.stderr).toMatch(/written with 2 partition\(s\)/);
    expect(readOutput(out)).toEqual(reference);
  });

  it('reports a truncated newest snapshot and restores the one before it', async () => {
    const { ck, out } = dirs();
    await killedMidway(ck, out, ['--cores', '2', '--checkpoint-every', '3']);
    const snaps = listDir(join(ck, 'snapshots')).filter((f) => f.endsWith('.snapshot')).map((f) => Number.parseInt(f, 10)).sort((a, b) => b - a);
    expect(snaps.length).toBeGreaterThanOrEqual(2);
    const newest = join(ck, 'snapshots', `${snaps[0]}.snapshot`);
    truncateSync(newest, Math.floor(readFileSync(newest).length / 2));
    const resumed = expectSuccess(await runKindling(runArgs(input, out, ['--checkpoint-dir', ck])));
    expect(resumed.stderr).toContain(`${snaps[0]}.snapshot is unusable (truncated`);
    expect(resumed.stderr).toContain(`snapshot of batch ${snaps[1]}`);
    expect(readOutput(out)).toEqual(reference);
  });

  it('reports a bit-flipped newest snapshot (checksum) and restores the one before it', async () => {
    const { ck, out } = dirs();
    await killedMidway(ck, out, ['--cores', '2', '--checkpoint-every', '3']);
    const snaps = listDir(join(ck, 'snapshots')).filter((f) => f.endsWith('.snapshot')).map((f) => Number.parseInt(f, 10)).sort((a, b) => b - a);
    const newest = join(ck, 'snapshots', `${snaps[0]}.snapshot`);
    const bytes = readFileSync(newest);
    bytes[bytes.length - 7]! ^= 0x10;
    writeFileSync(newest, bytes);
    const resumed = expectSuccess(await runKindling(runArgs(input, out, ['--checkpoint-dir', ck])));
    expect(resumed.stderr).toContain('checksum mismatch');
    expect(resumed.stderr).toContain(`snapshot of batch ${snaps[1]}`);
    expect(readOutput(out)).toEqual(reference);
  });

  it('refuses a changed query, saying what changed and to use a new checkpoint directory', async () => {
    const { ck, out } = dirs();
    expectSuccess(await runKindling(runArgs(input, out, ['--checkpoint-dir', ck])));
    // crash-alerts with a 20 s watermark instead of 30 s: same name, different state semantics.
    const module = join(root, 'crash-alerts-20s.mjs');
    writeFileSync(
      module,
      `import { col, count, lower, readStream, window } from ${JSON.stringify(join(process.cwd(), 'dist/src/plan/index.js'))};\n` +
        "export default readStream('timestamp LONG, status STRING, severity STRING, source_ip STRING, user_id STRING, content STRING')\n" +
        "  .withColumn('event_time', col('timestamp').divide(1000).cast('timestamp'))\n" +
        "  .filter(lower(col('content')).contains('crash').and(col('severity').isin('High', 'Critical')))\n" +
        "  .withWatermark('event_time', '20 seconds')\n" +
        "  .groupBy(window(col('event_time'), '10 seconds'), col('user_id'))\n" +
        "  .agg(count('*').alias('crash_count'))\n" +
        "  .filter(col('crash_count').gt(2))\n" +
        "  .toQuery({ name: 'crash-alerts', outputMode: 'append' });\n",
    );
    const changed = await runKindling(runArgs(input, out, ['--checkpoint-dir', ck, '--query', module]));
    expect(changed.code).toBe(2);
    expect(changed.stderr).toContain('written by a different query (plan: EventTimeWatermark event_time, 30 seconds -> EventTimeWatermark event_time, 20 seconds)');
    expect(changed.stderr).toContain('use a new --checkpoint-dir');
    const other = await runKindling(runArgs(input, out, ['--checkpoint-dir', ck, '--query', 'vulnerability-by-ip']));
    expect(other.code).toBe(2);
    expect(other.stderr).toContain('query name: crash-alerts -> vulnerability-by-ip');
  });

  it('refuses a checkpoint written by an older format (before query plans), naming the format, with exit 2', async () => {
    const { ck, out } = dirs();
    expectSuccess(await runKindling(runArgs(input, out, ['--checkpoint-dir', ck])));
    const metadataFile = join(ck, 'metadata.json');
    const metadata = JSON.parse(readFileSync(metadataFile, 'utf8')) as { formatVersion: number };
    expect(metadata.formatVersion).toBe(2);
    writeFileSync(metadataFile, JSON.stringify({ ...metadata, formatVersion: 1 }));
    const older = await runKindling(runArgs(input, out, ['--checkpoint-dir', ck]));
    expect(older.code).toBe(2);
    expect(older.stderr).toContain(`--checkpoint-dir ${ck} was written by an older format (snapshot format 1; this Kindling reads format 2, whose state holds query-plan operators); its state cannot be read: use a new --checkpoint-dir`);
  });

  it('creates a missing checkpoint directory, parents included', async () => {
    const { out } = dirs();
    const ck = join(root, 'not', 'there', 'yet');
    const result = expectSuccess(await runKindling(runArgs(input, out, ['--checkpoint-dir', ck])));
    expect(result.stderr).toContain(`checkpoint: new in ${ck}`);
    expect(listDir(join(ck, 'snapshots')).length).toBeGreaterThan(0);
    expect(readOutput(out)).toEqual(reference);
  });

  it('stops with a usage error when the checkpoint directory cannot be created', async () => {
    const { out } = dirs();
    const file = join(root, 'a-file');
    writeFileSync(file, 'not a directory\n');
    const result = await runKindling(runArgs(input, out, ['--checkpoint-dir', join(file, 'ck')]));
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--checkpoint-dir .*a-file\/ck: cannot use it as a checkpoint directory: a part of the path is not a directory \(ENOTDIR\)/);
  });

  it('stops with a clear error when the checkpoint directory disappears during the run', async () => {
    const { ck, out } = dirs();
    let removed = false;
    const result = await runKindling(runArgs(input, out, ['--checkpoint-dir', ck, '--checkpoint-every', '2', '--trigger', '30']), {
      killWhen: () => {
        if (!removed && maxId(join(ck, 'offsets')) >= 3) {
          // A rename is atomic: the engine's next write finds its directory gone.
          renameSync(ck, `${ck}-gone`);
          removed = true;
        }
        return null;
      },
    });
    expect(removed).toBe(true);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/checkpoint .*: cannot (write|prune) .*: the directory is gone \(ENOENT\); stopping rather than running without the checkpoints asked for/);
  });

  it('replaces a worker killed mid-batch, rolls back to the last snapshot and loses or repeats nothing', async () => {
    const { ck, out } = dirs();
    const marker = join(root, `worker-exit-${n}`);
    const result = expectSuccess(
      await runKindling(runArgs(input, out, ['--checkpoint-dir', ck, '--cores', '2', '--checkpoint-every', '5']), {
        env: { KINDLING_TEST_WORKER_EXIT: `17:1:${marker}` },
      }),
    );
    expect(readFileSync(marker, 'utf8')).not.toBe('');
    expect(result.stderr).toContain('worker lost (batch 17: worker 1 failed running a stateful task: worker exited with code: 70)');
    expect(result.stderr).toContain('recovery 1: resuming from batch 15');
    expect(result.stderr).toContain('worker recoveries: 1 (threads replaced: 1)');
    expect(readOutput(out)).toEqual(reference);
    const rows = outputRows(out).map((r) => r.row);
    expect(new Set(rows).size).toBe(rows.length);
  });

  it('without a checkpoint, a dead worker stops the run with the cause', async () => {
    const { out } = dirs();
    const marker = join(root, `worker-exit-${n}`);
    const result = await runKindling(runArgs(input, out, ['--cores', '2']), { env: { KINDLING_TEST_WORKER_EXIT: `5:0:${marker}` } });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('batch 5: worker 0 failed running a stateful task: worker exited with code: 70');
  });

  it('--drain: the drain batch is logged and committed; a restart with more input continues after it and never rewrites its forced rows', async () => {
    const { ck, out } = dirs();
    const grown = writeInput(join(root, 'drain-input'), 2, 12_000);
    const args = runArgs(grown, out, ['--cores', '2', '--partitions', '2', '--checkpoint-dir', ck, '--drain']);
    expectSuccess(await runKindling(args));
    const first = readOutput(out);
    const batchIdOf = (name: string): number => Number(/^batch-(\d+)\.jsonl$/.exec(name)![1]);
    const drainId = Math.max(...[...first.keys()].map(batchIdOf));
    const drainFile = `batch-${drainId}.jsonl`;
    expect(first.get(drainFile)).toContain('"forced":true');
    expect(JSON.parse(readFileSync(join(ck, 'offsets', `${drainId}.json`), 'utf8'))).toMatchObject({ batchId: drainId, drain: true });
    expect(listDir(join(ck, 'commits'))).toContain(`${drainId}.json`);

    // More input arrives (the next file of the same stream), and the query runs again.
    writeInput(join(root, 'drain-more'), 3, 12_000);
    renameSync(join(root, 'drain-more', 'part-002.ndjson'), join(grown, 'part-002.ndjson'));
    const second = expectSuccess(await runKindling(args));
    expect(second.stderr).toContain(`resuming from batch ${drainId + 1}`);
    const after = readOutput(out);
    expect(after.size).toBeGreaterThan(first.size);
    // What the first run emitted stays as it was: no batch id is reused, the forced rows stay once.
    for (const [name, text] of first) expect(after.get(name), name).toBe(text);
    const forcedBefore = outputRows(out).filter((r) => r.row.includes('"forced":true') && batchIdOf(r.batch) <= drainId);
    expect(forcedBefore.every((r) => r.batch === drainFile)).toBe(true);
  });

  it('inspect shows the query, batches, snapshots, offsets and state of a checkpoint', async () => {
    const { ck, out } = dirs();
    expectSuccess(await runKindling(runArgs(input, out, ['--checkpoint-dir', ck, '--partitions', '3'])));
    const text = expectSuccess(await runKindling(['checkpoint', 'inspect', ck]));
    expect(text.stdout).toContain('query crash-alerts (append mode)');
    expect(text.stdout).toMatch(/newest valid snapshot: batch \d+ .*3 partition\(s\)/);
    expect(text.stdout).toMatch(/per partition: p0 [\d,]+ \| p1 [\d,]+ \| p2 [\d,]+/);
    expect(text.stdout).toMatch(/largest keys \(by state entries\): \["user_\d+"\] in \d+ entr(y|ies)/);
    const json = JSON.parse(expectSuccess(await runKindling(['checkpoint', 'inspect', ck, '--json', '--top', '3'])).stdout) as {
      batches: { uncommitted: number[] };
      newest: { largestKeys: unknown[]; sourceOffsets: { fileIndex: number } };
      snapshots: Array<{ valid: boolean }>;
    };
    expect(json.batches.uncommitted).toEqual([]);
    expect(json.newest.largestKeys).toHaveLength(3);
    expect(json.newest.sourceOffsets.fileIndex).toBe(3);
    expect(json.snapshots.every((s) => s.valid)).toBe(true);
    const missing = await runKindling(['checkpoint', 'inspect', join(root, 'nope')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('does not exist: no run has written a checkpoint there');
  });
});
