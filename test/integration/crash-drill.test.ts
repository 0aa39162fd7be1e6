// Crash drill: SIGKILL the engine at random instants (some inside snapshot writes), restart it each time, and get the uninterrupted output exactly.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectSuccess, listDir, outputRows, readOutput, referenceRun, removeDir, runArgs, runKindling, tempDir, writeInput } from './checkpoint-harness.js';
import { random } from '../helpers/random.js';

/** The drill runs until it has this many kills (the issue asks for 20)... */
const KILLS_WANTED = 24;
/** ...and this many of them inside snapshot writes. */
const SNAPSHOT_KILLS_WANTED = 3;
/** Kills per round before a round is let run to its end and checked. */
const KILLS_PER_ROUND = 8;
/** A bound on child runs, so a drill whose kills stop landing fails with its story instead of looping. */
const MAX_RUNS = 60;

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

/** The highest batch id a checkpoint has committed (-1 before the first commit). */
function lastCommitted(ck: string): number {
  return Math.max(-1, ...listDir(join(ck, 'commits')).map((f) => /^(\d+)\.json$/.exec(f)).map((m) => (m ? Number(m[1]) : -1)));
}

describe(`crash drill (CRASH_SEED=${seed})`, () => {
  it(`survives ${KILLS_WANTED}+ SIGKILLs, ${SNAPSHOT_KILLS_WANTED}+ inside snapshot writes, with the uninterrupted run's jsonl output row for row`, async () => {
    const rnd = random(seed);
    // Every batch up to here emits rows, so the stream has at least this many batches.
    const lastBatchId = Math.max(...[...reference.keys()].map((name) => Number(/\d+/.exec(name)![0])));
    let kills = 0;
    let killsInSnapshotWrites = 0;
    let runs = 0;
    const story: string[] = [];
    const wanting = (): boolean => kills < KILLS_WANTED || killsInSnapshotWrites < SNAPSHOT_KILLS_WANTED;
    for (let round = 0; wanting(); round++) {
      const config = ROUNDS[round % ROUNDS.length]!;
      const ck = join(root, `ck-${round}`);
      const out = join(root, `out-${round}`);
      let roundKills = 0;
      let lastStderr = '';
      for (let restart = 0; ; restart++) {
        runs++;
        expect(runs, `the drill needed more than ${MAX_RUNS} runs: ${story.join('; ')}`).toBeLessThanOrEqual(MAX_RUNS);
        // Every third kill (and every kill once only snapshot kills are missing) waits for a snapshot's
        // temporary file; the others fall at a random instant.
        const aimAtSnapshot = roundKills % 3 === 2 || kills >= KILLS_WANTED;
        const committed = lastCommitted(ck);
        // The latest commit the run may make before it is killed anyway (a snapshot is written at least
        // every `every` batches): a random share of the batches left, so the round's kills spread over
        // the stream and the round never runs out of batches to kill in.
        const share = Math.max(1, Math.floor((lastBatchId - 2 - committed) / (KILLS_PER_ROUND - roundKills)));
        const commitLimit = committed + (aimAtSnapshot ? config.every + 2 : 1 + Math.floor(rnd() * share));
        // Kill only while batches after the limit remain, so the kill lands before the run ends.
        const killing = wanting() && roundKills < KILLS_PER_ROUND && commitLimit <= lastBatchId - 2;
        const delayMs = 120 + Math.floor(rnd() * 600);
        const snapshots = join(ck, 'snapshots');
        const writingSnapshot = (): boolean => listDir(snapshots).some((f) => f.includes('.snapshot.tmp-'));
        const killWhen = (elapsed: number): string | null => {
          if (aimAtSnapshot ? writingSnapshot() : elapsed >= delayMs) return aimAtSnapshot ? 'in a snapshot write' : `after ${delayMs} ms`;
          return lastCommitted(ck) >= commitLimit ? `after committing batch ${commitLimit}` : null;
        };
        const result = await runKindling(runArgs(input, out, ['--checkpoint-dir', ck, '--checkpoint-every', String(config.every), ...config.flags(restart, rnd)]), {
          env: killing && aimAtSnapshot ? { KINDLING_TEST_SNAPSHOT_WRITE_DELAY_MS: '150' } : config.snapshotDelayMs > 0 ? { KINDLING_TEST_SNAPSHOT_WRITE_DELAY_MS: String(config.snapshotDelayMs) } : {},
          ...(killing ? { killWhen } : {}),
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
        story.push(`r${round}.${restart}: finished${killing ? ' (a planned kill did not land)' : ''}`);
        break;
      }
      // The union of everything written across the kills is the uninterrupted output: same batch
      // files, same rows in the same order, nothing missing and nothing twice.
      expect(readOutput(out), `round ${round} (${config.name}); ${story.join('; ')}; the last run said:\n${lastStderr}`).toEqual(reference);
      const rows = outputRows(out).map((r) => r.row);
      expect(new Set(rows).size).toBe(rows.length);
    }
    console.log(`crash drill (CRASH_SEED=${seed}): ${kills} kills, ${killsInSnapshotWrites} inside snapshot writes, ${runs} runs, batches 0-${lastBatchId}+\n  ${story.join('\n  ')}`);
  }, 240_000);
});
