/**
 * Approvals and manual tasks through Slack, end to end on the real playbook interpreter: signed
 * button clicks and modal submissions become workflow updates, and the messages are re-rendered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbTimelineRows as timelineRows } from '../helpers/playbooks';
import { text } from '../helpers/slack-requests';
import { eventually } from '../helpers/stack';
import { postedFor, startPlaybookIncident, stepStatus } from './playbook-incident';
import { renderedText, replyTo, startSlackStack, type SlackStack } from './setup';

let s: SlackStack;
beforeAll(async () => {
  s = await startSlackStack();
});
afterAll(async () => {
  await s?.close();
});

const ALICE = { id: 'UALICE01', name: 'alice' }; // role incident_commander (SLACK_USER_ROLES in setup.ts)
const BOB = { id: 'UBOB0001', name: 'bob' };
const CAROL = { id: 'UCAROL01', name: 'carol' };

function playbook(approval: string, extra = ''): string {
  return `
id: slack-approval-test
version: 1
title: Slack approval test
phases:
  contain:
    - id: approve_disable
      kind: approval
      prompt: Disable the agent?
${approval}
      steps:
        - id: disable_agent
          kind: action
          action: agent.disable
          params: { agent_id: '\${{ incident.agent_id }}' }
${extra}`;
}

const byRole = playbook(`      approvers: { roles: [incident_commander] }`);

async function click(
  action: 'approval_approve' | 'approval_reject',
  incidentId: string,
  user: { id: string; name: string },
) {
  const posted = await postedFor(s, incidentId, 'approval:approve_disable');
  const button = (posted.message.blocks as any[])
    .find((b) => b.block_id === 'approval_actions')
    ?.elements.find((e: any) => e.action_id === action);
  expect(button, 'the message still has its buttons').toBeTruthy();
  const res = await s.slack.click({
    actionId: action,
    value: button.value,
    channel: posted.channel,
    message: posted.message,
    user,
  });
  expect(res.status).toBe(200);
  return { ...posted, responsePath: res.responsePath };
}

function events(incidentId: string, kind: string) {
  return timelineRows(s.stack.db, incidentId).filter((e) => e.kind === kind);
}

describe('approvals in Slack', () => {
  it('shows what will be done, who may approve and progress; Approve records the decision and closes the message', async () => {
    const { incidentId } = await startPlaybookIncident(s, byRole);
    const posted = await postedFor(s, incidentId, 'approval:approve_disable');
    const shown = renderedText(posted.message);
    expect(shown).toContain('agent.disable');
    expect(shown).toContain('agent_id=agent-7');
    expect(shown).toContain('checks it says disabled');
    expect(shown).toContain('role `incident_commander`');
    expect(shown).toContain('0 of 1');

    await click('approval_approve', incidentId, ALICE);
    await eventually(
      async () => (await stepStatus(s, incidentId, 'approve_disable')) === 'succeeded',
      20_000,
    );
    // The listener and the workflow both re-render the message; wait for it, do not race it.
    const after = await eventually(() => {
      const m = s.fake.message(posted.channel, posted.ts)!;
      return renderedText(m).includes('Approved* by <@UALICE01>') ? m : undefined;
    });
    expect((after.blocks as any[]).some((b) => b.block_id === 'approval_actions')).toBe(false);
    expect(events(incidentId, 'approval.approved')[0]?.actor).toBe('UALICE01');
  });

  it('a duplicate of the approval message keeps no working buttons: a click on it retires it and decides nothing', async () => {
    const { incidentId } = await startPlaybookIncident(s, byRole);
    const live = await postedFor(s, incidentId, 'approval:approve_disable');
    // A second copy, as a post Slack performed twice leaves it (same blocks and metadata).
    const twinTs = s.fake.addMessage(live.channel, 'copy', 'UBOT0001');
    const twin = s.fake.message(live.channel, twinTs)!;
    Object.assign(twin, {
      text: live.message.text,
      blocks: structuredClone(live.message.blocks),
      metadata: structuredClone(live.message.metadata),
    });
    const button = (twin.blocks as any[])
      .find((b) => b.block_id === 'approval_actions')
      .elements.find((e: any) => e.action_id === 'approval_approve');
    const res = await s.slack.click({
      actionId: 'approval_approve',
      value: button.value,
      channel: live.channel,
      message: structuredClone(twin),
      user: ALICE,
    });
    expect(res.status).toBe(200);
    await replyTo(s, res.responsePath, 'duplicate');
    const retired = await eventually(() => {
      const m = s.fake.message(live.channel, twinTs)!;
      return renderedText(m).includes('Superseded') ? m : undefined;
    });
    expect((retired.blocks as any[]).some((b) => b.type === 'actions')).toBe(false);
    expect(await stepStatus(s, incidentId, 'approve_disable')).toBe('waiting');
    expect(events(incidentId, 'approval.approved')).toEqual([]);
    // The live message still works.
    await click('approval_approve', incidentId, ALICE);
    await eventually(
      async () => (await stepStatus(s, incidentId, 'approve_disable')) === 'succeeded',
      20_000,
    );
  });

  it('refuses an unauthorized approver with an ephemeral reply and audits the attempt', async () => {
    const { incidentId } = await startPlaybookIncident(s, byRole);
    const { responsePath } = await click('approval_approve', incidentId, BOB);
    const reply = await replyTo(s, responsePath, 'not allowed');
    expect(reply.text).toContain('not an approver');
    expect(s.fake.sent('chat.postEphemeral')).toHaveLength(0);
    // The workflow records the refusal itself (timeline and audit log), for every surface.
    const refused = await eventually(() => events(incidentId, 'decision.refused')[0]);
    expect(refused.actor).toBe(BOB.id);
    expect(await stepStatus(s, incidentId, 'approve_disable')).toBe('waiting');
  });

  it('k-of-n: shows progress after the first approval, answers a double click with "already decided", completes on the second person', async () => {
    const { incidentId } = await startPlaybookIncident(
      s,
      playbook(`      approvers: { users: [UALICE01, UBOB0001, UCAROL01] }
      min_approvals: 2`),
    );
    const posted = await click('approval_approve', incidentId, ALICE);
    await eventually(
      () => renderedText(s.fake.message(posted.channel, posted.ts)!).includes('1 of 2'),
      15_000,
      'progress 1 of 2',
    );
    const again = await click('approval_approve', incidentId, ALICE);
    await replyTo(s, again.responsePath, 'Already decided');
    await click('approval_approve', incidentId, CAROL);
    await eventually(
      async () => (await stepStatus(s, incidentId, 'approve_disable')) === 'succeeded',
      20_000,
    );
    await eventually(() =>
      renderedText(s.fake.message(posted.channel, posted.ts)!).includes('Approved* by <@UCAROL01>'),
    );
  });

  it('answers a click after the deadline with "expired"', async () => {
    const { incidentId } = await startPlaybookIncident(
      s,
      playbook(`      approvers: { roles: [incident_commander] }
      timeout: 1s
      on_timeout: abort`),
    );
    const posted = await postedFor(s, incidentId, 'approval:approve_disable');
    await new Promise((r) => setTimeout(r, 1500));
    const button = (posted.message.blocks as any[]).find((b) => b.block_id === 'approval_actions')
      .elements[0];
    const late = await s.slack.click({
      actionId: 'approval_approve',
      value: button.value,
      channel: posted.channel,
      message: posted.message,
      user: ALICE,
    });
    await replyTo(s, late.responsePath, 'expired');
    // The request itself shows it expired once the workflow's deadline fired.
    await eventually(() => renderedText(s.fake.message(posted.channel, posted.ts)!).includes('Expired'));
  });

  it('posts an escalation mentioning its target when the approval times out', async () => {
    const { incidentId } = await startPlaybookIncident(
      s,
      playbook(`      approvers: { roles: [incident_commander] }
      timeout: 1s
      on_timeout: escalate
      escalation: { target: S0SECLEADS, timeout: 1h, on_timeout: abort }`),
    );
    const posted = await postedFor(s, incidentId, 'approval:approve_disable');
    const escalation = await eventually(
      () =>
        s.fake
          .sent('chat.postMessage')
          .find(
            (c) =>
              c.args.channel === posted.channel && JSON.stringify(c.args).includes('<!subteam^S0SECLEADS>'),
          ),
      20_000,
      'escalation message',
    );
    expect(JSON.stringify(escalation.args)).toContain('Disable the agent?');
  });

  it('Reject asks for a reason in a modal, then records the rejection with it', async () => {
    const { incidentId } = await startPlaybookIncident(s, byRole);
    const posted = await click('approval_reject', incidentId, ALICE);
    const open = await eventually(() =>
      s.fake
        .sent('views.open')
        .find(
          (c) =>
            c.args.view?.callback_id === 'approval_reject_reason' &&
            c.args.view.private_metadata.includes(incidentId),
        ),
    );
    const sub = await s.slack.submitView({
      callbackId: 'approval_reject_reason',
      privateMetadata: open.args.view.private_metadata,
      values: { reason: text('Agent is serving <!channel> production traffic') },
      user: ALICE,
    });
    expect(sub.status).toBe(200);
    await eventually(async () => (await stepStatus(s, incidentId, 'approve_disable')) === 'rejected', 20_000);
    const after = await eventually(() => {
      const m = renderedText(s.fake.message(posted.channel, posted.ts)!);
      return m.includes('Rejected* by <@UALICE01>') ? m : undefined;
    });
    expect(after).toContain('&lt;!channel&gt; production traffic');
    expect(events(incidentId, 'approval.rejected')[0]?.message).toContain('production traffic');
  });

  it('a manual task’s Done button completes it and marks the message done', async () => {
    const { incidentId } = await startPlaybookIncident(
      s,
      `
id: slack-task-test
version: 1
title: Slack task test
phases:
  investigate:
    - id: call_vendor
      kind: manual_task
      task: Call the model vendor and ask for the request logs
`,
    );
    const posted = await postedFor(s, incidentId, 'task:call_vendor');
    const button = (posted.message.blocks as any[]).find((b) => b.block_id === 'task_actions').elements[0];
    await s.slack.click({
      actionId: 'task_done',
      value: button.value,
      channel: posted.channel,
      message: posted.message,
      user: BOB,
    });
    await eventually(async () => (await stepStatus(s, incidentId, 'call_vendor')) === 'succeeded', 20_000);
    await eventually(() =>
      renderedText(s.fake.message(posted.channel, posted.ts)!).includes('Done by <@UBOB0001>'),
    );
  });

  it('/incident status lists the pending approval; escalate and abort reach the workflow', async () => {
    const { incidentId } = await startPlaybookIncident(s, byRole);
    const { channel } = await postedFor(s, incidentId, 'approval:approve_disable');
    const status = await s.slack.command('status', { channel });
    const statusReply = await eventually(() =>
      s.fake.sent('response_url').find((c) => c.args.path === status.responsePath),
    );
    expect(statusReply.args.text).toContain('waiting for approval: Disable the agent?');
    const { responsePath } = await s.slack.command('escalate <@UCAROL01|carol> nobody is answering', {
      channel,
    });
    const reply = await eventually(() =>
      s.fake.sent('response_url').find((c) => c.args.path === responsePath),
    );
    expect(reply.args.response_type).toBe('in_channel');
    expect(reply.args.text).toContain('Escalated to <@UCAROL01>');
    await eventually(() => events(incidentId, 'escalated')[0]);

    await s.slack.command('abort', { channel });
    const open = await eventually(() =>
      s.fake
        .sent('views.open')
        .find(
          (c) =>
            c.args.view?.callback_id === 'incident_confirm' &&
            c.args.view.private_metadata.includes(incidentId),
        ),
    );
    expect(JSON.parse(open.args.view.private_metadata).kind).toBe('abort');
    await s.slack.submitView({
      callbackId: 'incident_confirm',
      privateMetadata: open.args.view.private_metadata,
      values: { reason: text('false positive') },
    });
    await eventually(() => events(incidentId, 'abort.requested')[0]);
  });
});
