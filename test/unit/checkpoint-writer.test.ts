// The checkpoint writer keeps the offsets log gap-free: a write ahead never becomes durable before the batch before it.
import { describe, expect, it } from 'vitest';
import type { QueryIdentity } from '../../src/checkpoint/format.js';
import type { OffsetsEntry } from '../../src/checkpoint/log.js';
import { CheckpointWriter } from '../../src/checkpoint/writer.js';
import { MemoryLog } from '../helpers/memory-log.js';

const identity = { name: 'test' } as unknown as QueryIdentity;
const entry = (batchId: number, polledAhead = false): OffsetsEntry => ({
  batchId,
  startOffsets: batchId,
  endOffsets: batchId + 1,
  noData: false,
  watermarkMs: polledAhead ? null : 0,
  ...(polledAhead ? { polledAhead: true as const } : {}),
  writtenAt: '',
});

describe('CheckpointWriter offsets order', () => {
  it("starts a write ahead only once the running batch's own entry is durable, however slow that fsync is", async () => {
    // Batch 43's write is slow, the write ahead of 44 fast: overlapping them would make 44 durable first,
    // and a crash at that instant would leave an offsets log with a gap before 44.
    const log = new MemoryLog((_what, batchId) => (batchId === 43 ? 40 : 1));
    const writer = new CheckpointWriter(log, identity, { keep: 2 });
    const own = writer.offsets(entry(43));
    writer.writeAhead(entry(44, true));
    await own;
    await writer.flush();
    expect(log.history).toEqual(['offsets 43 started', 'offsets 43 durable', 'offsets 44 started', 'offsets 44 durable']);
  });

  it('at every instant of a run of batches, the durable entries are 0..n without a gap', async () => {
    const log = new MemoryLog((_what, batchId) => [7, 1, 4, 0, 9, 2][batchId % 6]!);
    const writer = new CheckpointWriter(log, identity, { keep: 2 });
    const gaps: number[][] = [];
    const probe = setInterval(() => {
      const ids = [...log.offsets.keys()].sort((a, b) => a - b);
      if (ids.some((id, i) => id !== i)) gaps.push(ids);
    }, 1);
    for (let id = 0; id < 12; id++) {
      const own = writer.offsets(entry(id));
      writer.writeAhead(entry(id + 1, true));
      await own;
    }
    await writer.flush();
    clearInterval(probe);
    expect(gaps).toEqual([]);
    expect([...log.offsets.keys()].sort((a, b) => a - b)).toEqual([...Array(13).keys()]);
  });
});
