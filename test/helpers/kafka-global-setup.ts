// vitest globalSetup: gives the tests a Kafka broker (KAFKA_BROKERS, or a local one it starts) or a reason to skip.

import type { TestProject } from 'vitest/node';
import { Kafka, logLevel } from 'kafkajs';
import { KafkaToolchainError, startBroker, type KafkaBroker } from '../../src/kafka/broker.js';
import { parseBrokerList } from '../../src/source/kafka-address.js';

/** What this setup provides to test files through vitest's `inject()`. */
export interface KafkaProvidedContext {
  /** Bootstrap string (e.g. `127.0.0.1:40123`), or '' when no broker is available. */
  kafkaBrokers: string;
  /** Why there is no broker, or '' when there is one. */
  kafkaSkipReason: string;
}

declare module 'vitest' {
  export interface ProvidedContext extends KafkaProvidedContext {}
}

const HOW_TO_ENABLE =
  'install a JDK 17+ and Maven (Debian/Ubuntu: apt-get install -y openjdk-17-jdk-headless maven), ' +
  'or set KAFKA_BROKERS to a running broker (npm run kafka starts one on 127.0.0.1:9092)';

/**
 * Starts (or finds) the broker once for the whole run and returns the teardown that stops it.
 *
 * Order: `KAFKA_BROKERS` if set (checked with describeCluster); else, unless `KINDLING_SKIP_KAFKA=1`,
 * a fresh broker on a free port with a temporary data folder. Without a broker it prints one loud
 * line and the Kafka tests skip, unless `KINDLING_REQUIRE_KAFKA=1`, which makes the run fail.
 * Set `KINDLING_KAFKA_VERBOSE=1` to see the broker's own output.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const required = process.env['KINDLING_REQUIRE_KAFKA'] === '1';
  const verbose = process.env['KINDLING_KAFKA_VERBOSE'] === '1';
  const fromEnv = process.env['KAFKA_BROKERS']?.trim();
  let broker: KafkaBroker | undefined;
  let brokers = '';
  let reason = '';

  if (fromEnv) {
    try {
      await describeCluster(fromEnv);
      brokers = fromEnv;
      console.log(`[kindling] Kafka tests use KAFKA_BROKERS=${fromEnv}`);
    } catch (err) {
      reason = `KAFKA_BROKERS=${fromEnv} is set but did not answer (${firstLine(err)})`;
    }
  } else if (process.env['KINDLING_SKIP_KAFKA'] === '1' && !required) {
    reason = 'KINDLING_SKIP_KAFKA=1 is set';
  } else {
    try {
      broker = await startBroker({
        port: 0,
        ...(verbose ? { log: (line: string) => console.log(`[kafka] ${line}`) } : {}),
      });
      brokers = broker.brokers;
      const t = broker.timings;
      console.log(
        `[kindling] Kafka ${broker.version} broker for the tests on ${brokers}, ready in ${(t.totalMs / 1000).toFixed(1)} s` +
          (t.jarsMs > 2000 ? ` (of which ${(t.jarsMs / 1000).toFixed(1)} s fetching jars)` : ''),
      );
    } catch (err) {
      reason = `no Kafka broker could be started: ${err instanceof KafkaToolchainError ? err.problem : firstLine(err)}`;
      if (required) console.error(err instanceof Error ? err.message : String(err));
    }
  }

  if (!brokers) {
    if (required) {
      throw new Error(`KINDLING_REQUIRE_KAFKA=1, but ${reason.replace(/\.$/, '')}. To get a broker, ${HOW_TO_ENABLE}.`);
    }
    console.warn(`\n!!! [kindling] KAFKA TESTS SKIPPED: ${reason.replace(/\.$/, '')}. To run them, ${HOW_TO_ENABLE}.\n`);
  } else {
    process.env['KAFKA_BROKERS'] = brokers;
  }
  project.provide('kafkaBrokers', brokers);
  project.provide('kafkaSkipReason', reason);

  return async () => {
    await broker?.stop();
  };
}

async function describeCluster(brokers: string): Promise<void> {
  const admin = new Kafka({
    clientId: 'kindling-test-setup',
    brokers: parseBrokerList(brokers, 'the Kafka test setup'),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3000,
    requestTimeout: 10_000,
    retry: { retries: 2 },
  }).admin();
  try {
    await admin.connect();
    await admin.describeCluster();
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0] ?? msg;
}
