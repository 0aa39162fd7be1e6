// Where restored state goes: entries re-hashed by key when the partition count changed, then sent to each partition's owner.
import { ownerOf, partitionIdOf } from '../partition.js';
import type { StateEntry } from '../query/window-state.js';
import type { Partitioning, PartitionState } from './format.js';

/** The hash every snapshot this version writes records in `partitioning.hash`. */
export const PARTITION_HASH: Partitioning['hash'] = 'murmur2-positive-mod';

/** One worker's share of a restore: the RestoreTask's partitionEntries. */
export type WorkerShare = Array<{ partitionId: number; entries: StateEntry[] }>;

/**
 * Splits snapshot state into one share per worker for `target`. Snapshots key state by
 * (window, key), never by worker, so a restore at another `--cores` only changes owners
 * (`partitionId % workers`), and one at another `--partitions` re-hashes every key with the
 * engine's own partitioner, so each group lands where stage 1 will send that key's new rows.
 */
export function routeState(
  state: readonly PartitionState[],
  saved: Pick<Partitioning, 'partitions' | 'hash'> | null,
  target: { readonly partitions: number; readonly workers: number },
): WorkerShare[] {
  const rehash = saved === null || saved.partitions !== target.partitions || saved.hash !== PARTITION_HASH;
  const byWorker = Array.from({ length: target.workers }, () => new Map<number, StateEntry[]>());
  const partitionOfKey = new Map<string, number>();
  for (const part of state) {
    const { windowStartsMs, keys, counts } = part;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      let partitionId = part.partitionId;
      if (rehash) {
        const known = partitionOfKey.get(key);
        if (known === undefined) partitionOfKey.set(key, (partitionId = partitionIdOf(key, target.partitions)));
        else partitionId = known;
      }
      const owned = byWorker[ownerOf(partitionId, target.workers)]!;
      let entries = owned.get(partitionId);
      if (!entries) owned.set(partitionId, (entries = []));
      entries.push([windowStartsMs[i]!, key, counts[i]!]);
    }
  }
  return byWorker.map((owned) => [...owned].sort((a, b) => a[0] - b[0]).map(([partitionId, entries]) => ({ partitionId, entries })));
}
