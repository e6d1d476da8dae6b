/**
 * The MFA step-up rule in Slack: Slack shows nothing of how a person signed in, so an Approve
 * click on a step that runs an irreversible action (credentials.rotate) or releases containment
 * (agent.enable) is refused with a pointer to the console, and the step keeps waiting. Rejecting
 * it from Slack still works.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/stack';
import { postedFor, startPlaybookIncident, stepStatus } from './playbook-incident';
import { replyTo, startSlackStack, type SlackStack } from './setup';

let s: SlackStack;
beforeAll(async () => {
  s = await startSlackStack();
});
afterAll(async () => {
  await s?.close();
});

const ALICE = { id: 'UALICE01', name: 'alice' }; // role incident_commander (SLACK_USER_ROLES in setup.ts)

const playbook = (action: string) => `
id: slack-step-up-test
version: 1
title: Slack step-up test
phases:
  remediate:
    - id: approve_it
      kind: approval
      prompt: Go ahead?
      approvers: { roles: [incident_commander] }
      steps:
        - id: act
          kind: action
          action: ${action}
          params: { agent_id: '\${{ incident.agent_id }}' }
`;

async function clickApprove(incidentId: string) {
  const posted = await postedFor(s, incidentId, 'approval:approve_it');
  const button = (posted.message.blocks as any[])
    .find((b) => b.block_id === 'approval_actions')
    ?.elements.find((e: any) => e.action_id === 'approval_approve');
  const res = await s.slack.click({
    actionId: 'approval_approve',
    value: button.value,
    channel: posted.channel,
    message: posted.message,
    user: ALICE,
  });
  expect(res.status).toBe(200);
  return res.responsePath;
}

describe('step-up decisions in Slack', () => {
  it.each(['credentials.rotate', 'agent.enable'])(
    'refuses to approve %s from Slack and points to the console',
    async (action) => {
      const { incidentId } = await startPlaybookIncident(s, playbook(action));
      const responsePath = await clickApprove(incidentId);
      const reply = await replyTo(s, responsePath, 'Not approved from Slack');
      expect(reply.text).toContain(action);
      expect(reply.text).toContain(`/console/incidents/${incidentId}`);
      expect(await stepStatus(s, incidentId, 'approve_it')).toBe('waiting');
    },
  );

  it('still approves a step that needs no step-up', async () => {
    const { incidentId } = await startPlaybookIncident(s, playbook('agent.disable'));
    await clickApprove(incidentId);
    await eventually(async () => (await stepStatus(s, incidentId, 'approve_it')) === 'succeeded', 20_000);
  });
});
