import { defineConfig } from 'vitest/config';

/**
 * Two projects, both run by `npm test` (and so by CI): `fast` is the inner loop
 * (`npm run test:fast`); `slow` holds the fault-injection, fuzz and subprocess tests (each spawns
 * Firebreak, the CLI or a Temporal server as a child process, or runs hundreds of property cases),
 * `npm run test:slow`. Measured on the 2-core machine: 13-133 s per slow file, against 0.1-13 s for
 * the others. A new test that spawns a child process belongs in SLOW (so do the lint checks: type-aware ESLint takes ~30 s to load).
 */
const SLOW = [
  'test/faults/**/*.test.ts',
  'test/fuzz/**/*.test.ts',
  'test/app/start.test.ts',
  'test/app/data-dir.test.ts',
  'test/app/port-in-use.test.ts',
  'test/temporal/dev-server.test.ts',
  'test/drills/cli.test.ts',
  'test/cli/playbook.test.ts',
  'test/connectors/audit.test.ts',
  'test/api/decisions.test.ts',
  'test/api/crash-recovery.test.ts',
  'test/lint/**/*.test.ts',
];

export default defineConfig({
  test: {
    pool: 'forks',
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'fast',
          include: ['test/**/*.test.ts'],
          exclude: ['test/integration/**', 'node_modules/**', ...SLOW],
        },
      },
      { extends: true, test: { name: 'slow', include: SLOW } },
    ],
  },
});
