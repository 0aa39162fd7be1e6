// The snapshot file format: round trip, every kind of damage detected and named, query changes described field by field.
import { describe, expect, it } from 'vitest';
import {
  decodeSnapshot,
  encodeSnapshot,
  queryChanges,
  SNAPSHOT_FORMAT_VERSION,
  SNAPSHOT_HEADER_BYTES,
  SnapshotCorrupt,
  SnapshotFormatError,
  stateRows,
  type Snapshot,
} from '../../src/checkpoint/format.js';
import { queryIdentity } from '../../src/checkpoint/recovery.js';
import { col, count, lower, window } from '../../src/plan/column.js';
import { readStream } from '../../src/plan/dataframe.js';
import type { OutputMode } from '../../src/plan/plan.js';
import { crashAlertsPlan, LAB_SCHEMA, vulnerabilityByIpPlan } from '../../src/plan/queries.js';

const T = 1_732_531_270_000_000;
const win = (startUs: number) => ({ startUs, endUs: startUs + 10_000_000 });

const snapshot: Snapshot = {
  formatVersion: SNAPSHOT_FORMAT_VERSION,
  batchId: 812,
  createdAtMs: 1_732_531_280_000,
  query: queryIdentity(crashAlertsPlan),
  partitioning: { partitions: 2, workers: 2, hash: 'murmur2-positive-mod' },
  sourceOffsets: { fileIndex: 1, file: 'in/part-001.ndjson', byteOffset: 446_189 },
  watermark: { watermarkMs: 1_732_531_280_000, lastEvictionWatermarkMs: 1_732_531_275_000 },
  state: [
    {
      partitionId: 0,
      operator: 'aggregate',
      entries: [
        [`${T}\u0000user_1042\u0000`, [win(T), 'user_1042'], [3], T + 10_000_000],
        [`${T + 10_000_000}\u0000user_1042\u0000`, [win(T + 10_000_000), 'user_1042'], [1], T + 20_000_000],
      ],
    },
    { partitionId: 1, operator: 'aggregate', entries: [[`${T}\u0000\u0001`, [win(T), null], [7], T + 10_000_000]] },
    { partitionId: 1, operator: 'dedup', entries: [['ü_ünïcode\u0000', T], ['u\u0000', null]] },
  ],
};

function reason(bytes: Uint8Array): string {
  try {
    decodeSnapshot(bytes);
  } catch (err) {
    expect(err).toBeInstanceOf(SnapshotCorrupt);
    return (err as SnapshotCorrupt).reason;
  }
  throw new Error('decoded a damaged snapshot');
}

describe('snapshot format', () => {
  it('decodes what it encodes, epoch-millisecond numbers and non-ASCII keys included', () => {
    const decoded = decodeSnapshot(encodeSnapshot(snapshot));
    expect(decoded).toEqual(snapshot);
    expect(typeof decoded.state[0]!.entries[0]![3]).toBe('number');
    expect(stateRows(decoded)).toBe(5);
  });

  it('keeps a query without a watermark (null) and empty state', () => {
    const plain: Snapshot = { ...snapshot, query: queryIdentity(vulnerabilityByIpPlan), watermark: null, state: [], sourceOffsets: null };
    expect(decodeSnapshot(encodeSnapshot(plain))).toEqual(plain);
  });

  const good = encodeSnapshot(snapshot);
  it.each([
    { cut: 0, expected: /^truncated: 0 bytes/ },
    { cut: 10, expected: /^truncated: 10 bytes/ },
    { cut: SNAPSHOT_HEADER_BYTES, expected: /^truncated: 0 of \d+ payload bytes/ },
    { cut: good.length - 1, expected: /^truncated: \d+ of \d+ payload bytes/ },
  ])('reports a file truncated to $cut bytes', ({ cut, expected }) => {
    expect(reason(good.subarray(0, cut))).toMatch(expected);
  });

  it.each([
    { where: 'the magic bytes', at: 0, expected: /bad magic/ },
    { where: 'the payload length', at: 19, expected: /truncated|unexpected bytes/ },
    { where: 'the checksum', at: 30, expected: /checksum mismatch/ },
    { where: 'the first payload byte', at: SNAPSHOT_HEADER_BYTES, expected: /checksum mismatch/ },
    { where: 'the last payload byte', at: good.length - 1, expected: /checksum mismatch/ },
  ])('reports a bit flipped in $where', ({ at, expected }) => {
    const bad = Buffer.from(good);
    bad[at]! ^= 0x04;
    expect(reason(bad)).toMatch(expected);
  });

  it('refuses a snapshot of another format version, saying which (not as damage)', () => {
    const older = Buffer.from(good);
    older.writeUInt32BE(1, 8);
    expect(() => decodeSnapshot(older)).toThrow(SnapshotFormatError);
    expect(() => decodeSnapshot(older)).toThrow(/written by an older format \(snapshot format 1; this Kindling reads format 2/);
    const newer = Buffer.from(good);
    newer.writeUInt32BE(SNAPSHOT_FORMAT_VERSION + 1, 8);
    expect(() => decodeSnapshot(newer)).toThrow(/written by a newer Kindling/);
  });

  it('reports trailing bytes after the payload', () => {
    expect(reason(Buffer.concat([good, Buffer.from([0])]))).toMatch(/1 unexpected bytes after the payload/);
  });
});

describe('queryChanges', () => {
  const alerts = (o: { watermark?: string; size?: string; over?: number; mode?: OutputMode } = {}) =>
    queryIdentity(
      readStream(LAB_SCHEMA)
        .withColumn('event_time', col('timestamp').divide(1000).cast('timestamp'))
        .filter(lower(col('content')).contains('crash').and(col('severity').isin('High', 'Critical')))
        .withWatermark('event_time', o.watermark ?? '30 seconds')
        .groupBy(window(col('event_time'), o.size ?? '10 seconds'), col('user_id'))
        .agg(count('*').alias('crash_count'))
        .filter(col('crash_count').gt(o.over ?? 2))
        .toQuery({ name: 'crash-alerts', outputMode: o.mode ?? 'append' }),
    );
  const base = alerts();
  it.each([
    { change: 'nothing', current: alerts(), expected: [] },
    { change: 'the watermark', current: alerts({ watermark: '20 seconds' }), expected: ['plan: EventTimeWatermark event_time, 30 seconds -> EventTimeWatermark event_time, 20 seconds'] },
    { change: 'the window', current: alerts({ size: '20 seconds' }), expected: ["plan: Aggregate [window(event_time, '10 seconds'), user_id], [count(1) AS crash_count] -> Aggregate [window(event_time, '20 seconds'), user_id], [count(1) AS crash_count]"] },
    { change: 'HAVING', current: alerts({ over: 5 }), expected: ['plan: Filter (crash_count > 2) -> Filter (crash_count > 5)'] },
    { change: 'the output mode', current: alerts({ mode: 'update' }), expected: ['output mode: append -> update'] },
  ])('describes a change of $change', ({ current, expected }) => {
    expect(queryChanges(base, current)).toEqual(expected);
  });

  it('the built-in crash-alerts is that plan', () => {
    expect(queryChanges(base, queryIdentity(crashAlertsPlan))).toEqual([]);
  });

  it('names another query and the plan lines that differ', () => {
    const changes = queryChanges(base, queryIdentity(vulnerabilityByIpPlan));
    expect(changes).toContain('query name: crash-alerts -> vulnerability-by-ip');
    expect(changes).toContain('output mode: append -> complete');
    expect(changes.find((c) => c.startsWith('plan: '))).toContain('EventTimeWatermark event_time, 30 seconds');
  });
});
