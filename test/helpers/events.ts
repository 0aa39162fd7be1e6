// Test data: seeded random lab events with late, out-of-order and malformed records, cut into batches.
import fc from 'fast-check';

const USERS = ['user_1', 'user_2', 'user_3', 'ü_4'];
const CONTENTS = ['crash', 'CRASH in app', 'app Crash', 'fine', 'vulnerability found', 'no problem', '\\u0063rash escaped', 'cRaSh'];
const SEVERITIES = ['High', 'Critical', 'High', 'Low'];

/** One record: mostly valid events near `baseMs`, some late/out of order, some malformed. */
export const recordArb = (baseMs: number, spreadMs: number): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 12, arbitrary: fc.record({
      timestamp: fc.oneof(
        { weight: 4, arbitrary: fc.integer({ min: baseMs - spreadMs, max: baseMs + spreadMs }) },
        { weight: 1, arbitrary: fc.integer({ min: baseMs - 8 * spreadMs, max: baseMs }) },
      ),
      status: fc.constantFrom('OK', 'ERROR'),
      severity: fc.constantFrom(...SEVERITIES),
      source_ip: fc.constantFrom('192.168.1.1', '192.168.1.2', '192.168.1.3'),
      user_id: fc.constantFrom(...USERS),
      content: fc.constantFrom(...CONTENTS),
    }).map((e) => JSON.stringify(e).replace('\\\\u0063', '\\u0063')) },
    { weight: 1, arbitrary: fc.constantFrom('{"timestamp": "abc", "severity": "High", "content": "crash"}', 'not json crash', '[1,2,3]', '', '{"timestamp":1,"content":"crash"}', '{bad crash') },
  );

/** A stream of batches whose event time drifts forward, so windows complete and some records arrive late. */
export const batchesArb = (baseMs = 1_732_531_200_000): fc.Arbitrary<string[][]> =>
  fc.array(fc.integer({ min: 5_000, max: 30_000 }), { minLength: 2, maxLength: 7 }).chain((drifts) => {
    let t = baseMs;
    return fc.tuple(
      ...drifts.map((d) => {
        t += d;
        return fc.array(recordArb(t, 8_000), { minLength: 0, maxLength: 150, size: 'max' });
      }),
    );
  });
