// Restored state goes where stage 1 will send each key's new rows, whatever the --cores and --partitions of the restore.
import { describe, expect, it } from 'vitest';
import { toPartitionState, type PartitionState } from '../../src/checkpoint/format.js';
import { PARTITION_HASH, routeState } from '../../src/checkpoint/route.js';
import { ownerOf } from '../../src/partition.js';
import { partitionIdOf } from '../../src/partition.js';
import type { StateEntry } from '../../src/query/window-state.js';

/** 40 users x 3 windows, partitioned as the engine did with `partitions`. */
function stateAt(partitions: number): PartitionState[] {
  const byPartition = new Map<number, StateEntry[]>();
  for (let u = 0; u < 40; u++) {
    for (let w = 0; w < 3; w++) {
      const key = `user_${1000 + u}`;
      const p = partitionIdOf(key, partitions);
      const list = byPartition.get(p) ?? [];
      list.push([1_732_531_200_000 + w * 10_000, key, u + w + 1]);
      byPartition.set(p, list);
    }
  }
  return [...byPartition].map(([p, entries]) => toPartitionState(p, entries));
}

const sorted = (entries: StateEntry[]): StateEntry[] => [...entries].sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));

describe('routeState', () => {
  it.each([
    { from: 2, workersTo: 2, partitionsTo: 2 },
    { from: 2, workersTo: 1, partitionsTo: 2 },
    { from: 2, workersTo: 2, partitionsTo: 7 },
    { from: 7, workersTo: 3, partitionsTo: 2 },
    { from: 2, workersTo: 3, partitionsTo: 200 },
    { from: 1, workersTo: 2, partitionsTo: 1 },
  ])('restores $from partition(s) at $partitionsTo partition(s) on $workersTo worker(s): each group on its key\'s partition and owner, none lost', ({ from, workersTo, partitionsTo }) => {
    const state = stateAt(from);
    const shares = routeState(state, { partitions: from, hash: PARTITION_HASH }, { partitions: partitionsTo, workers: workersTo });
    expect(shares).toHaveLength(workersTo);
    const all: StateEntry[] = [];
    shares.forEach((share, workerId) => {
      for (const { partitionId, entries } of share) {
        expect(ownerOf(partitionId, workersTo)).toBe(workerId);
        for (const e of entries) expect(partitionIdOf(e[1], partitionsTo)).toBe(partitionId);
        all.push(...entries);
      }
    });
    const original = state.flatMap((p) => p.keys.map((k, i): StateEntry => [p.windowStartsMs[i]!, k, p.counts[i]!]));
    expect(sorted(all)).toEqual(sorted(original));
  });

  it('keeps the stored partitionIds when the partition count and hash are unchanged (no re-hash)', () => {
    // Each key stored under the partitionId its hash does NOT give, so a re-hash would move every one.
    const keys = Array.from({ length: 8 }, (_, u) => `user_${1000 + u}`);
    const storedIdOf = (key: string): number => 1 - partitionIdOf(key, 2);
    expect(new Set(keys.map(storedIdOf))).toEqual(new Set([0, 1]));
    const state = [0, 1].map((p) =>
      toPartitionState(
        p,
        keys.filter((k) => storedIdOf(k) === p).map((k, i): StateEntry => [i * 10_000, k, i + 1]),
      ),
    );
    const shares = routeState(state, { partitions: 2, hash: PARTITION_HASH }, { partitions: 2, workers: 2 });
    expect(shares).toEqual(state.map((p) => [{ partitionId: p.partitionId, entries: p.keys.map((k, i): StateEntry => [p.windowStartsMs[i]!, k, p.counts[i]!]) }]));
  });

  it('gives every worker a share, an empty one included (a restore clears what a rollback found)', () => {
    expect(routeState([], null, { partitions: 4, workers: 3 })).toEqual([[], [], []]);
  });
});
