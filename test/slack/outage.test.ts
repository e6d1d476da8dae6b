import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { updateIncident } from '../../temporal/client';
import { closeIncident } from '../../workflows/messages';
import { signed } from '../helpers/decisions';
import { bearer, eventually, TEST_WEBHOOK_SECRET } from '../helpers/stack';
import { incidentChannel, postsIn, refOf, renderedText, startSlackStack, type SlackStack } from './setup';

let s: SlackStack;
beforeAll(async () => {
  s = await startSlackStack();
});
afterAll(async () => {
  await s?.close();
});

async function postAlert(dedup: string, title = 'Agent token replayed from new ASN') {
  const res = await fetch(`${s.stack.url}/v1/alerts`, {
    method: 'POST',
    headers: bearer(TEST_WEBHOOK_SECRET),
    body: JSON.stringify({ title, severity: 'high', source: 'edr', dedup_key: dedup, agent_id: 'agent-9' }),
  });
  expect(res.status).toBe(202);
  return ((await res.json()) as { incident_id: string }).incident_id;
}

async function workflowState(incidentId: string) {
  return s.stack.temporal.client.workflow
    .getHandle(`incident-${incidentId}`)
    .query<{ alertCount: number; status: string }>('incidentState');
}

describe('closing during a Slack outage', () => {
  it('closes the incident without waiting for Slack to answer', async () => {
    const incidentId = await postAlert('outage-close');
    await incidentChannel(s, incidentId);
    s.fake.fault({ status: 500, forMs: 120_000 });
    try {
      const close = {
        decisionId: 'close',
        actor: { id: 'alice', via: 'api' as const, roles: ['admin'] },
        reason: 'false positive',
      };
      await updateIncident(s.stack.temporal, incidentId, closeIncident, signed(incidentId, 'close', close));
      const handle = s.stack.temporal.client.workflow.getHandle(`incident-${incidentId}`);
      await eventually(
        async () => (await handle.describe()).status.name === 'COMPLETED',
        30_000,
        'the workflow to complete while Slack fails',
      );
    } finally {
      s.fake.clearFaults();
    }
  });
});

describe('no closed incident keeps running because of Slack', () => {
  async function closeAndComplete(incidentId: string) {
    const close = {
      decisionId: 'close',
      actor: { id: 'alice', via: 'api' as const, roles: ['admin'] },
      reason: 'contained',
    };
    await updateIncident(s.stack.temporal, incidentId, closeIncident, signed(incidentId, 'close', close));
    const handle = s.stack.temporal.client.workflow.getHandle(`incident-${incidentId}`);
    await eventually(
      async () => (await handle.describe()).status.name === 'COMPLETED',
      30_000,
      'the closed incident’s workflow to complete',
    );
  }

  it('a deleted summary card whose new copy Slack keeps failing (500) does not hold the close', async () => {
    const incidentId = await postAlert('closed-deleted-card');
    await incidentChannel(s, incidentId);
    const card = (await refOf(s, incidentId, 'summary'))!;
    s.fake.deleteMessage(card.channel, card.ts);
    s.fake.fault({ methods: ['chat.postMessage'], status: 500 });
    try {
      await closeAndComplete(incidentId);
    } finally {
      s.fake.clearFaults();
    }
  });

  it('a token revoked while the incident opens (every part pausing to try again) does not hold the close', async () => {
    s.fake.token = 'xoxb-rotated-away';
    try {
      const incidentId = await postAlert('closed-token-revoked');
      await eventually(
        () => s.fake.failedCalls().some((c) => c.error === 'invalid_auth'),
        20_000,
        'Slack to refuse the token',
      );
      await closeAndComplete(incidentId);
    } finally {
      s.fake.token = undefined;
    }
  });
});

describe('a Slack outage during an incident', () => {
  it('loses nothing on HTTP 500s: the incident proceeds, and Slack gets channel and card once it answers', async () => {
    s.fake.failFor(2500, 500);
    const outageStart = Date.now();
    const incidentId = await postAlert('outage-500');
    // The incident itself does not wait for Slack.
    await eventually(
      async () => (await workflowState(incidentId)).alertCount === 1,
      10_000,
      'workflow to count the alert',
    );
    const channel = await incidentChannel(s, incidentId, 40_000);
    expect(Date.now() - outageStart).toBeGreaterThanOrEqual(2000);
    expect(s.fake.failedCalls().some((c) => c.method === 'conversations.create')).toBe(true);
    // Delivered exactly once despite the retries.
    expect(
      s.fake.sent('conversations.create').filter((c) => String(c.args.name).includes(incidentId.slice(4))),
    ).toHaveLength(1);
    const cards = postsIn(s, channel);
    expect(cards).toHaveLength(1);
    expect(renderedText(cards[0]!.args)).toContain(incidentId);
  });

  it('waits out 429s with Slack’s Retry-After and still delivers every update, in the end state', async () => {
    const incidentId = await postAlert('outage-429');
    const channel = await incidentChannel(s, incidentId);
    const summary = (await refOf(s, incidentId, 'summary'))!;
    s.fake.failFor(2000, 429, 1);
    await postAlert('outage-429', 'second alert during rate limiting');
    await postAlert('outage-429', 'third alert during rate limiting');
    const update = await eventually(
      () =>
        s.fake
          .sent('chat.update')
          .find((c) => c.args.ts === summary.ts && renderedText(c.args).includes('*Alerts*\\n3')),
      40_000,
      'card to catch up to 3 alerts',
    );
    expect(update.args.channel).toBe(channel);
    const limited = s.fake.calls.filter((c) => c.failed);
    expect(limited.length).toBeGreaterThan(0);
    expect(postsIn(s, channel)).toHaveLength(1);
  });
});
