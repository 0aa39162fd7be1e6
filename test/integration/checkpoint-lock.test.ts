// Runs started at once on a checkpoint directory left locked by a killed run: exactly one takes it over, the others exit 2 naming its pid.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { removeDir, tempDir } from './checkpoint-harness.js';
import { Kindling } from './kafka-harness.js';

const RUNS = 3;
/** The generator source at a low rate runs until Ctrl-C, so the winner still holds the lock when the others look. */
const ARGS = ['--no-ui', '--quiet', '--sink', 'none', '--rate', '1000', '--cores', '1'];

const root = tempDir('lock');
const running: Kindling[] = [];
afterEach(() => {
  for (const k of running.splice(0)) if (k.child.exitCode === null) k.child.kill('SIGKILL');
});
afterAll(() => removeDir(root));

describe('checkpoint directory lock across processes', () => {
  it(`of ${RUNS} runs started at once on a dead run's lock, one runs and the others are refused with its pid`, async () => {
    const ck = join(root, 'ck');
    mkdirSync(ck);
    // The lock a kill -9 leaves: the pid of a process that is gone.
    writeFileSync(join(ck, 'lock'), `${spawnSync(process.execPath, ['-e', '0']).pid!}\n`);
    const runs = Array.from({ length: RUNS }, () => new Kindling(['--checkpoint-dir', ck, ...ARGS]));
    running.push(...runs);
    // Every run either exits (refused) or says it started (holding the lock).
    await Promise.all(runs.map((k) => Promise.race([k.exited, k.waitForLog(/checkpoint: new in /, 60_000).catch(() => undefined)])));
    const winners = runs.filter((k) => k.child.exitCode === null);
    const story = runs.map((k) => `pid ${k.child.pid}: ${k.child.exitCode ?? 'running'}: ${k.stderr}`).join('\n');
    expect(winners, story).toHaveLength(1);
    const winner = winners[0]!;
    for (const loser of runs.filter((k) => k !== winner)) {
      expect(await loser.exited, story).toBe(2);
      expect(loser.stderr).toContain(`another Kindling (pid ${winner.child.pid}) is using this checkpoint directory`);
    }
    expect(await winner.interrupt(), winner.stderr).toBe(0);
  }, 90_000);
});
