// The checkpoint directory's lock: refused while its process lives, taken over from a dead one by exactly one of the runs that race for it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lockCheckpointDir } from '../../src/checkpoint/lock.js';
import { CheckpointStore } from '../../src/checkpoint/store.js';

const dirs: string[] = [];
function temp(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kindling-lock-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The pid of a process that has exited. */
const deadPid = (): number => spawnSync(process.execPath, ['-e', '0']).pid!;

const inUseBy = (pid: number): string => `another Kindling (pid ${pid}) is using this checkpoint directory`;

describe('checkpoint directory lock', () => {
  it('refuses a directory another live process holds, naming its pid', async () => {
    const dir = temp();
    writeFileSync(join(dir, 'lock'), `${process.ppid}\n`);
    await expect(CheckpointStore.open(dir)).rejects.toThrow(inUseBy(process.ppid));
  });

  it('takes over the lock of a process that is gone (a kill -9), then refuses others while it lives', async () => {
    const dir = temp();
    writeFileSync(join(dir, 'lock'), `${deadPid()}\n`);
    const path = await lockCheckpointDir(dir);
    expect(readFileSync(path, 'utf8')).toBe(`${process.pid}\n`);
    // The dead run's lock and the claim are gone: only the held lock is left.
    expect(readdirSync(dir)).toEqual(['lock.1']);
    await expect(lockCheckpointDir(dir, process.ppid)).rejects.toThrow(inUseBy(process.pid));
    // The same process opening it again (a restore in one test) keeps it.
    expect(await lockCheckpointDir(dir)).toBe(path);
  });

  it('of two runs starting at once on a dead lock, exactly one takes it and the other is told who has it (200 races)', async () => {
    const racers = [process.pid, process.ppid];
    const dead = deadPid();
    for (let round = 0; round < 200; round++) {
      const dir = temp();
      // Some rounds race over a dead run's lock, some over a fresh directory.
      if (round % 4 !== 0) writeFileSync(join(dir, round % 2 === 0 ? 'lock' : 'lock.3'), `${dead}\n`);
      const order = round % 2 === 0 ? racers : [...racers].reverse();
      const outcomes = await Promise.allSettled(order.map((pid) => lockCheckpointDir(dir, pid)));
      const won = order.filter((_, i) => outcomes[i]!.status === 'fulfilled');
      expect(won, `round ${round}: ${outcomes.map((o) => (o.status === 'rejected' ? String(o.reason) : o.value)).join(' | ')}`).toHaveLength(1);
      const winner = won[0]!;
      const loser = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected')!;
      expect(String(loser.reason)).toContain(inUseBy(winner));
      const held = (outcomes.find((o) => o.status === 'fulfilled') as PromiseFulfilledResult<string>).value;
      expect(readFileSync(held, 'utf8')).toBe(`${winner}\n`);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
