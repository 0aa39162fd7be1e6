// Where restored state goes: entries re-hashed by key when the partition count changed, then sent to each partition's owner.
import type { OperatorEntries } from '../engine/protocol.js';
import { ownerOf, partitionIdOf } from '../partition.js';
import type { Partitioning, PartitionState } from './format.js';

/** The hash every snapshot this version writes records in `partitioning.hash`. */
export const PARTITION_HASH: Partitioning['hash'] = 'murmur2-positive-mod';

/** One worker's share of a restore: the RestoreTask's partitionEntries. */
export type WorkerShare = OperatorEntries[];

/**
 * Splits snapshot state into one share per worker for `target`. Snapshots key state by group id
 * (or dropDuplicates key), never by worker, so a restore at another `--cores` only changes owners
 * (`partitionId % workers`), and one at another `--partitions` re-hashes every key with the
 * engine's own partitioner, so each entry lands where stage 1 will send that key's new rows.
 */
export function routeState(
  state: readonly PartitionState[],
  saved: Pick<Partitioning, 'partitions' | 'hash'> | null,
  target: { readonly partitions: number; readonly workers: number },
): WorkerShare[] {
  const rehash = saved === null || saved.partitions !== target.partitions || saved.hash !== PARTITION_HASH;
  const byWorker = Array.from({ length: target.workers }, () => new Map<string, { partitionId: number; operator: OperatorEntries['operator']; entries: unknown[] }>());
  for (const part of state) {
    for (const entry of part.entries) {
      const partitionId = rehash ? partitionIdOf(entry[0], target.partitions) : part.partitionId;
      const owned = byWorker[ownerOf(partitionId, target.workers)]!;
      const at = `${part.operator}:${partitionId}`;
      let share = owned.get(at);
      if (!share) owned.set(at, (share = { partitionId, operator: part.operator, entries: [] }));
      share.entries.push(entry);
    }
  }
  return byWorker.map((owned) => [...owned.values()].sort((a, b) => a.partitionId - b.partitionId || a.operator.localeCompare(b.operator)) as OperatorEntries[]);
}
