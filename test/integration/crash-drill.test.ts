// Crash drill: SIGKILL the engine at random instants (some inside snapshot writes), restart it each time, and get the uninterrupted output exactly.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectSuccess, listDir, outputRows, readOutput, referenceRun, removeDir, runArgs, runKindling, tempDir, writeInput } from './checkpoint-harness.js';

/** At least this many kills across the drill (the issue asks for 20). */
const KILLS_WANTED = 24;
/** Kills per round before a round is let run to its end and checked. */
const KILLS_PER_ROUND = 8;

/** A small seeded generator (mulberry32), so a failing drill can be re-run with CRASH_SEED. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface RoundConfig {
  readonly name: string;
  readonly every: number;
  /** Slows every snapshot write, so kills land inside them. */
  readonly snapshotDelayMs: number;
  /** Flags of restart `i` (some rounds change cores and partitions on every restart). */
  readonly flags: (i: number, rnd: () => number) => string[];
}

const ROUNDS: readonly RoundConfig[] = [
  { name: 'cores 2 x partitions 2, snapshot every 3 batches', every: 3, snapshotDelayMs: 0, flags: () => ['--cores', '2', '--partitions', '2'] },
  {
    name: 'each restart at random cores (1, 2) and partitions (2, 3, 7), snapshot every 2',
    every: 2,
    snapshotDelayMs: 15,
    flags: (_i, rnd) => ['--cores', String(1 + Math.floor(rnd() * 2)), '--partitions', String([2, 3, 7][Math.floor(rnd() * 3)])],
  },
  { name: 'cores 2, a snapshot after every batch', every: 1, snapshotDelayMs: 10, flags: () => ['--cores', '2'] },
];

let root: string;
let input: string;
let reference: Map<string, string>;
const seed = Number(process.env['CRASH_SEED'] ?? Date.now() % 1_000_000_000);

beforeAll(async () => {
  root = tempDir('crash');
  ({ input, reference } = await referenceRun(root, 4));
});

afterAll(() => removeDir(root));

describe(`crash drill (CRASH_SEED=${seed})`, () => {
  it(`survives ${KILLS_WANTED}+ SIGKILLs, some inside snapshot writes, with the uninterrupted run's jsonl output row for row`, async () => {
    const rnd = random(seed);
    let kills = 0;
    let killsInSnapshotWrites = 0;
    const story: string[] = [];
    for (let round = 0; kills < KILLS_WANTED && round < 12; round++) {
      const config = ROUNDS[round % ROUNDS.length]!;
      const ck = join(root, `ck-${round}`);
      const out = join(root, `out-${round}`);
      let roundKills = 0;
      let lastStderr = '';
      for (let restart = 0; ; restart++) {
        expect(restart, `round ${round} did not finish: ${story.join('; ')}`).toBeLessThan(40);
        const killing = roundKills < KILLS_PER_ROUND && kills < KILLS_WANTED;
        // Every third kill waits for a snapshot's temporary file; the others fall at a random instant.
        const aimAtSnapshot = killing && roundKills % 3 === 2;
        const delayMs = 120 + Math.floor(rnd() * 600);
        const snapshots = join(ck, 'snapshots');
        const writingSnapshot = (): boolean => listDir(snapshots).some((f) => f.includes('.snapshot.tmp-'));
        const result = await runKindling(runArgs(input, out, ['--checkpoint-dir', ck, '--checkpoint-every', String(config.every), ...config.flags(restart, rnd)]), {
          env: aimAtSnapshot ? { KINDLING_TEST_SNAPSHOT_WRITE_DELAY_MS: '150' } : config.snapshotDelayMs > 0 ? { KINDLING_TEST_SNAPSHOT_WRITE_DELAY_MS: String(config.snapshotDelayMs) } : {},
          ...(killing ? { killWhen: (elapsed: number) => (aimAtSnapshot ? (writingSnapshot() ? 'in a snapshot write' : null) : elapsed >= delayMs ? `after ${delayMs} ms` : null) } : {}),
        });
        if (result.signal === 'SIGKILL') {
          kills++;
          roundKills++;
          // The temporary file is still there: the kill landed between its creation and the rename.
          const inSnapshot = writingSnapshot();
          if (inSnapshot) killsInSnapshotWrites++;
          story.push(`r${round}.${restart}: killed ${result.killedBecause}${inSnapshot ? ' (snapshot write)' : ''}`);
          continue;
        }
        expect(result.code, result.stderr).toBe(0);
        lastStderr = result.stderr;
        story.push(`r${round}.${restart}: finished`);
        break;
      }
      // The union of everything written across the kills is the uninterrupted output: same batch
      // files, same rows in the same order, nothing missing and nothing twice.
      expect(readOutput(out), `round ${round} (${config.name}); ${story.join('; ')}; the last run said:\n${lastStderr}`).toEqual(reference);
      const rows = outputRows(out).map((r) => r.row);
      expect(new Set(rows).size).toBe(rows.length);
    }
    console.log(`crash drill (CRASH_SEED=${seed}): ${kills} kills, ${killsInSnapshotWrites} inside snapshot writes\n  ${story.join('\n  ')}`);
    expect(kills, story.join('; ')).toBeGreaterThanOrEqual(KILLS_WANTED);
    expect(killsInSnapshotWrites, story.join('; ')).toBeGreaterThanOrEqual(3);
  }, 240_000);
});
