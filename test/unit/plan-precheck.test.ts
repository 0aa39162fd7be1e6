// The byte pre-check derived from a plan's filter never skips a record the full evaluation keeps, and does skip the others.
import { byteKernel } from '../../src/kernel/byte-kernel.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { col, lower, upper, window, count } from '../../src/plan/column.js';
import { compileQuery } from '../../src/plan/compile-plan.js';
import { readStream } from '../../src/plan/dataframe.js';
import { analyzePlan } from '../../src/plan/plan.js';
import { derivePrecheck, precheckAccepts } from '../../src/plan/precheck.js';
import { crashAlertsPlan, LAB_SCHEMA, vulnerabilityByIpPlan } from '../../src/plan/queries.js';

const lab = () => readStream(LAB_SCHEMA).withColumn('event_time', col('timestamp').divide(1000).cast('timestamp'));

describe('derivePrecheck', () => {
  it.each([
    ['crash-alerts', crashAlertsPlan.root, [['crash']]],
    ['vulnerability-by-ip', vulnerabilityByIpPlan.root, [['vulnerability'], ['high']]],
    ['a LIKE pattern gives its longest plain run', lab().filter("content LIKE '%app%crash_loop%'").plan, [['crash']]],
    ['an OR of terms gives any of them', lab().filter("lower(content) LIKE '%crash%' OR upper(content) LIKE '%VULNERABILITY%'").plan, [['crash', 'vulnerability']]],
    ['an OR with a side without a term gives none', lab().filter("lower(content) LIKE '%crash%' OR status = 'ERROR' OR length(content) > 3").plan, []],
    ['a negation gives none', lab().filter("NOT content LIKE '%crash%'").plan, []],
    ['a digit term is not trusted (a number becomes Jackson text)', lab().filter(col('content').contains('1000')).plan, []],
    ['a piece of "Infinity" is not trusted', lab().filter(lower(col('content')).contains('finit')).plan, []],
    ['a computed column gives none', lab().withColumn('c', upper(col('content'))).filter(col('c').contains('CRASH')).plan, []],
    ['a column passed through a projection still gives its term', lab().select('content', 'event_time').filter(col('content').contains('crash')).plan, [['crash']]],
    ['a filter after the watermark that Spark does not push down gives none', lab().withWatermark('event_time', '1 minute').filter(col('event_time').isNotNull().and(col('content').contains('crash'))).plan, []],
    ['a filter after the watermark that Spark pushes down gives its term', lab().withWatermark('event_time', '1 minute').filter(col('content').contains('crash')).plan, [['crash']]],
    ['a HAVING filter gives none', lab().groupBy('content').agg(count('*').alias('n')).filter(col('content').contains('crash')).plan, []],
  ])('%s', (_name, plan, terms) => {
    expect(derivePrecheck(analyzePlan(plan, { ansi: true }))).toEqual(terms);
  });
});

const PIECES = ['crash', 'CRA\u017fH', 'CRASH', 'Crash', 'cr', 'ash', 'vulner', 'ability', 'VULNERABILITY', 'High', 'HIGH', ' ', 'app', '\u212a', 'crash\u0130', 'ß', 'é', '"', '\\', '\n', 'Infinity', '1e7'];
const contentArb = fc.oneof(
  { weight: 6, arbitrary: fc.array(fc.constantFrom(...PIECES), { maxLength: 5 }).map((p) => p.join('')) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 8 }) },
  { weight: 1, arbitrary: fc.oneof(fc.integer(), fc.double(), fc.constant({ a: 'crash' }), fc.constant(['VULNERABILITY', 1])) },
);
/** Records whose text varies the ways the pre-check must survive: escapes, case, non-ASCII, non-string values. */
const recordArb = fc.record({
  timestamp: fc.integer({ min: 1_732_531_200_000, max: 1_732_531_300_000 }),
  severity: fc.constantFrom('High', 'high', 'Critical', 'Low', 'H\\u0069gh'),
  content: contentArb,
  user_id: fc.constantFrom('u1', 'u2'),
}).chain((r) =>
  fc.constantFrom(
    JSON.stringify(r).replace('H\\\\u0069gh', 'H\\u0069gh'),
    JSON.stringify(r).replace(/crash/g, 'cr\\u0061sh'),
    JSON.stringify(r).replace(/"content":/, '"\\u0063ontent":'),
  ),
);

describe('the pre-check never skips a record the full evaluation keeps', () => {
  const plans = [
    ['crash-alerts', crashAlertsPlan],
    ['vulnerability-by-ip', vulnerabilityByIpPlan],
    ['an OR of LIKE terms', lab().filter("lower(content) LIKE '%crash%' OR upper(content) LIKE '%VULNERABILITY%'").toQuery({ name: 'q', outputMode: 'append' })],
    ['a windowed count with a pushed-down filter', lab().withWatermark('event_time', '10 seconds').filter(upper(col('content')).contains('CRASH')).groupBy(window(col('event_time'), '5 seconds')).agg(count('*').alias('n')).toQuery({ name: 'q', outputMode: 'update' })],
  ] as const;
  it.each(plans)('%s', (_name, query) => {
    const compiled = compileQuery(query);
    expect(compiled.precheck.length).toBeGreaterThan(0);
    let skipped = 0;
    fc.assert(
      fc.property(recordArb, (text) => {
        const full = compiled.scan([text], false);
        const kept = full.filteredRows === 0;
        const accepted = precheckAccepts(text, compiled.precheck);
        if (!accepted) skipped++;
        if (kept) expect(accepted).toBe(true);
      }),
      { numRuns: 3000 },
    );
    expect(skipped).toBeGreaterThan(0);
  });
});

describe('scanText and scanBytes (latin1 windows or the byte kernel) find the records to parse with one search over the whole split', () => {
  it.each([
    ['crash-alerts', crashAlertsPlan],
    ['vulnerability-by-ip', vulnerabilityByIpPlan],
  ] as const)('%s: same result as scanning the records one by one, with and without the pre-check, in any window size', (_name, query) => {
    const compiled = compileQuery(query);
    fc.assert(
      fc.property(fc.array(recordArb, { maxLength: 25 }), fc.constantFrom('\n', '\r\n'), fc.boolean(), fc.boolean(), fc.constantFrom(16, 200, 65536), (records, eol, trailing, usePrecheck, windowBytes) => {
        const text = records.join(eol) + (trailing && records.length > 0 ? eol : '');
        const one = compiled.scan(records, usePrecheck);
        // The byte kernel's path (no window size), over bytes copied in and over bytes already in its memory (as a file range is read).
        const inKernel = byteKernel().reserve(Buffer.byteLength(text));
        inKernel.set(Buffer.from(text));
        const kernelRuns = [compiled.scanBytes(Buffer.from(text), usePrecheck), compiled.scanBytes(inKernel, usePrecheck)];
        for (const whole of [compiled.scanText(text, usePrecheck), compiled.scanBytes(Buffer.from(text), usePrecheck, windowBytes), ...kernelRuns]) {
          expect(whole.partial).toEqual(one.partial);
          expect(whole.skippedRecords).toBe(one.skippedRecords);
          expect(whole.counters).toEqual(one.counters);
          expect(whole.filteredRows).toBe(one.filteredRows);
          expect(whole.corruptSamples).toEqual(one.corruptSamples);
        }
      }),
      { numRuns: 500 },
    );
  });
});
