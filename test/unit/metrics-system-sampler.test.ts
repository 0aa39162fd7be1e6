// The background CPU/memory sampler: the first (since-boot) load is a baseline, snapshots never wait, failures stop it.
import { describe, expect, it } from 'vitest';
import { cpuTimesLoad, SystemSampler, type SystemReader } from '../../src/metrics/system-sampler.js';

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

describe('cpuTimesLoad', () => {
  const times = (user: number, idle: number) => ({ times: { user, nice: 0, sys: 0, idle, irq: 0 } });

  it('reports each core busy share of the time since the previous call, first since boot', async () => {
    const readings = [
      [times(100, 300), times(50, 350)],
      [times(175, 325), times(50, 450)],
    ];
    let call = 0;
    const load = cpuTimesLoad(() => readings[call++]!);
    expect(await load()).toEqual({ currentLoad: 18.75, cpus: [{ load: 25 }, { load: 12.5 }] });
    expect(await load()).toEqual({ currentLoad: 37.5, cpus: [{ load: 75 }, { load: 0 }] });
  });

  it('reads this machine: one load per core, each 0..100', async () => {
    const load = cpuTimesLoad();
    await load();
    const { cpus } = await load();
    expect(cpus.length).toBeGreaterThanOrEqual(1);
    for (const c of cpus) expect(c.load).toBeGreaterThanOrEqual(0);
    for (const c of cpus) expect(c.load).toBeLessThanOrEqual(100);
  });
});
