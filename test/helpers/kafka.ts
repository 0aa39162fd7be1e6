// Small helpers for tests that talk to the real Kafka broker provided by kafka-global-setup.ts.

import { randomBytes } from 'node:crypto';
import { describe, inject } from 'vitest';
import { Kafka, logLevel, type KafkaConfig } from 'kafkajs';
import { waitFor } from '../../src/kafka/wait.js';
import { parseBrokerList } from '../../src/source/kafka-address.js';
import type { KafkaProvidedContext } from './kafka-global-setup.js';

export { waitFor };

/** Where the Kafka tests stand: a bootstrap string, or why they skip. */
export interface KafkaTestEnv {
  /** Bootstrap string, or undefined when there is no broker. */
  brokers: string | undefined;
  /** Why there is no broker (undefined when there is one). */
  skipReason: string | undefined;
}

/**
 * Reads what the global setup provided; only when it did not run (a config without it) falls back
 * to `KAFKA_BROKERS` in the environment. Throws instead of skipping under `KINDLING_REQUIRE_KAFKA=1`.
 */
export function kafkaTestEnv(): KafkaTestEnv {
  const provided = safeInject('kafkaBrokers');
  const brokers = provided === undefined ? process.env['KAFKA_BROKERS']?.trim() || undefined : provided || undefined;
  if (brokers) return { brokers, skipReason: undefined };
  const skipReason =
    safeInject('kafkaSkipReason') || 'no Kafka broker (the Kafka global setup did not run and KAFKA_BROKERS is unset)';
  if (process.env['KINDLING_REQUIRE_KAFKA'] === '1') {
    throw new Error(`KINDLING_REQUIRE_KAFKA=1 but there is no Kafka broker: ${skipReason}`);
  }
  return { brokers: undefined, skipReason };
}

function safeInject<K extends keyof KafkaProvidedContext>(key: K): string | undefined {
  try {
    return inject(key) as string | undefined;
  } catch {
    return undefined;
  }
}

/**
 * `describe` for suites that need the broker: skipped, with the reason in its name, when there is
 * none (hooks included). Inside, `brokers` is the bootstrap string.
 */
export function describeKafka(name: string, fn: (brokers: string) => void): void {
  const env = kafkaTestEnv();
  if (env.brokers) {
    const brokers = env.brokers;
    describe(name, () => fn(brokers));
  } else {
    describe.skip(`${name} [skipped: ${env.skipReason}]`, () => fn(''));
  }
}

/** A name no other test (or earlier run against the same broker) uses: `<prefix>-<time>-<random>`. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/** A kafkajs client for tests: quiet (errors only), short timeouts, a unique client id. */
export function kafkaClient(brokers: string, config: Partial<KafkaConfig> = {}): Kafka {
  return new Kafka({
    clientId: uniqueName('kindling-test'),
    brokers: parseBrokerList(brokers, 'the Kafka test setup'),
    logLevel: logLevel.ERROR,
    connectionTimeout: 3000,
    requestTimeout: 15_000,
    ...config,
  });
}

/**
 * Creates a topic (2 partitions by default) and waits until every partition has a leader, so the
 * first produce does not race the controller.
 */
export async function createTopic(
  brokers: string,
  topic: string,
  opts: { partitions?: number; timeoutMs?: number } = {},
): Promise<void> {
  const partitions = opts.partitions ?? 2;
  const admin = kafkaClient(brokers).admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true });
    await waitFor(
      async () => {
        const meta = await admin.fetchTopicMetadata({ topics: [topic] });
        const parts = meta.topics[0]?.partitions ?? [];
        return parts.length === partitions && parts.every((p) => p.leader >= 0);
      },
      { timeoutMs: opts.timeoutMs ?? 30_000, intervalMs: 100, what: `leaders for the ${partitions} partitions of ${topic}` },
    );
  } finally {
    await admin.disconnect();
  }
}
