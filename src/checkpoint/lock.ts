// The checkpoint directory's lock: one run at a time, and a dead run's lock taken over atomically, by exactly one of the runs that find it.
import { randomBytes } from 'node:crypto';
import { link, readdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KindlingError } from '../errors.js';

/** True when a process with this pid exists (signal 0 checks without signalling). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Lock files are generations: `lock` (0), then `lock.1`, `lock.2`, ... The highest generation holds
 * the directory. Taking over a dead run's generation N means creating N + 1, and a file is only ever
 * created by `link`, which fails if the name exists: of two runs that find the same dead lock,
 * exactly one creates N + 1, and the other then finds that one alive. Nothing is deleted to take a
 * lock over, so no run can delete another's fresh lock.
 */
const nameOf = (generation: number): string => (generation === 0 ? 'lock' : `lock.${generation}`);

function generationOf(name: string): number | null {
  if (name === 'lock') return 0;
  const m = /^lock\.([1-9]\d*)$/.exec(name);
  return m ? Number(m[1]) : null;
}

/** A lock file: its generation and the pid it names (null when unreadable: a run killed while creating it by an older version). */
interface Holder {
  readonly generation: number;
  readonly pid: number | null;
}

/** Claims are named so that fs-atomic's removeTemporaries (`.<name>.tmp-<pid>`) never takes another run's claim away. */
const CLAIM_PREFIX = '.lock-claim-';

async function highest(dir: string): Promise<Holder | null> {
  const generations = (await readdir(dir)).map(generationOf).filter((g): g is number => g !== null);
  if (generations.length === 0) return null;
  const generation = Math.max(...generations);
  const text = await readFile(join(dir, nameOf(generation)), 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  if (text === null) return highest(dir); // removed by the run that superseded it: look again
  const pid = Number(text.trim());
  return { generation, pid: Number.isSafeInteger(pid) && pid > 0 ? pid : null };
}

/** How often a run may lose the race for a generation before it gives up (others keep taking and losing it). */
const MAX_ATTEMPTS = 50;

/**
 * Takes `dir`'s lock for `pid` (this process; tests pass others): two runs writing one checkpoint
 * would interleave their logs. Refused while a live process holds it; a lock whose process is gone
 * (a crash, kill -9) is taken over. Returns the lock file's path. It is not removed at exit.
 */
export async function lockCheckpointDir(dir: string, pid: number = process.pid): Promise<string> {
  const claim = join(dir, `${CLAIM_PREFIX}${pid}-${randomBytes(4).toString('hex')}`);
  await writeFile(claim, `${pid}\n`);
  try {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const held = await highest(dir);
      if (held && held.pid === pid) return join(dir, nameOf(held.generation));
      if (held && held.pid !== null && isAlive(held.pid)) {
        const path = join(dir, nameOf(held.generation));
        throw new KindlingError('CHECKPOINT_IN_USE', `another Kindling (pid ${held.pid}) is using this checkpoint directory; stop it, or delete ${path} if that process is not Kindling`, { domain: 'user' });
      }
      const generation = held ? held.generation + 1 : 0;
      const path = join(dir, nameOf(generation));
      try {
        await link(claim, path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue; // another run took it first: look at that one
        throw err;
      }
      // A run that looked before an older generation was cleaned up can create that one again; it
      // holds nothing while a higher generation exists.
      const now = await highest(dir);
      if (now?.generation !== generation) {
        await unlink(path).catch(() => undefined);
        continue;
      }
      await removeLeftovers(dir, generation);
      return path;
    }
    throw new KindlingError('CHECKPOINT_IN_USE', `cannot take the lock in ${dir}: other runs kept taking it at the same time`, { domain: 'user' });
  } finally {
    await unlink(claim).catch(() => undefined);
  }
}

/** Removes the generations below the held one (dead runs' locks) and claims of processes that are gone. */
async function removeLeftovers(dir: string, held: number): Promise<void> {
  for (const name of await readdir(dir)) {
    const generation = generationOf(name);
    const claimPid = name.startsWith(CLAIM_PREFIX) ? Number(name.slice(CLAIM_PREFIX.length).split('-')[0]) : null;
    const stale = (generation !== null && generation < held) || (claimPid !== null && Number.isSafeInteger(claimPid) && claimPid > 0 && !isAlive(claimPid));
    if (stale) await unlink(join(dir, name)).catch(() => undefined);
  }
}
