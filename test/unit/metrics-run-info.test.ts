// The Config page's data: settings flattened to dotted names, the query described, nothing else copied in.
import { describe, expect, it } from 'vitest';
import { describeRun, flattenSettings } from '../../src/metrics/run-info.js';
import { crashAlertsPlan } from '../../src/plan/queries.js';

describe('flattenSettings', () => {
  it.each([
    [{ cores: 2, drain: false }, { cores: 2, drain: false }],
    [{ source: { kind: 'generator', spec: { seed: 42 } } }, { 'source.kind': 'generator', 'source.spec.seed': 42 }],
    [{ sinks: [] }, { sinks: 'none' }],
    [{ sinks: [{ kind: 'console' }, { kind: 'jsonl', dir: 'out' }] }, { 'sinks[0].kind': 'console', 'sinks[1].kind': 'jsonl', 'sinks[1].dir': 'out' }],
    [{ tags: ['a', 'b'], ui: null }, { tags: 'a, b', ui: null }],
  ])('%j flattens to %j', (value, flat) => {
    expect(flattenSettings(value)).toEqual(flat);
  });
});

describe('describeRun', () => {
  it('takes only the ids from the object that carries them (the coordinator), and describes the query', () => {
    const coordinatorLike = { id: 'q', runId: 'r', pool: { huge: true }, listeners: [] };
    const d = describeRun({ cores: 2 }, crashAlertsPlan, 'generator', coordinatorLike);
    expect(Object.keys(d).sort()).toEqual(['id', 'machine', 'query', 'runId', 'settings', 'source', 'startedAt']);
    expect(d.settings).toEqual({ cores: 2, outputMode: 'append' });
    expect(d.query).toMatchObject({ name: 'crash-alerts', outputMode: 'append', window: { sizeMs: 10_000, slideMs: 10_000 }, watermarkDelayMs: 30_000 });
    expect(d.query.plan).toContain("Aggregate [window(event_time, '10 seconds'), user_id], [count(1) AS crash_count]");
    expect(d.query.execution).toContain("pre-check: 'crash'");
  });
});
