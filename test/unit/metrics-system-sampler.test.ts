// The background CPU/memory sampler: the first (since-boot) load is a baseline, snapshots never wait, failures stop it.
import { describe, expect, it } from 'vitest';
import { SystemSampler, type SystemReader } from '../../src/metrics/system-sampler.js';

function reader(loads: number[][]): SystemReader & { calls: number } {
  const r = {
    calls: 0,
    async currentLoad() {
      const cpus = loads[Math.min(r.calls, loads.length - 1)]!;
      r.calls++;
      return { currentLoad: cpus.reduce((a, b) => a + b, 0) / cpus.length, cpus: cpus.map((load) => ({ load })) };
    },
    async mem() {
      return { total: 16e9, available: 12e9 };
    },
  };
  return r;
}

const processMemory = () => ({ heapUsed: 10, heapTotal: 20, rss: 300, external: 4 });

describe('SystemSampler', () => {
  it('has no CPU figures before the first real sample, but always the process memory', () => {
    const s = new SystemSampler({ reader: reader([[50, 50]]), processMemory });
    expect(s.snapshot()).toEqual({ sampledAt: null, cpu: null, memory: null, process: { heapUsedBytes: 10, heapTotalBytes: 20, rssBytes: 300, externalBytes: 4 } });
  });

  it('discards the first currentLoad (the average since boot) and reports the next per core', async () => {
    const r = reader([
      [99, 99],
      [20, 60.06],
    ]);
    const s = new SystemSampler({ intervalMs: 5, reader: r, processMemory }).start();
    await s.ready();
    await s.stop();
    const snap = s.snapshot();
    expect(snap.cpu).toEqual({ loadPercent: 40, coresLoadPercent: [20, 60.1] });
    expect(snap.memory).toEqual({ totalBytes: 16e9, availableBytes: 12e9, usedBytes: 4e9 });
    expect(snap.sampledAt).not.toBeNull();
  });

  it('stops and reports once when the machine cannot be read', async () => {
    const errors: unknown[] = [];
    const failing: SystemReader = {
      currentLoad: () => Promise.reject(new Error('no /proc')),
      mem: async () => ({ total: 1, available: 1 }),
    };
    const s = new SystemSampler({ intervalMs: 5, reader: failing, processMemory, onError: (e) => errors.push(e) }).start();
    await s.ready();
    expect(errors).toHaveLength(1);
    expect(s.snapshot().cpu).toBeNull();
    await s.stop();
  });
});
