/**
 * Issue 17 §1: no decision is lost while Slack's Web API is failing. Incoming requests (clicks,
 * slash commands) must not depend on any outgoing Web API call: the fake answers auth.test with
 * 500 for the whole file (Bolt used to call it before every request), and during each test every
 * Web API method answers 429 or 500. Clicks, `/incident note` and `/incident status` must still
 * take effect, replies arrive through response_url, and once Slack is back the approval message
 * and the summary card end in the state the workflow is in. The outage is a window driven by the
 * test (lifted once everything took effect), not a wall-clock one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbTimelineRows as timelineRows } from '../helpers/playbooks';
import { eventually } from '../helpers/stack';
import { postedFor, startPlaybookIncident, stepStatus } from './playbook-incident';
import { refOf, renderedText, startSlackStack, type SlackStack } from './setup';

let s: SlackStack;
beforeAll(async () => {
  s = await startSlackStack();
  s.fake.fault({ methods: ['auth.test'], status: 500 });
});
afterAll(async () => {
  await s?.close();
});

const PLAYBOOK = `
id: slack-outage-approval
version: 1
title: Approval during a Slack outage
phases:
  contain:
    - id: approve_disable
      kind: approval
      prompt: Disable the agent?
      approvers: { roles: [incident_commander] }
      steps:
        - id: disable_agent
          kind: action
          action: agent.disable
          params: { agent_id: '\${{ incident.agent_id }}' }
`;

describe('a Web API outage never swallows a decision', () => {
  it.each([429, 500] as const)(
    'every method answering %i: an Approve click, /incident note and /incident status all take effect',
    async (status) => {
      const { incidentId } = await startPlaybookIncident(s, PLAYBOOK);
      const posted = await postedFor(s, incidentId, 'approval:approve_disable');
      const button = (posted.message.blocks as any[])
        .find((b) => b.block_id === 'approval_actions')
        .elements.find((e: any) => e.action_id === 'approval_approve');
      const lift = s.fake.fault({ status, retryAfterSeconds: 30 });
      try {
        const click = await s.slack.click({
          actionId: 'approval_approve',
          value: button.value,
          channel: posted.channel,
          message: posted.message,
          user: { id: 'UALICE01', name: 'alice' },
        });
        expect(click.status).toBe(200);
        await eventually(
          async () => (await stepStatus(s, incidentId, 'approve_disable')) === 'succeeded',
          20_000,
          'the approval to reach the workflow',
        );

        const note = await s.slack.command('note Outage drill: token revoked at the IdP', {
          channel: posted.channel,
        });
        expect(note.res.status).toBe(200);
        await eventually(
          () =>
            timelineRows(s.stack.db, incidentId).find(
              (e) => e.kind === 'note' && e.message === 'Outage drill: token revoked at the IdP',
            ),
          20_000,
          'the note on the timeline',
        );
        await eventually(() => s.fake.responses(note.responsePath)[0], 15_000, 'the note confirmation');

        const st = await s.slack.command('status', { channel: posted.channel });
        const reply = await eventually(() => s.fake.responses(st.responsePath)[0], 15_000, 'status reply');
        expect(reply.text).toContain(incidentId);
        // Replies went through response_url, never the failing Web API.
        expect(s.fake.sent('chat.postEphemeral')).toHaveLength(0);
        // Requests never call auth.test: only the identity's throttled background lookups do.
        expect(s.fake.calls.filter((c) => c.method === 'auth.test').length).toBeLessThanOrEqual(2);
      } finally {
        lift();
      }
      // Slack is back: the message catches up with the workflow (decided, no buttons).
      await eventually(
        () => {
          const m = s.fake.message(posted.channel, posted.ts)!;
          return renderedText(m).includes('Approved') &&
            !(m.blocks as any[]).some((b) => b.block_id === 'approval_actions')
            ? m
            : undefined;
        },
        90_000,
        'the approval message to show the decision',
      );
      // And the summary card: the approval it counted as pending during the outage is decided.
      // (The card is a part of its own: after the outage it may be posted only now.)
      await eventually(
        async () => {
          const card = await refOf(s, incidentId, 'summary');
          const m = card && s.fake.message(card.channel, card.ts);
          return m !== undefined && renderedText(m).includes('*Pending approvals*\\n0');
        },
        90_000,
        'the summary card to show no pending approval',
      );
    },
    180_000,
  );
});
