/**
 * Attaching a playbook and releasing containment from Slack (issue 13 §2, §3): `/incident
 * playbook <name>` in the channel of an incident that runs triage attaches the playbook as a
 * signed decision (refused, on the timeline, for someone who is not a decider), and
 * `/incident release <reason>` opens the k-of-n release approval, decided with its buttons.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPlaybookDir } from '../../playbooks/loader';
import { incidentWorkflowId } from '../../temporal/client';
import { incidentState } from '../../workflows/messages';
import { dbTimelineRows as timelineRows } from '../helpers/playbooks';
import { eventually } from '../helpers/stack';
import { postedFor, startPlaybookIncident, stepStatus } from './playbook-incident';
import { incidentChannel, openIncident, replyTo, startSlackStack, type SlackStack } from './setup';

let s: SlackStack;
beforeAll(async () => {
  s = await startSlackStack();
});
afterAll(async () => {
  await s?.close();
});

const ALICE = { id: 'UALICE01', name: 'alice' }; // role incident_commander (SLACK_USER_ROLES in setup.ts)
const BOB = { id: 'UBOB0001', name: 'bob' };
const tampering = loadPlaybookDir().find((p) => p.id === 'agent-config-tampering')!;

async function command(text: string, channel: string, user: { id: string; name: string }) {
  const { res, responsePath } = await s.slack.command(text, {
    channel,
    user: user.id,
    userName: user.name,
  });
  expect(res.status).toBe(200);
  return (
    await eventually(
      () => s.fake.sent('response_url').find((c) => c.args.path === responsePath),
      15_000,
      `reply to ${text}`,
    )
  ).args;
}

const events = (incidentId: string, kind: string) =>
  timelineRows(s.stack.db, incidentId).filter((e) => e.kind === kind);

const stateOf = (incidentId: string) =>
  s.stack.temporal.client.workflow.getHandle(incidentWorkflowId(incidentId)).query(incidentState);

describe('/incident playbook', () => {
  it('attaches a playbook to an incident running triage, as the commander, pinned as at open', async () => {
    const { incidentId, channel } = await openIncident(s, { title: 'Odd agent behaviour' });
    await eventually(async () => (await stateOf(incidentId)).playbook?.id === 'triage');
    const reply = await command('playbook agent-config-tampering config drifted', channel, ALICE);
    expect(reply.response_type).toBe('in_channel');
    expect(reply.text).toContain('attached playbook *agent-config-tampering*');
    // Slack is answered first; the attach reaches the workflow right after.
    const state = await eventually(async () => {
      const st = await stateOf(incidentId);
      return st.playbook?.id === tampering.id ? st : undefined;
    });
    expect(state.playbook).toMatchObject({
      id: tampering.id,
      version: tampering.version,
      hash: tampering.hash,
    });
    const attached = await eventually(() => events(incidentId, 'playbook.attached')[0]);
    expect(attached).toMatchObject({ actor: ALICE.id, data: { via: 'slack', replaced: 'triage' } });
    expect(attached.message).toContain('config drifted');
  });

  it('refuses someone who is not a decider, privately, and records the attempt', async () => {
    const { incidentId, channel } = await openIncident(s, { title: 'Another odd agent' });
    await eventually(async () => (await stateOf(incidentId)).playbook?.id === 'triage');
    const reply = await command('playbook agent-config-tampering', channel, BOB);
    expect(reply.response_type).toBe('ephemeral');
    expect(reply.text).toMatch(/Not done: .*UBOB0001 may not attach a playbook to this incident/);
    expect((await stateOf(incidentId)).playbook?.id).toBe('triage');
    const refused = await eventually(() => events(incidentId, 'decision.refused')[0]);
    expect(refused).toMatchObject({ actor: BOB.id, data: { decision: 'attach' } });
  });

  it('names an unknown playbook', async () => {
    const { channel } = await openIncident(s, { title: 'Yet another odd agent' });
    const reply = await command('playbook nope', channel, ALICE);
    expect(reply.text).toContain('No playbook `nope` is loaded here');
  });
});

const containing = `
id: slack-release-test
version: 1
title: Slack release test
phases:
  contain:
    - id: approve_disable
      kind: approval
      prompt: Disable the agent?
      approvers: { users: [UALICE01, UBOB0001] }
      steps:
        - id: disable_agent
          kind: action
          action: agent.disable
          params: { agent_id: '\${{ incident.agent_id }}' }
    - id: hold
      kind: manual_task
      task: Keep it contained until the owner answers
`;

async function click(incidentId: string, ref: string, user: { id: string; name: string }): Promise<string> {
  const posted = await postedFor(s, incidentId, ref);
  const button = (posted.message.blocks as any[])
    .find((b) => b.block_id === 'approval_actions')
    ?.elements.find((e: any) => e.action_id === 'approval_approve');
  expect(button, 'the message has its buttons').toBeTruthy();
  const res = await s.slack.click({
    actionId: 'approval_approve',
    value: button.value,
    channel: posted.channel,
    message: posted.message,
    user,
  });
  expect(res.status).toBe(200);
  return res.responsePath;
}

describe('/incident release', () => {
  it('opens the release approval, whose buttons refuse and point to the console (MFA step-up)', async () => {
    const { incidentId } = await startPlaybookIncident(s, containing);
    const channel = await incidentChannel(s, incidentId);
    await click(incidentId, 'approval:approve_disable', ALICE);
    await eventually(async () => (await stepStatus(s, incidentId, 'hold')) === 'waiting', 20_000);

    const reply = await command('release the owner confirmed a test run', channel, BOB);
    expect(reply.response_type).toBe('in_channel');
    expect(reply.text).toContain('asked for a release');
    const posted = await postedFor(s, incidentId, 'approval:release_1');
    expect(JSON.stringify(posted.message.blocks)).toContain('agent.enable');

    // A release needs a recent second factor, which Slack cannot show: the click is refused with
    // the console's link, and nothing is decided (test/api/release.test.ts approves it there).
    const responsePath = await click(incidentId, 'approval:release_1', ALICE);
    const refusal = await replyTo(s, responsePath, 'Not approved from Slack');
    expect(refusal.text).toContain(`/console/incidents/${incidentId}`);
    expect(await stepStatus(s, incidentId, 'release_1')).toBe('waiting');
    expect(events(incidentId, 'approval.approved').some((e) => e.data?.stepId === 'release_1')).toBe(false);
    expect(events(incidentId, 'containment.released')).toEqual([]);
    expect(events(incidentId, 'release.requested')[0]).toMatchObject({ actor: BOB.id });
  });
});
