/**
 * Reports reach Slack: a drill's after-action digest is posted to its own `#drill-…` channel when
 * the drill ends (the report itself is on disk and in the API either way).
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDrill } from '../../drills/driver';
import { loadScenarioFile } from '../../drills/lint';
import { slackNotifier } from '../../slack/runtime';
import { startSlackStack, type SlackStack } from './setup';

let s: SlackStack;
beforeAll(async () => {
  s = await startSlackStack();
});
afterAll(async () => {
  await s?.close();
});

describe('report digests in Slack', () => {
  it(
    'posts the after-action digest to the drill channel at the end of a drill',
    { timeout: 120_000 },
    async () => {
      const scenario = loadScenarioFile(
        path.join(import.meta.dirname, '..', '..', 'drills', 'agent-credential-leak.yaml'),
      );
      const out = await runDrill({ ...s.stack, slack: slackNotifier(s.stack.config, undefined) }, scenario, {
        auto: true,
        speed: 120,
        tickMs: 50,
      });
      expect(out.passed).toBe(true);
      const digest = s.fake
        .sent('chat.postMessage')
        .find(
          (c) =>
            String(c.args.text).startsWith('*Drill passed:') && String(c.args.text).includes(out.incidentId),
        );
      expect(digest, 'after-action digest posted').toBeDefined();
      expect(String(digest!.args.text)).toMatch(/\d+\/\d+ expectations met/);
      const channel = s.fake
        .sent('conversations.create')
        .find((c) => String(c.args.name).startsWith('drill-'));
      expect(channel, 'a #drill- channel was created').toBeDefined();
      expect(digest!.args.channel).toBe(s.fake.channelByName(String(channel!.args.name))?.id);
    },
  );
});
