// What a restart may change and what it may not: the generator's start time is taken from the checkpoint, other input settings are refused.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseRunArgs, type RunConfig } from '../../src/config.js';
import { adoptCheckpointSettings, describeResume, queryIdentity, type ResumeInfo } from '../../src/checkpoint/recovery.js';
import { CheckpointStore } from '../../src/checkpoint/store.js';
import { SNAPSHOT_FORMAT_VERSION } from '../../src/checkpoint/format.js';
import { crashAlertsPlan } from '../../src/plan/queries.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function storeWithGenerator(startTimeMs: number): Promise<CheckpointStore> {
  const dir = mkdtempSync(join(tmpdir(), 'kindling-settings-'));
  dirs.push(dir);
  const store = await CheckpointStore.open(dir);
  await store.writeMetadata({
    formatVersion: SNAPSHOT_FORMAT_VERSION,
    createdAt: '',
    query: queryIdentity(crashAlertsPlan),
    source: { name: 'generator', identity: { seed: 42, startTimeMs } },
  });
  return store;
}

const generatorSpec = (c: RunConfig): { startTimeMs: number } => (c.source as Extract<RunConfig['source'], { kind: 'generator' }>).spec;

describe('adoptCheckpointSettings', () => {
  it('continues the checkpoint\'s generator stream when --start-time is not given, and says so', async () => {
    const store = await storeWithGenerator(1_732_531_200_000);
    const { config } = await parseRunArgs(['--cores', '1', '--checkpoint-dir', store.dir]);
    const lines: string[] = [];
    const adopted = await adoptCheckpointSettings(config!, store, (l) => lines.push(l));
    expect(generatorSpec(adopted).startTimeMs).toBe(1_732_531_200_000);
    expect(lines.join('\n')).toContain("continues the checkpoint's stream, which started at 2024-11-25T10:40:00.000Z");
  });

  it('keeps an explicit --start-time (a different stream is then refused when the source is checked)', async () => {
    const store = await storeWithGenerator(1_732_531_200_000);
    const { config } = await parseRunArgs(['--cores', '1', '--checkpoint-dir', store.dir, '--start-time', '2024-11-25T11:00:00Z']);
    const adopted = await adoptCheckpointSettings(config!, store, () => undefined);
    expect(generatorSpec(adopted).startTimeMs).toBe(Date.parse('2024-11-25T11:00:00Z'));
  });

  it('rejects --checkpoint-every without --checkpoint-dir', async () => {
    await expect(parseRunArgs(['--cores', '1', '--checkpoint-every', '5'])).rejects.toThrow('--checkpoint-every needs --checkpoint-dir DIR');
  });
});

describe('describeResume', () => {
  const info: ResumeInfo = {
    resumed: true,
    fromBatchId: 810,
    snapshotBatchId: 809,
    snapshotWrittenAt: { partitions: 2, workers: 2 },
    watermarkMs: Date.parse('2024-11-25T10:41:20Z'),
    stateRows: 4213,
    sourceOffsets: { index: 10233 },
    replay: [810, 811],
    replayCommitted: 1,
    skipped: [{ file: 'ck/snapshots/812.snapshot', batchId: 812, reason: 'checksum mismatch' }],
  };
  it('says where the run resumes, from what, and what it replays', () => {
    expect(describeResume(info)).toBe(
      'resuming from batch 810, watermark 10:41:20, 4,213 state rows, offsets {"index":10233} ' +
        '(snapshot of batch 809, written with 2 partition(s) on 2 worker(s)); replaying logged batches 810-811 with their boundaries ' +
        '(1 committed: output not re-emitted); skipped corrupt snapshot of batch 812: checksum mismatch',
    );
  });
  it('says when there is nothing to resume', () => {
    expect(describeResume({ ...info, resumed: false })).toBe('new (nothing to resume)');
  });
});
