// vitest settings: which tests run, and the global setup that provides a real Kafka broker.

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/kafka-global-setup.ts'],
    testTimeout: 60_000,
    // The global setup may fetch the broker's jars (first run) and start the JVM.
    hookTimeout: 180_000,
    pool: 'forks',
    // The default report, then every skipped suite with its reason (a skipped browser or Kafka suite is easy to miss).
    reporters: ['default', './test/helpers/skipped-summary.ts'],
  },
});
