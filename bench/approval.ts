/**
 * approval round trip: from a signed Slack `block_actions` POST (an Approve click, exactly as
 * Slack sends it) to the activity of the step behind the approval starting. The playbook is the
 * built-in agent-config-tampering one in drill mode: its `approve_revoke` approval gates the
 * `revoke_credentials` action. Slack is the local fake Web API (test/helpers/fake-slack.ts), so
 * no network is involved. Also reports how long Slack waits for the HTTP ack. Target: p50 < 100 ms.
 */
import { actionRunOf } from '../db/action-runs';
import { loadRef } from '../db/slack-refs';
import { startFakeSlack } from '../test/helpers/fake-slack';
import { SlackClient, TEST_SIGNING_SECRET } from '../test/helpers/slack-requests';
import { percentile, postAlert, report, startBenchStack } from './lib/stack';

const RUNS = Number(process.env.BENCH_APPROVAL_RUNS ?? 20);
const COMMANDER = { id: 'UBENCHIC1', name: 'dana' };

async function until<T>(what: string, read: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

export async function benchApproval() {
  const fake = await startFakeSlack();
  const stack = await startBenchStack({
    drill: true,
    env: {
      SLACK_BOT_TOKEN: 'xoxb-bench-token',
      SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET,
      SLACK_API_URL: fake.apiUrl,
      SLACK_USER_ROLES: JSON.stringify({
        [COMMANDER.id]: { roles: ['incident_commander'], groups: ['S0SECLEADS'] },
      }),
    },
  });
  const slack = new SlackClient(stack.api.url, fake.url);
  const db = stack.services.db;
  try {
    const roundTrip: number[] = [];
    const ack: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const incidentId = await postAlert(stack.api.url, {
        title: 'ops-agent system prompt changed outside change control',
        severity: 'high',
        source: 'config-watch',
        dedup_key: `approval-${Date.now()}-${i}`,
        agent_id: `ops-agent-${i}`,
        labels: { incident_class: 'config_tampering' },
      });
      const ref = await until(`the approval message of ${incidentId}`, () =>
        loadRef(db, incidentId, 'approval:approve_revoke'),
      );
      const message = fake.message(ref.channel, ref.ts)!;
      const button = (
        message.blocks as { block_id?: string; elements?: { action_id: string; value: string }[] }[]
      )
        .find((b) => b.block_id === 'approval_actions')
        ?.elements?.find((e) => e.action_id === 'approval_approve');
      if (!button) throw new Error(`no Approve button on ${incidentId}'s approval message`);

      const t0 = Date.now();
      const click = await slack.click({
        actionId: 'approval_approve',
        value: button.value,
        channel: ref.channel,
        message,
        user: COMMANDER,
      });
      ack.push(Date.now() - t0);
      if (click.status !== 200) throw new Error(`click ${i}: HTTP ${click.status}`);
      const run = await until(`revoke_credentials to start for ${incidentId}`, () =>
        actionRunOf(db, incidentId, 'revoke_credentials'),
      );
      roundTrip.push(Date.parse(run.startedAt) - t0);
    }
    roundTrip.sort((a, b) => a - b);
    ack.sort((a, b) => a - b);
    report('approval', 'click_to_next_activity_p50', percentile(roundTrip, 50), 'ms', {
      target: '< 100',
      runs: RUNS,
    });
    report('approval', 'click_to_next_activity_p99', percentile(roundTrip, 99), 'ms');
    report('approval', 'slack_ack_p50', percentile(ack, 50), 'ms');
    report('approval', 'slack_ack_p99', percentile(ack, 99), 'ms', { slack_limit: 3000 });
  } finally {
    await stack.close();
    await fake.stop();
  }
}
