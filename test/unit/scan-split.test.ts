// Kafka values (records with explicit ends) through the SIMD kernel: the same result as scanning every value's text.
import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scanRecordBytes } from '../../src/engine/scan-split.js';
import { compileQuery } from '../../src/plan/compile-plan.js';
import { crashAlertsPlan, vulnerabilityByIpPlan } from '../../src/plan/queries.js';

const event = (content: string, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ timestamp: 1_732_531_200_000, status: 'OK', severity: 'High', source_ip: '192.168.1.1', user_id: 'user_1', content, ...extra });

const value = fc.oneof(
  fc.constant(event('all quiet')),
  fc.constant(event('app CRASHED twice')),
  fc.constant(event('vulnerability found')),
  fc.constant(event('cr\\u0061sh')),
  fc.constant(event('crash café')),
  fc.constant(''),
  fc.constant('not json'),
  fc.constant('{"content": "a\ncrash"}'),
  fc.constant('cra'),
  fc.constant('sh'),
  fc.string({ maxLength: 20 }),
);

describe('scanRecordBytes with record ends', () => {
  for (const [name, plan] of [['crash-alerts', crashAlertsPlan], ['vulnerability-by-ip', vulnerabilityByIpPlan]] as const) {
    it(`skips, parses and names records as the per-value scan does (${name})`, () => {
      const query = compileQuery(plan, { maxRecordChars: 1 << 20, maxSamples: 100 });
      fc.assert(
        fc.property(fc.array(value, { maxLength: 40 }), (values) => {
          const parts = values.map((v) => Buffer.from(v, 'utf8'));
          const ends = new Uint32Array(parts.length);
          let at = 0;
          parts.forEach((p, i) => (ends[i] = at += p.length));
          const viaKernel = scanRecordBytes(query, Buffer.concat(parts), ends);
          expect(viaKernel).toEqual(query.scan(values));
        }),
        { numRuns: 300 },
      );
    });
  }
});
