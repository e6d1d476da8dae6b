/**
 * Issue 17 §2: Slack shows the workflow's state, in order. The approval message is rendered by the
 * workflow from its own state (never from the clicked copy), a rejection by timeout names nobody,
 * the summary card follows pending approvals and phase, and prompts are rendered everywhere.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/stack';
import { postedFor, startPlaybookIncident, stepStatus } from './playbook-incident';
import { refOf, renderedText, startSlackStack, type SlackStack } from './setup';

let s: SlackStack;
beforeAll(async () => {
  s = await startSlackStack();
});
afterAll(async () => {
  await s?.close();
});

const ALICE = { id: 'UALICE01', name: 'alice' };
const BOB = { id: 'UBOB0001', name: 'bob' };

function playbook(approval: string): string {
  return `
id: slack-render-test
version: 1
title: Slack render test
phases:
  contain:
    - id: approve_disable
      kind: approval
      prompt: 'Disable \${{ incident.agent_id }}?'
${approval}
      steps:
        - id: disable_agent
          kind: action
          action: agent.disable
          params: { agent_id: '\${{ incident.agent_id }}' }
`;
}

async function approve(incidentId: string, user: { id: string; name: string }) {
  const posted = await postedFor(s, incidentId, 'approval:approve_disable');
  const button = (posted.message.blocks as any[])
    .find((b) => b.block_id === 'approval_actions')
    .elements.find((e: any) => e.action_id === 'approval_approve');
  const res = await s.slack.click({
    actionId: 'approval_approve',
    value: button.value,
    channel: posted.channel,
    message: posted.message,
    user,
  });
  expect(res.status).toBe(200);
  return posted;
}

describe('Slack renders follow the workflow', () => {
  it('an approved step shows its final progress above the outcome, never the clicked copy’s "0 of 1"', async () => {
    const { incidentId } = await startPlaybookIncident(
      s,
      playbook('      approvers: { roles: [incident_commander] }'),
    );
    const posted = await approve(incidentId, ALICE);
    await eventually(
      async () => (await stepStatus(s, incidentId, 'approve_disable')) === 'succeeded',
      20_000,
    );
    const shown = await eventually(() => {
      const m = renderedText(s.fake.message(posted.channel, posted.ts)!);
      return m.includes('Approved* by <@UALICE01>') ? m : undefined;
    });
    expect(shown).toContain('1 of 1');
    expect(shown).not.toContain('0 of 1');
  });

  it('a rejection by timeout says so and is not attributed to the last approver', async () => {
    const { incidentId } = await startPlaybookIncident(
      s,
      playbook(`      approvers: { users: [UALICE01, UBOB0001] }
      min_approvals: 2
      timeout: 2s
      on_timeout: reject`),
    );
    const posted = await approve(incidentId, BOB);
    await eventually(async () => (await stepStatus(s, incidentId, 'approve_disable')) === 'rejected', 20_000);
    const shown = await eventually(() => {
      const m = renderedText(s.fake.message(posted.channel, posted.ts)!);
      return m.includes('Rejected*') ? m : undefined;
    });
    expect(shown).toContain('No decision before the deadline');
    expect(shown).not.toContain('Rejected* by');
  });

  it('the summary card follows pending approvals; /incident status renders the prompt’s template', async () => {
    const { incidentId } = await startPlaybookIncident(
      s,
      playbook('      approvers: { roles: [incident_commander] }'),
    );
    const { channel } = await postedFor(s, incidentId, 'approval:approve_disable');
    // The card and the approval start together: still only one conversations.create.
    const name = s.fake.channels.get(channel)!.name;
    expect(
      s.fake.calls.filter((c) => c.method === 'conversations.create' && c.args.name === name),
    ).toHaveLength(1);
    const summary = await eventually(() => refOf(s, incidentId, 'summary'));
    await eventually(
      () => renderedText(s.fake.message(summary.channel, summary.ts)!).includes('*Pending approvals*\\n1'),
      20_000,
      'card to show the pending approval',
    );
    const { responsePath } = await s.slack.command('status', { channel });
    const reply = await eventually(() => s.fake.responses(responsePath)[0]);
    expect(reply.text).toContain('waiting for approval: Disable agent-7?');
    expect(reply.text).not.toContain('${{');
  });
});
