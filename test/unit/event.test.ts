// Every kind of bad record is rejected with a reason; good ones parse into Events.
import { describe, expect, it } from 'vitest';
import { parseEvent } from '../../src/query/event.js';

const good = { timestamp: 1_732_531_200_123, status: 'OK', severity: 'High', source_ip: '192.168.1.23', user_id: 'user_1042', content: 'app crash' };

describe('parseEvent', () => {
  it('parses a lab event', () => {
    const r = parseEvent(JSON.stringify(good));
    expect(r).toEqual({ ok: true, event: good });
  });

  it('accepts JSON escapes and surrounding whitespace', () => {
    const r = parseEvent(`  ${JSON.stringify(good).replace('app crash', '\\u0061pp cr\\u0061sh')}  `);
    expect(r.ok && r.event.content).toBe('app crash');
  });

  it.each([
    { name: 'an empty line', text: '', reason: 'empty record' },
    { name: 'blank spaces', text: '   ', reason: 'empty record' },
    { name: 'malformed JSON', text: '{"timestamp": 1,', reason: 'malformed JSON' },
    { name: 'an array', text: '[1,2]', reason: 'not a JSON object' },
    { name: 'a number', text: '42', reason: 'not a JSON object' },
    { name: 'null', text: 'null', reason: 'not a JSON object' },
    { name: 'a missing timestamp', text: JSON.stringify({ ...good, timestamp: undefined }), reason: 'missing field "timestamp"' },
    { name: 'a string timestamp', text: JSON.stringify({ ...good, timestamp: 'abc' }), reason: '"timestamp" must be an integer' },
    { name: 'a numeric-string timestamp', text: JSON.stringify({ ...good, timestamp: '1732531200123' }), reason: '"timestamp" must be an integer' },
    { name: 'a fractional timestamp', text: JSON.stringify({ ...good, timestamp: 1.5 }), reason: '"timestamp" must be an integer' },
    { name: 'a missing user_id', text: JSON.stringify({ ...good, user_id: undefined }), reason: 'missing field "user_id"' },
    { name: 'a numeric user_id', text: JSON.stringify({ ...good, user_id: 1042 }), reason: '"user_id" must be a string' },
    { name: 'a null content', text: JSON.stringify({ ...good, content: null }), reason: '"content" must be a string' },
    { name: 'an object severity', text: JSON.stringify({ ...good, severity: { level: 'High' } }), reason: '"severity" must be a string' },
  ])('rejects $name', ({ text, reason }) => {
    const r = parseEvent(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain(reason);
  });
});
