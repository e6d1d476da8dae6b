import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    pool: 'forks',
    include: ['test/**/*.test.ts'],
    exclude: [
      'test/integration/**',
      'node_modules/**',
      // Needs feat/playbooks merged and its interpreter wired to the Slack activities (docs/slack.md).
      'test/slack/approvals.test.ts',
    ],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    maxWorkers: 2,
  },
});
