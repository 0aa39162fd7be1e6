// Restored state goes where stage 1 will send each key's new rows, whatever the --cores and --partitions of the restore.
import { describe, expect, it } from 'vitest';
import type { PartitionState } from '../../src/checkpoint/format.js';
import { PARTITION_HASH, routeState } from '../../src/checkpoint/route.js';
import type { OperatorEntries } from '../../src/engine/protocol.js';
import { ownerOf, partitionIdOf } from '../../src/partition.js';
import type { AggregationEntry } from '../../src/plan/state.js';

type Entry = readonly [string, ...unknown[]];

/** 40 users x 3 windows of aggregation state and 40 dropDuplicates keys, partitioned as the engine did with `partitions`. */
function stateAt(partitions: number): PartitionState[] {
  const out = new Map<string, OperatorEntries & { entries: Entry[] }>();
  const add = (operator: 'aggregate' | 'dedup', entry: Entry): void => {
    const partitionId = partitionIdOf(entry[0], partitions);
    const at = `${operator}:${partitionId}`;
    if (!out.has(at)) out.set(at, { partitionId, operator, entries: [] } as never);
    out.get(at)!.entries.push(entry);
  };
  for (let u = 0; u < 40; u++) {
    const user = `user_${1000 + u}`;
    for (let w = 0; w < 3; w++) {
      const startUs = (1_732_531_200_000 + w * 10_000) * 1000;
      const entry: AggregationEntry = [`${startUs}\u0000${user}\u0000`, [{ startUs, endUs: startUs + 10_000_000 }, user], [u + w + 1], startUs + 10_000_000];
      add('aggregate', entry);
    }
    add('dedup', [`${user}\u0000`, null]);
  }
  return [...out.values()];
}

const all = (parts: readonly OperatorEntries[], operator: string): Entry[] =>
  parts.filter((p) => p.operator === operator).flatMap((p) => p.entries as readonly Entry[]).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));

describe('routeState', () => {
  it.each([
    { from: 2, workersTo: 2, partitionsTo: 2 },
    { from: 2, workersTo: 1, partitionsTo: 2 },
    { from: 2, workersTo: 2, partitionsTo: 7 },
    { from: 7, workersTo: 3, partitionsTo: 2 },
    { from: 2, workersTo: 3, partitionsTo: 200 },
    { from: 1, workersTo: 2, partitionsTo: 1 },
  ])('restores $from partition(s) at $partitionsTo partition(s) on $workersTo worker(s): each entry on its key\'s partition and owner, none lost', ({ from, workersTo, partitionsTo }) => {
    const state = stateAt(from);
    const shares = routeState(state, { partitions: from, hash: PARTITION_HASH }, { partitions: partitionsTo, workers: workersTo });
    expect(shares).toHaveLength(workersTo);
    shares.forEach((share, workerId) => {
      for (const { partitionId, entries } of share) {
        expect(ownerOf(partitionId, workersTo)).toBe(workerId);
        for (const e of entries) expect(partitionIdOf(e[0], partitionsTo)).toBe(partitionId);
      }
    });
    for (const operator of ['aggregate', 'dedup']) expect(all(shares.flat(), operator)).toEqual(all(state, operator));
  });

  it('keeps the stored partitionIds when the partition count and hash are unchanged (no re-hash)', () => {
    // Each key stored under the partitionId its hash does NOT give, so a re-hash would move every one.
    const keys = Array.from({ length: 8 }, (_, u) => `user_${1000 + u}\u0000`);
    const storedIdOf = (key: string): number => 1 - partitionIdOf(key, 2);
    expect(new Set(keys.map(storedIdOf))).toEqual(new Set([0, 1]));
    const state: PartitionState[] = [0, 1].map((partitionId) => ({ partitionId, operator: 'dedup', entries: keys.filter((k) => storedIdOf(k) === partitionId).map((k, i) => [k, i] as const) }));
    const shares = routeState(state, { partitions: 2, hash: PARTITION_HASH }, { partitions: 2, workers: 2 });
    expect(shares).toEqual(state.map((p) => [p]));
  });

  it('gives every worker a share, an empty one included (a restore clears what a rollback found)', () => {
    expect(routeState([], null, { partitions: 4, workers: 3 })).toEqual([[], [], []]);
  });
});
