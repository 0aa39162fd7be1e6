// The engine bench's table: CPUs busy per row and the scaling ceiling it prints under the targets.
import { describe, expect, it } from 'vitest';
import { engineTable, type EngineBenchReport, type EngineBenchRow } from '../../bench/engine.js';

/** A row as the bench builds it, from the figures that matter here. */
function row(name: string, cores: number, eventsPerSecond: number, cpuNsPerEvent: number, warmEventsPerSecond: number, warmCpuNsPerEvent: number): EngineBenchRow {
  const pass = { records: 3_000_000, rowsDigest: 'd', lastBatchDigest: 'l', batchLatencyP50Ms: 1, batchLatencyP99Ms: 2, mainThreadShare: 0.1 };
  return {
    name,
    cores,
    ...pass,
    elapsedMs: (3_000_000 / eventsPerSecond) * 1000,
    eventsPerSecond,
    cpuNsPerEvent,
    rows: 1,
    peakRssMb: 100,
    warm: { ...pass, eventsPerSecond: warmEventsPerSecond, cpuNsPerEvent: warmCpuNsPerEvent },
    ratioToBaseline: 1,
    ofFloor: 0.1,
    warmRatioToBaseline: 1,
    warmOfFloor: 0.1,
  };
}

const floorVariant = { name: 'kernel', elapsedMs: 100, lines: 3_000_000, termHits: 1, bytes: 1, eventsPerSecond: 20_000_000, gigabytesPerSecond: 3 };

describe('engineTable', () => {
  const report: EngineBenchReport = {
    floor: { term: 'crash', variants: [floorVariant], best: floorVariant },
    machineCpus: 2,
    rounds: 3,
    rows: [
      row('inline, 1 thread (baseline)', 1, 6_000_000, 200, 7_000_000, 180),
      // 5M events/s x 250 ns = 1.25 CPUs busy; warm 8M x 125 ns = 1.00.
      row('engine --cores 1 --partitions 1', 1, 5_000_000, 250, 8_000_000, 125),
      // 8M x 200 ns = 1.60 CPUs busy; warm 12M x 150 ns = 1.80.
      row('engine --cores 2 --partitions 2', 2, 8_000_000, 200, 12_000_000, 150),
      row('engine --cores 2 --partitions 200', 2, 7_000_000, 220, 11_000_000, 160),
    ],
    threeGroups: [],
  };

  it('gives each row the CPUs it kept busy (CPU time over wall time), in both passes', () => {
    const table = engineTable(report);
    expect(table).toContain('each configuration the median of 3 interleaved rounds');
    expect(table).toMatch(/^\| engine --cores 1 --partitions 1 \| 5,000,000 \| [^|]+\| [^|]+\| 250 \| 1\.25 \|/m);
    expect(table).toMatch(/^\| engine --cores 2 --partitions 2 \| 12,000,000 \| [^|]+\| [^|]+\| 150 \| 1\.80 \|/m);
  });

  it('states the ceiling: the machine\'s CPUs over what --cores 1 keeps busy', () => {
    const table = engineTable(report);
    expect(table).toContain('Scaling ceiling on this 2-CPU machine: --cores 1 keeps 1.25 CPUs busy (warm 1.00), so at the same CPU per event --cores 2 can be at most 1.60x --cores 1 (warm 2.00x); --cores 2 kept 1.60 busy (warm 1.80).');
  });

  it('prints no ceiling for a saved report that does not know the machine', () => {
    const { machineCpus: _, ...older } = report;
    expect(engineTable(older)).not.toContain('Scaling ceiling');
  });
});
