// vitest settings: three projects, so a run starts only what its tests need (the Kafka broker only for the Kafka tests).

import { defineConfig } from 'vitest/config';

/** Tests that talk to a real Kafka broker are named test/integration/kafka-*.test.ts. */
const KAFKA_TESTS = 'test/integration/kafka-*.test.ts';

export default defineConfig({
  test: {
    testTimeout: 60_000,
    // The Kafka global setup may fetch the broker's jars (first run) and start the JVM.
    hookTimeout: 180_000,
    pool: 'forks',
    // The default report, then every skipped suite with its reason (a skipped browser or Kafka suite is easy to miss).
    reporters: ['default', './test/helpers/skipped-summary.ts'],
    projects: [
      // Pure logic (and a worker pool or two): no broker, no browser.
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      // The CLI, checkpoints, crash drill, equivalence, UI: real processes, threads, files and a browser.
      { extends: true, test: { name: 'integration', include: ['test/integration/**/*.test.ts'], exclude: [KAFKA_TESTS] } },
      // The global setup starts one broker (or uses KAFKA_BROKERS) for all of these, and only when they run.
      { extends: true, test: { name: 'kafka', include: [KAFKA_TESTS], globalSetup: ['test/helpers/kafka-global-setup.ts'] } },
    ],
  },
});
