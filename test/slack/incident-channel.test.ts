import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { incidentIdFor } from '../../db/alerts';
import { incidentKey } from '../../intake/store';
import { channelName } from '../../slack/channels';
import { updateIncident } from '../../temporal/client';
import { closeIncident } from '../../workflows/messages';
import { signed } from '../helpers/decisions';
import { BOT_USER } from '../helpers/fake-slack';
import { bearer, eventually, TEST_WEBHOOK_SECRET } from '../helpers/stack';
import {
  incidentChannel,
  openIncident,
  postsIn,
  refOf,
  renderedText,
  RESPONDERS,
  startSlackStack,
  type SlackStack,
} from './setup';

let s: SlackStack;
beforeAll(async () => {
  s = await startSlackStack();
});
afterAll(async () => {
  await s?.close();
});

async function postAlert(body: Record<string, unknown>) {
  return fetch(`${s.stack.url}/v1/alerts`, {
    method: 'POST',
    headers: bearer(TEST_WEBHOOK_SECRET),
    body: JSON.stringify(body),
  });
}

describe('incident channel', () => {
  it('creates #inc-<id>-<slug>, invites responders, posts the summary card and announces it', async () => {
    const { incidentId, channel } = await openIncident(s, {
      title: 'Agent exfiltrating customer table',
      dedup_key: 'chan-1',
    });
    const short = incidentId.replace(/^inc-/, '');
    const created = s.fake.sent('conversations.create');
    expect(created.map((c) => c.args.name)).toContain(`inc-${short}-agent-exfiltrating-customer-table`);
    expect(s.fake.channels.get(channel)?.name).toBe(`inc-${short}-agent-exfiltrating-customer-table`);
    // Private by default (SLACK_PRIVATE_CHANNELS): only invited responders see the incident.
    expect(s.fake.channels.get(channel)?.private).toBe(true);
    expect(String(created.find((c) => c.args.name.startsWith(`inc-${short}`))?.args.is_private)).toBe('true');

    // Invites and the announcement are parts of their own, beside the card.
    const invite = await eventually(() =>
      s.fake.sent('conversations.invite').find((c) => c.args.channel === channel),
    );
    expect(invite.args.users).toBe(RESPONDERS.join(','));

    const card = postsIn(s, channel)[0];
    const text = renderedText(card!.args);
    expect(text).toContain(incidentId);
    expect(text).toContain('CRITICAL');
    expect(text).toContain('agent-7');
    expect(text).toContain('*Alerts*\\n1');
    expect(text).toContain('*Pending approvals*\\n0');
    expect(text).toContain(`https://firebreak.example.com/v1/incidents/${incidentId}|Incident API`);
    expect(text).toContain(
      `http://temporal-ui.example.com/namespaces/default/workflows/incident-${incidentId}|Temporal UI`,
    );

    const announce = await eventually(() =>
      s.fake
        .sent('chat.postMessage')
        .find((c) => c.args.channel === s.announceChannel && String(c.args.text).includes(incidentId)),
    );
    expect(announce.args.text).toContain(`<#${channel}>`);
  });

  it('names channels inc-<id>-<slug>, drill-<id>-<slug> for drills, within 80 characters', () => {
    expect(
      channelName({
        id: 'inc-0123456789-2',
        title: 'Prompt injection: agent ran `rm -rf /`!',
        mode: 'drill',
      }),
    ).toBe('drill-0123456789-2-prompt-injection-agent-ran-rm-rf');
    expect(
      channelName({ id: 'inc-0123456789-2', title: 'x'.repeat(200), mode: 'live' }).length,
    ).toBeLessThanOrEqual(80);
  });

  it('keeps the card current with chat.update as more alerts arrive, and on close', async () => {
    const { incidentId, channel } = await openIncident(s, { dedup_key: 'chan-2' });
    const summary = (await refOf(s, incidentId, 'summary'))!;
    expect(
      (await postAlert({ title: 'again', severity: 'critical', source: 'siem', dedup_key: 'chan-2' })).status,
    ).toBe(202);
    const updated = await eventually(
      () =>
        s.fake
          .sent('chat.update')
          .find((c) => c.args.ts === summary.ts && renderedText(c.args).includes('*Alerts*\\n2')),
      20_000,
      'card to show 2 alerts',
    );
    expect(updated.args.channel).toBe(channel);
    const close = {
      decisionId: 'close',
      actor: { id: 'tester', via: 'api' as const, roles: ['admin'] },
      reason: 'done',
    };
    await updateIncident(s.stack.temporal, incidentId, closeIncident, signed(incidentId, 'close', close));
    await eventually(
      () =>
        s.fake
          .sent('chat.update')
          .find((c) => c.args.ts === summary.ts && renderedText(c.args).includes('closed')),
      20_000,
      'card to show closed',
    );
    // One card per incident: every later change was an update, never a second post.
    expect(postsIn(s, channel)).toHaveLength(1);
  });

  it('reuses an existing private channel of the same name the bot is in (e.g. created just before a crash)', async () => {
    const dedup = 'chan-3';
    const incidentId = incidentIdFor(
      incidentKey({ source: 'default', dedupKey: dedup }) /* the alert API's default source */,
      1,
    );
    const existing = s.fake.addChannel(
      channelName({ id: incidentId, title: 'Reused channel', mode: 'live' }),
      {
        private: true,
        members: [BOT_USER],
      },
    );
    expect(
      (await postAlert({ title: 'Reused channel', severity: 'low', source: 'siem', dedup_key: dedup }))
        .status,
    ).toBe(202);
    const channel = await incidentChannel(s, incidentId);
    expect(channel).toBe(existing);
    expect(s.fake.channels.get(existing)?.members.has('UALICE01')).toBe(true);
  });
});
