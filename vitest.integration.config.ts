import { defineConfig } from 'vitest/config';

// Tests that need a local service beyond Temporal (PostgreSQL, Alertmanager, moto). Their setup
// starts the service on loopback, and fails saying what to install when it cannot.
export default defineConfig({
  test: {
    pool: 'forks',
    include: ['test/integration/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    maxWorkers: 1,
  },
});
