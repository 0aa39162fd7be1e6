// The traced replay on a hand-built stream where every fate occurs, each claim checked against the oracle's own output.
import { describe, expect, it } from 'vitest';
import { rowToJson } from '../../src/plan/output.js';
import { crashAlertsPlan } from '../../src/plan/queries.js';
import { runPlanReference } from '../../src/plan/reference.js';
import { closingSentence, explainText } from '../../src/replay/explain-text.js';
import { analyzed, traceReplay, type RecordFate, type ReplayBatch } from '../../src/replay/trace.js';

const T0 = Date.parse('2024-11-25T10:40:00Z');
const at = (s: number): number => T0 + Math.round(s * 1000);
const event = (user: string, s: number, over: Record<string, unknown> = {}): string =>
  JSON.stringify({ timestamp: at(s), status: 'OK', severity: 'Critical', source_ip: '192.168.1.9', user_id: user, content: 'App CRASH', ...over });

/*
 * u: [10:40:00, 10:40:10) gets 2 crashes (HAVING > 2 one short) and three records a filter drops
 *    (severity Medium, content without "crash", severity missing); [10:40:10, 10:40:20) gets one in
 *    batch 0 and one in batch 2 that is late by 1 ms (W(1) = 10:40:20.001); [10:41:00, 10:41:10)
 *    is still open when the input ends.
 * e: 3 crashes in [10:40:00, 10:40:10): emitted in batch 1.
 * v: one crash at 10:40:50.001 moves the watermark to 10:40:20.001 after batch 0.
 * o: 3 crashes in [10:41:00, 10:41:10), open when the input ends: --drain forces it out.
 */
const BATCHES: string[][] = [
  [
    event('u', 1),
    event('u', 2, { severity: 'Medium' }),
    event('u', 3, { content: 'all fine' }),
    JSON.stringify({ timestamp: at(4), status: 'OK', source_ip: '192.168.1.9', user_id: 'u', content: 'crash' }),
    event('u', 5),
    event('u', 12),
    event('e', 1),
    event('e', 2),
    event('e', 3),
    event('v', 50.001),
  ],
  [],
  [event('u', 19.999), event('u', 60), event('o', 61), event('o', 62), event('o', 63)],
];

const replayBatches = (batches: string[][]): ReplayBatch[] => batches.map((records, b) => ({ records, position: (i) => `input-${b} line ${i + 1}` }));
const SEVERITY = "(severity IN ('High', 'Critical'))";
const kinds = (fates: readonly RecordFate[]): string[] => fates.map((f) => f.kind);
const columns = analyzed(crashAlertsPlan).columns;

