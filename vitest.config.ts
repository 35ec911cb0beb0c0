import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          chaiConfig: { truncateThreshold: 0 },
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'fuzz',
          // Property-based fuzzing (fast-check) of the DER readers and the policy chain; run counts and
          // seed in test/support/fuzz.ts (CERTFLOW_FUZZ_SCALE, CERTFLOW_FUZZ_SEED). The API bodies are
          // fuzzed in the integration project (test/integration/api-fuzz.test.ts).
          include: ['test/fuzz/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'replay',
          include: ['test/replay/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          // chromium-setup.ts: Debian's chromium for the dashboard's browser test.
          globalSetup: ['test/support/global-setup.ts', 'test/support/chromium-setup.ts'],
          // One file at a time: the files share one Temporal server and one Postgres on 2 cores.
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 600_000,
        },
      },
      {
        test: {
          name: 'external',
          include: ['test/external/**/*.test.ts'],
          // Installs/builds certtool, zlint and SoftHSM2 when missing (scripts/test-tools.ts).
          globalSetup: ['test/support/external-tools.ts'],
          testTimeout: 120_000,
          hookTimeout: 900_000,
        },
      },
      {
        test: {
          name: 'faults',
          include: ['test/faults/**/*.test.ts'],
          // Starts its own Postgres and Temporal dev server (it stops and restarts them); runs after the other projects.
          sequence: { groupOrder: 1 },
          // The test sets its own timeout from its size (CERTFLOW_FAULTS_SIZE).
          testTimeout: 600_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
