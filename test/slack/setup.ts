/**
 * A Firebreak stack with Slack configured against the fake Slack: what every Slack test file
 * starts with, plus helpers to open an incident over the alert API and find what reached Slack.
 */
import { loadRef } from '../../db/slack-refs';
import { startFakeSlack, type FakeSlack } from '../helpers/fake-slack';
import { SlackClient, TEST_SIGNING_SECRET } from '../helpers/slack-requests';
import { bearer, eventually, startTestStack, TEST_WEBHOOK_SECRET, type TestStack } from '../helpers/stack';

export const RESPONDERS = ['UALICE01', 'UBOB0001'];

export interface SlackStack {
  stack: TestStack;
  fake: FakeSlack;
  slack: SlackClient;
  announceChannel: string;
  close(): Promise<void>;
}

export async function startSlackStack(env: Record<string, string> = {}): Promise<SlackStack> {
  const fake = await startFakeSlack();
  const announceChannel = fake.addChannel('security-incidents');
  const stack = await startTestStack({
    env: {
      SLACK_BOT_TOKEN: 'xoxb-test-token',
      SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET,
      SLACK_API_URL: fake.apiUrl,
      SLACK_ANNOUNCE_CHANNEL: announceChannel,
      SLACK_RESPONDERS: RESPONDERS.join(','),
      SLACK_USER_ROLES: JSON.stringify({ UALICE01: { roles: ['incident_commander'], groups: ['secops'] } }),
      PUBLIC_URL: 'https://firebreak.example.com',
      TEMPORAL_UI_URL: 'http://temporal-ui.example.com',
      ...env,
    },
  });
  return {
    stack,
    fake,
    slack: new SlackClient(stack.url, fake.url),
    announceChannel,
    async close() {
      await stack.close();
      await fake.stop();
    },
  };
}

export async function openIncident(
  s: SlackStack,
  alert: Record<string, unknown> = {},
): Promise<{ incidentId: string; channel: string }> {
  const res = await fetch(`${s.stack.url}/v1/alerts`, {
    method: 'POST',
    headers: bearer(TEST_WEBHOOK_SECRET),
    body: JSON.stringify({
      title: 'Agent exfiltrating customer table',
      severity: 'critical',
      source: 'siem',
      dedup_key: `k-${Math.random().toString(36).slice(2)}`,
      agent_id: 'agent-7',
      ...alert,
    }),
  });
  if (res.status !== 202) throw new Error(`alert rejected: ${res.status} ${await res.text()}`);
  const { incident_id: incidentId } = (await res.json()) as { incident_id: string };
  const channel = await incidentChannel(s, incidentId);
  return { incidentId, channel };
}

/** Waits until the incident's summary card is posted; returns its channel. */
export async function incidentChannel(
  s: SlackStack,
  incidentId: string,
  timeoutMs = 20_000,
): Promise<string> {
  const ref = await eventually(
    () => loadRef(s.stack.db, incidentId, 'summary'),
    timeoutMs,
    `summary card for ${incidentId}`,
  );
  return ref.channel;
}

export function refOf(s: SlackStack, incidentId: string, ref: string) {
  return loadRef(s.stack.db, incidentId, ref);
}

/** All text Slack received in a call (text + blocks), for escaping assertions. */
export function renderedText(args: Record<string, any>): string {
  return JSON.stringify({ text: args.text, blocks: args.blocks, view: args.view });
}

/**
 * What Firebreak posted in a channel other than manual tasks (their own messages, block
 * `task_head`): an alert no playbook matches runs triage, whose task is posted beside the card.
 */
export function postsIn(s: SlackStack, channel: string) {
  return s.fake
    .sent('chat.postMessage')
    .filter(
      (c) =>
        c.args.channel === channel &&
        !((c.args.blocks ?? []) as { block_id?: string }[]).some((b) => b.block_id === 'task_head'),
    );
}

/** The private reply sent through a response_url (works for non-members and in DMs). */
export function replyTo(s: SlackStack, responsePath: string, containing: string) {
  return eventually(
    () =>
      s.fake
        .responses(responsePath)
        .find((r) => r.response_type === 'ephemeral' && String(r.text).includes(containing)),
    15_000,
    `reply "${containing}" at ${responsePath}`,
  );
}