describe('traceReplay', () => {
  const oracle = runPlanReference(crashAlertsPlan, BATCHES);
  const oracleRows = oracle.batches.map((b) => b.rows.map((r) => rowToJson(r, columns)));
  const trace = traceReplay(crashAlertsPlan, replayBatches(BATCHES), { key: 'u' });

  it('names the predicate a filtered record failed, and a null field', () => {
    const fates = trace.records.map((r) => r.fates[0]!);
    expect(trace.records.map((r) => r.position)).toEqual(['input-0 line 1', 'input-0 line 2', 'input-0 line 3', 'input-0 line 4', 'input-0 line 5', 'input-0 line 6', 'input-2 line 1', 'input-2 line 2']);
    expect(trace.records[7]!.fates[0]).toMatchObject({ kind: 'counted', window: { startMs: at(60), endMs: at(70) } });
    expect(fates[1]).toMatchObject({ kind: 'filtered', predicate: SEVERITY, result: false, values: { severity: 'Medium' }, nullFields: [] });
    expect(fates[2]).toMatchObject({ kind: 'filtered', predicate: "contains(lower(content), 'crash')", result: false, values: { content: 'all fine' } });
    expect(fates[3]).toMatchObject({ kind: 'filtered', predicate: SEVERITY, result: null, nullFields: ['severity'] });
    expect(trace.records[3]!.eventTimeMs).toBe(at(4));
  });

  it('counts with running counts, and finds the late record by 1 ms behind W(N-1)', () => {
    expect(trace.records.map((r) => kinds(r.fates))).toEqual([['counted'], ['filtered'], ['filtered'], ['filtered'], ['counted'], ['counted'], ['late'], ['counted']]);
    expect(trace.records[4]!.fates[0]).toMatchObject({ kind: 'counted', batchId: 0, aggregates: { crash_count: 2 }, window: { startMs: at(0), endMs: at(10) } });
    expect(trace.records[6]!.fates[0]).toEqual({ kind: 'late', window: { startMs: at(10), endMs: at(20) }, batchId: 2, lateWatermarkMs: at(20.001), byMs: 1 });
    // The oracle drops exactly that one row in batch 2, and batch 2's late watermark is the eviction watermark of batch 1.
    expect(oracle.batches[2]!.lateRows).toBe(1);
    expect(oracle.batches[1]!.watermarkMs).toBe(at(20.001));
  });

  it('gives each window its outcome, as the oracle output shows it', () => {
    const [w0, w10, w60] = trace.windows;
    expect(trace.windows.map((w) => w.outcome.kind)).toEqual(['having-false', 'having-false', 'open']);
    expect(w0!.outcome).toMatchObject({ batchId: 1, having: { predicate: '(crash_count > 2)', result: false, values: { crash_count: 2 } } });
    // The record without "crash" is no near miss: the filter's first condition dropped it.
    expect(w0!.filtered).toEqual({ [SEVERITY]: 2 });
    expect(w0!.watermarkPassed).toEqual({ batchId: 1, watermarkMs: at(20.001) });
    expect(w10!.counted).toBe(1);
    expect(w10!.late).toBe(1);
    expect(w60!.outcome).toEqual({ kind: 'open', watermarkMs: oracle.finalWatermarkMs });
    // The oracle never outputs a row for u.
    expect(oracleRows.flat().filter((r) => r.includes('"user_id":"u"'))).toEqual([]);
    // The trace's batches carry the oracle's rows.
    expect(trace.batches.map((b) => b.rows)).toEqual(oracleRows);
  });

  it('traces an emitted window with the row the oracle emitted, and a drained one as forced', () => {
    const e = traceReplay(crashAlertsPlan, replayBatches(BATCHES), { key: 'e' });
    expect(e.windows).toHaveLength(1);
    const outcome = e.windows[0]!.outcome;
    expect(outcome.kind).toBe('emitted');
    if (outcome.kind !== 'emitted') return;
    expect(oracleRows[outcome.batchId]).toContain(JSON.stringify(outcome.row));
    expect(closingSentence(e)).toBe(`e has a row in [10:40:00.000, 10:40:10.000): emitted in batch 1 with crash_count = 3 (3 counted)`);

    const drained = runPlanReference(crashAlertsPlan, BATCHES, { drain: true });
    const o = traceReplay(crashAlertsPlan, replayBatches(BATCHES), { key: 'o' }, { drain: true });
    const forced = o.windows[0]!.outcome;
    expect(forced).toMatchObject({ kind: 'emitted', forced: true });
    if (forced.kind !== 'emitted') return;
    expect(drained.batches[forced.batchId]!.rows.map((r) => rowToJson(r, columns))).toContain(JSON.stringify(forced.row));
  });

  it('answers for one window in one sentence: counted, late, HAVING', () => {
    const one = traceReplay(crashAlertsPlan, replayBatches(BATCHES), { key: 'u', windowMs: at(10) });
    expect(one.records).toHaveLength(2);
    expect(closingSentence(one)).toBe(
      "no row for u in [10:40:10.000, 10:40:20.000): 1 counted, 1 late (arrived in batch 2, 0.001 s after the watermark passed the window's end); in batch 1 HAVING (crash_count > 2) was false (crash_count = 1)",
    );
    const text = explainText(one, 'explain u');
    expect(text).toContain('late in [10:40:10.000, 10:40:20.000): arrived in batch 2, window end 10:40:20.000 <= watermark W(1) = 10:40:20.001 (by 0.001 s)');
  });

  it('explains as of a batch (--batch): what came after it is left out', () => {
    const asOf0 = traceReplay(crashAlertsPlan, replayBatches(BATCHES), { key: 'u' }, { untilBatchId: 0 });
    expect(asOf0.records.every((r) => r.batchId === 0)).toBe(true);
    expect(asOf0.batches.map((b) => b.batchId)).toEqual([0]);
    // After batch 0 both windows are still in state, with the counts the full trace shows for batch 0.
    expect(asOf0.windows.map((w) => [w.outcome, w.counts])).toEqual(trace.windows.slice(0, 2).map((w) => [{ kind: 'open', watermarkMs: at(20.001) }, w.counts.filter((c) => c.batchId === 0)]));
    expect(closingSentence(asOf0)).toContain('2 windows');
    expect(explainText(asOf0, '')).toContain('the window is still open after batch 0');
  });

  it('says why a key whose records all missed the filter has no window', () => {
    // Neither is a crash: no near miss, so no window to speak of.
    const filtered = traceReplay(crashAlertsPlan, replayBatches([[event('w', 1, { content: 'fine' }), event('w', 2, { content: 'all good', severity: 'Low' })]]), { key: 'w' });
    expect(filtered.windows).toEqual([]);
    expect(closingSentence(filtered)).toBe("no row for w: none of its 2 record(s) reached a window (2 filtered by contains(lower(content), 'crash'))");
  });

  it('says so when the key has no records', () => {
    const none = traceReplay(crashAlertsPlan, replayBatches(BATCHES), { key: 'nobody' });
    expect(closingSentence(none)).toBe('no record of user_id = nobody in the replayed input (4 batches)');
  });
});
