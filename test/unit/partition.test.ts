// The partition hash is Kafka's murmur2, pinned by vectors and checked against kafkajs's implementation.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { murmur2, partitionIdOf } from '../../src/partition.js';

const require = createRequire(import.meta.url);
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2.js') as (key: string | Buffer) => number;

describe('murmur2', () => {
  it.each([
    { key: '', hash: 275646681 },
    { key: 'user_1042', hash: kafkajsMurmur2('user_1042') },
    { key: 'a', hash: kafkajsMurmur2('a') },
    { key: 'ab', hash: kafkajsMurmur2('ab') },
    { key: 'abc', hash: kafkajsMurmur2('abc') },
    { key: 'ü_unicode', hash: kafkajsMurmur2('ü_unicode') },
  ])('hashes "$key" as kafkajs (Kafka) does', ({ key, hash }) => {
    expect(murmur2(new TextEncoder().encode(key))).toBe(hash);
  });

  it('agrees with kafkajs on every user id of the lab', () => {
    for (let u = 1000; u < 2000; u++) {
      const key = `user_${u}`;
      expect(murmur2(new TextEncoder().encode(key))).toBe(kafkajsMurmur2(key));
    }
  });
});

describe('partitionIdOf', () => {
  it.each([
    { key: 'user_1000', partitions: 2, id: 0 },
    { key: 'user_1001', partitions: 2, id: 0 },
    { key: 'user_1042', partitions: 7, id: 5 },
    { key: 'user_1042', partitions: 200, id: 151 },
    { key: '192.168.1.7', partitions: 200, id: 106 },
  ])('sends $key to partition $id of $partitions (pinned)', ({ key, partitions, id }) => {
    expect(partitionIdOf(key, partitions)).toBe(id);
    // Kafka's default partitioner rule on kafkajs's hash gives the same partition.
    expect((kafkajsMurmur2(key) & 0x7fffffff) % partitions).toBe(id);
  });

  it('stays within range and spreads the lab users over 200 partitions', () => {
    const used = new Set<number>();
    for (let u = 1000; u < 2000; u++) {
      const id = partitionIdOf(`user_${u}`, 200);
      expect(id).toBeGreaterThanOrEqual(0);
      expect(id).toBeLessThan(200);
      used.add(id);
    }
    expect(used.size).toBeGreaterThan(180);
  });
});
