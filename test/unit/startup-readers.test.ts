// The start-up path's own readers of /proc: physical cores and memory, checked against systeminformation (the oracle they replace).
import { readFileSync } from 'node:fs';
import si from 'systeminformation';
import { describe, expect, it } from 'vitest';
import { physicalCoresFromCpuinfo } from '../../src/config.js';
import { meminfoBytes } from '../../src/metrics/system-sampler.js';

const linux = process.platform === 'linux';

describe('/proc readers', () => {
  it('count distinct (physical id, core id) pairs: hyperthreads are one core, sockets add up', () => {
    const cpu = (physical: number, core: number): string => `processor\t: x\nphysical id\t: ${physical}\ncore id\t\t: ${core}\n\n`;
    expect(physicalCoresFromCpuinfo(cpu(0, 0) + cpu(0, 1) + cpu(0, 0) + cpu(0, 1))).toBe(2);
    expect(physicalCoresFromCpuinfo(cpu(0, 0) + cpu(1, 0))).toBe(2);
    expect(physicalCoresFromCpuinfo('processor\t: 0\nmodel name\t: arm\n')).toBeNull();
    expect(meminfoBytes('MemTotal:       1000 kB\nMemFree:  5 kB\nMemAvailable:    400 kB\n')).toEqual({ total: 1_024_000, available: 409_600 });
    expect(meminfoBytes('MemTotal: 1000 kB\n')).toBeNull();
  });

  it.runIf(linux)('agree with systeminformation on this machine', async () => {
    expect(physicalCoresFromCpuinfo(readFileSync('/proc/cpuinfo', 'utf8'))).toBe((await si.cpu()).physicalCores);
    const ours = meminfoBytes(readFileSync('/proc/meminfo', 'utf8'))!;
    const theirs = await si.mem();
    expect(ours.total).toBe(theirs.total);
    // Read a moment apart: available memory moves a little between the two reads.
    expect(Math.abs(ours.available - theirs.available)).toBeLessThan(theirs.total * 0.05);
  });
});
