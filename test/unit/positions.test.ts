// Record positions for messages: file lines counted across batches and splits, generator event indexes, Kafka offsets.
import { describe, expect, it } from 'vitest';
import { describePosition, RecordPositions } from '../../src/engine/positions.js';
import type { Split } from '../../src/source/source.js';

const split = (label: string, extra: Partial<Split['origin']> = {}): Split => ({ payload: { kind: 'bytes', bytes: new Uint8Array() }, origin: { label, ...extra } });

describe('RecordPositions', () => {
  it('numbers a file\'s lines across batches and across the splits of one batch', () => {
    const positions = new RecordPositions();
    const first = [split('a.ndjson'), split('a.ndjson'), split('b.ndjson')];
    expect(positions.advance(first, [10, 5, 7])).toEqual([0, 10, 0]);
    const second = [split('b.ndjson'), split('b.ndjson')];
    // Record 2 of the second split of batch 2: 7 lines of b before it, then 4 in the first split.
    expect(positions.where(second, [4], 1, 2)).toBe('b.ndjson line 14');
    expect(positions.where(second, [], 0, 0)).toBe('b.ndjson line 8');
  });

  it('uses the offsets or event index a split carries', () => {
    expect(describePosition({ label: 'events-3', recordOffsets: [40, 41, 45] }, 2, 99)).toBe('events-3 offset 45');
    expect(describePosition({ label: 'generator', firstIndex: 8192 }, 5, 99)).toBe('generator event 8197');
  });
});
