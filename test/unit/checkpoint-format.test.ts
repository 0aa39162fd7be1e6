// The snapshot file format: round trip, every kind of damage detected and named, query changes described field by field.
import { describe, expect, it } from 'vitest';
import {
  decodeSnapshot,
  encodeSnapshot,
  queryChanges,
  SNAPSHOT_FORMAT_VERSION,
  SNAPSHOT_HEADER_BYTES,
  SnapshotCorrupt,
  stateRows,
  toPartitionState,
  type QueryIdentity,
  type Snapshot,
} from '../../src/checkpoint/format.js';
import { queryIdentity } from '../../src/checkpoint/recovery.js';
import { crashAlerts, vulnerabilityByIp } from '../../src/query/queries.js';

const snapshot: Snapshot = {
  formatVersion: SNAPSHOT_FORMAT_VERSION,
  batchId: 812,
  createdAtMs: 1_732_531_280_000,
  query: queryIdentity(crashAlerts, 'append'),
  partitioning: { partitions: 2, workers: 2, hash: 'murmur2-positive-mod' },
  sourceOffsets: { fileIndex: 1, file: 'in/part-001.ndjson', byteOffset: 446_189 },
  watermark: { watermarkMs: 1_732_531_280_000, lastEvictionWatermarkMs: 1_732_531_275_000 },
  state: [
    toPartitionState(0, [
      [1_732_531_270_000, 'user_1042', 3],
      [1_732_531_280_000, 'user_1042', 1],
    ]),
    toPartitionState(1, [[1_732_531_280_000, 'ü_ünïcode', 7]]),
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
    expect(typeof decoded.state[0]!.windowStartsMs[0]).toBe('number');
    expect(stateRows(decoded)).toBe(3);
  });

  it('keeps a query without a watermark (null) and empty state', () => {
    const plain: Snapshot = { ...snapshot, query: queryIdentity(vulnerabilityByIp, 'complete'), watermark: null, state: [], sourceOffsets: null };
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
    { where: 'the format version', at: 11, expected: /^format version \d+; this Kindling reads version 1/ },
    { where: 'the payload length', at: 19, expected: /truncated|unexpected bytes/ },
    { where: 'the checksum', at: 30, expected: /checksum mismatch/ },
    { where: 'the first payload byte', at: SNAPSHOT_HEADER_BYTES, expected: /checksum mismatch/ },
    { where: 'the last payload byte', at: good.length - 1, expected: /checksum mismatch/ },
  ])('reports a bit flipped in $where', ({ at, expected }) => {
    const bad = Buffer.from(good);
    bad[at]! ^= 0x04;
    expect(reason(bad)).toMatch(expected);
  });

  it('reports trailing bytes after the payload', () => {
    expect(reason(Buffer.concat([good, Buffer.from([0])]))).toMatch(/1 unexpected bytes after the payload/);
  });
});

describe('queryChanges', () => {
  const base = queryIdentity(crashAlerts, 'append');
  const other = (q: Partial<typeof crashAlerts>, mode = 'append'): QueryIdentity => queryIdentity({ ...crashAlerts, ...q }, mode as 'append');
  it.each([
    { change: 'nothing', current: base, expected: [] },
    { change: 'the watermark', current: other({ watermarkDelayMs: 20_000 }), expected: ['watermarkDelayMs: 30 s -> 20 s'] },
    { change: 'the window', current: other({ window: { sizeMs: 20_000, slideMs: 10_000 } }), expected: ['window: 10 s tumbling -> 20 s sliding every 10 s'] },
    { change: 'the filter code', current: other({ filter: (e) => e.severity === 'High' }), expected: ['filter: its code changed'] },
    { change: 'HAVING', current: other({ having: (c) => c > 5 }), expected: ['having: its code changed'] },
    { change: 'the aggregate column', current: other({ aggregate: { kind: 'count', column: 'n' } }), expected: ['aggregate: {"kind":"count","column":"crash_count"} -> {"kind":"count","column":"n"}'] },
    { change: 'the output mode', current: other({}, 'update'), expected: ['output mode: append -> update'] },
  ])('describes a change of $change', ({ current, expected }) => {
    expect(queryChanges(base, current)).toEqual(expected);
  });

  it('names another query and every field that differs', () => {
    const changes = queryChanges(base, queryIdentity(vulnerabilityByIp, 'complete'));
    expect(changes).toContain('query name: crash-alerts -> vulnerability-by-ip');
    expect(changes).toContain('output mode: append -> complete');
    expect(changes).toContain('window: 10 s tumbling -> none');
    expect(changes).toContain('keyColumn: "user_id" -> "source_ip"');
  });
});
