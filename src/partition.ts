// Where a grouping key's state lives: its partitionId (Kafka's murmur2 of the key's UTF-8 bytes, mod the partition count) and the worker owning that partitionId.

const encoder = new TextEncoder();

/**
 * Kafka's murmur2 (seed 0x9747b28c), as in org.apache.kafka.common.utils.Utils.murmur2, with
 * Math.imul for 32-bit multiplication. Returns a signed 32-bit integer, like Java's.
 */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  const m = 0x5bd1e995;
  const r = 24;
  let h = 0x9747b28c ^ length;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = (data[i4]! & 0xff) + ((data[i4 + 1]! & 0xff) << 8) + ((data[i4 + 2]! & 0xff) << 16) + ((data[i4 + 3]! & 0xff) << 24);
    k = Math.imul(k, m);
    k ^= k >>> r;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }
  const tail = length4 * 4;
  const rest = length & 3;
  if (rest === 3) h ^= (data[tail + 2]! & 0xff) << 16;
  if (rest >= 2) h ^= (data[tail + 1]! & 0xff) << 8;
  if (rest >= 1) {
    h ^= data[tail]! & 0xff;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/**
 * The partitionId of a grouping key among `partitions` hash partitions: Kafka's default
 * partitioner rule, `toPositive(murmur2(utf8(key))) % partitions`. Stable across runs, threads
 * and machines, so state can be re-hashed by key when restored at another partition count.
 */
export function partitionIdOf(key: string, partitions: number): number {
  return (murmur2(encoder.encode(key)) & 0x7fffffff) % partitions;
}

/**
 * The worker that owns `partitionId`, for the engine's life: stage 1 sends a partition's rows
 * there, its state never leaves that thread, and a restore routes state there. The one place
 * this rule lives.
 */
export function ownerOf(partitionId: number, workers: number): number {
  return partitionId % workers;
}
