// Error codes: one checked list; who is at fault decides the exit code; a broker's answer keeps Kafka's name for it.
import { describe, expect, it } from 'vitest';
import { KindlingError, UsageError, type ErrorCode } from '../../src/errors.js';
import { kafkaError } from '../../src/source/kafka-protocol.js';

describe('KindlingError', () => {
  it('is internal and not retriable unless told otherwise', () => {
    const e = new KindlingError('WORKER_DIED', 'worker 1 died');
    expect({ code: e.code, domain: e.domain, retriable: e.retriable }).toEqual({ code: 'WORKER_DIED', domain: 'internal', retriable: false });
  });

  it('makes a usage error a user error (exit code 2)', () => {
    const e = new UsageError('--cores must be an integer >= 1');
    expect({ code: e.code, domain: e.domain }).toEqual({ code: 'USAGE', domain: 'user' });
  });

  it('does not compile with a code outside the list', () => {
    const misspelled = (): KindlingError =>
      // @ts-expect-error: 'WORKER_DEAD' is not an ErrorCode (the type test: tsc -p tsconfig.test.json fails if this compiles)
      new KindlingError('WORKER_DEAD', 'x');
    const known: ErrorCode = 'CHECKPOINT_IN_USE';
    expect(typeof misspelled).toBe('function');
    expect(known).toBe('CHECKPOINT_IN_USE');
  });
});

describe('kafkaError', () => {
  // Codes and names from Kafka's protocol guide (kafka.apache.org/protocol#protocol_error_codes).
  it.each([
    { answer: 6, code: 'KAFKA_NOT_LEADER_OR_FOLLOWER', retriable: true },
    { answer: 3, code: 'KAFKA_UNKNOWN_TOPIC_OR_PARTITION', retriable: true },
    { answer: 29, code: 'KAFKA_TOPIC_AUTHORIZATION_FAILED', retriable: false },
    { answer: 9999, code: 'KAFKA_9999', retriable: false },
  ])('names broker answer $answer $code', ({ answer, code, retriable }) => {
    const e = kafkaError(answer, 'fetch of logs-0');
    expect({ code: e.code, domain: e.domain, retriable: e.retriable }).toEqual({ code, domain: 'external', retriable });
    expect(e.message).toContain('fetch of logs-0: broker answered');
  });
});
