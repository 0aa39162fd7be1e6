// The one-sentence bottleneck reading of a batch: which phase, and whether work, overhead or skew dominates.
import { describe, expect, it } from 'vitest';
import { describeStage, diagnoseBatch, formatMs, stageStats } from '../../src/metrics/bottleneck.js';
import { record, task } from './metrics-fixture.js';

const tiny = Array.from({ length: 200 }, (_, i) => task(2, i, i % 2, 0.02, 3));

describe('diagnoseBatch', () => {
  it.each([
    {
      name: '200 tiny stage-2 tasks are overhead',
      spec: { durationMs: { scan: 2, stateful: 10 }, tasks: [task(1, 0, 0, 1.5), task(1, 1, 1, 1.5), ...tiny] },
      phase: 'stateful',
      verdict: 'overhead',
      sentence: /^stage 2 \(stateful\) takes 83% of this 12.0 ms batch: 200 tasks of 0.02 ms — overhead dominates/,
    },
    {
      name: 'long scans with busy workers are the work itself',
      spec: { durationMs: { scan: 100, stateful: 2 }, tasks: [task(1, 0, 0, 95), task(1, 1, 1, 94)] },
      phase: 'scan',
      verdict: 'work',
      sentence: /^stage 1 \(scan\) takes 98% of this 102 ms batch: 2 tasks of 94.5 ms — the work itself dominates/,
    },
    {
      name: 'one worker doing most of stage 2 is skew',
      spec: { durationMs: { scan: 1, stateful: 50 }, tasks: [task(2, 0, 0, 48, 9000), task(2, 1, 1, 4, 800)] },
      phase: 'stateful',
      verdict: 'skew',
      sentence: /skew: worker 0 works 1.8x the average/,
    },
    {
      name: 'a slow sink is named with its rows',
      spec: { durationMs: { scan: 5, sink: 40 }, numOutputRows: 1234, tasks: [task(1, 0, 0, 4.5)] },
      phase: 'sink',
      verdict: 'sink',
      sentence: /^sink takes 89% of this 45.0 ms batch: writing 1,234 rows to console$/,
    },
    {
      name: 'a long merge is main-thread work',
      spec: { durationMs: { scan: 5, merge: 30 }, mainThreadUtilisation: 0.9, tasks: [task(1, 0, 0, 4.5)] },
      phase: 'merge',
      verdict: 'main-thread',
      sentence: /main thread \(busy 90% since the last batch\)/,
    },
    {
      name: 'a no-data batch only moves the watermark',
      spec: { noDataBatch: true, numInputRows: 0, durationMs: { stateful: 0.4 } },
      phase: null,
      verdict: 'idle',
      sentence: /^no-data batch/,
    },
    {
      name: 'the --drain batch forces the open windows out',
      spec: { noDataBatch: true, drained: true, numInputRows: 0, numOutputRows: 16, durationMs: { stateful: 2, sink: 0.2 } },
      phase: null,
      verdict: 'idle',
      sentence: /^drain batch: no input; every open window forced out as 16 rows \(2.2 ms\)$/,
    },
    {
      name: 'a source phase that is mostly a wait for records is the engine keeping up, not slow reading',
      spec: { durationMs: { source: 42, scan: 3, stateful: 1 }, inputWaitMs: 40, tasks: [task(1, 0, 0, 2.5)] },
      phase: 'source',
      verdict: 'source',
      sentence: /^source takes 91% of this 46.0 ms batch: 40.0 ms of it waiting for input to arrive — the engine keeps up with its input$/,
    },
  ])('$name', ({ spec, phase, verdict, sentence }) => {
    const d = diagnoseBatch(record(spec));
    expect(d.phase).toBe(phase);
    expect(d.verdict).toBe(verdict);
    expect(d.sentence).toMatch(sentence);
  });
});

describe('stageStats', () => {
  it('sums task time, finds the busiest worker and measures how busy the stage kept the workers', () => {
    const p = record({ durationMs: { scan: 10 }, tasks: [task(1, 0, 0, 6, 5000, 0, 0.5), task(1, 1, 1, 2, 1000, 0, 1.5), task(1, 2, 0, 2, 1000, 0, 1)] });
    const s = stageStats(p, 1);
    expect(s).toMatchObject({ stage: 1, tasks: 3, taskMs: 10, maxTaskMs: 6, rows: 7000, maxRows: 5000, wallMs: 10, busiestWorkerId: 0 });
    expect(s.meanQueueWaitMs).toBeCloseTo(1);
    expect(s.busyShare).toBeCloseTo(10 / (10 * 2));
    expect(s.workerImbalance).toBeCloseTo(8 / 5);
  });

  it('reads a stage without tasks but with wall time as overhead', () => {
    expect(describeStage(stageStats(record({ durationMs: { stateful: 3 } }), 2), 2)).toMatchObject({ verdict: 'overhead' });
    expect(describeStage(stageStats(record({}), 2), 2)).toMatchObject({ verdict: 'idle' });
  });

  it('calls uneven stage-1 work "uneven splits", not key skew', () => {
    const s = stageStats(record({ durationMs: { scan: 10 }, tasks: [task(1, 0, 0, 9), task(1, 1, 1, 3)] }), 1);
    expect(describeStage(s, 2).detail).toMatch(/uneven splits: worker 0/);
  });
});

describe('formatMs', () => {
  it.each([
    [0, '0.00 ms'],
    [0.004, '0.004 ms'],
    [0.021, '0.02 ms'],
    [3.4, '3.4 ms'],
    [12.34, '12.3 ms'],
    [172.4, '172 ms'],
  ])('formats %s as %s', (ms, text) => {
    expect(formatMs(ms)).toBe(text);
  });
});

describe('describeStage with fewer tasks than workers', () => {
  it('says workers sat idle rather than calling one long task overhead', () => {
    const s = stageStats(record({ durationMs: { scan: 100 }, tasks: [task(1, 0, 1, 90)] }), 1);
    expect(s.busyShare).toBeCloseTo(0.45);
    expect(describeStage(s, 2)).toMatchObject({ verdict: 'few-tasks', detail: '1 task of 90.0 ms for 2 workers — 1 worker had nothing to do (more, smaller splits would use them)' });
  });
});
