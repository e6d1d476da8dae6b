/**
 * Who may abort and complete tasks from Slack, on a live incident: any workspace member can see
 * the incident channel's buttons and modals, but only the playbook's approvers (or a configured
 * decision role) are obeyed. A refused attempt is answered in private and recorded by the
 * workflow (timeline, audit log). A declared incident records its declarer as the requester, and
 * is pinned to Firebreak's decision key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listIncidents } from '../../db/incidents';
import type { IncidentStart } from '../../domain/incident';
import { incidentWorkflowId } from '../../temporal/client';
import { dbTimelineRows as timelineRows } from '../helpers/playbooks';
import { text } from '../helpers/slack-requests';
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

const ALICE = { id: 'UALICE01', name: 'alice' };
const BOB = { id: 'UBOB0001', name: 'bob' }; // no roles, approver of nothing

const playbook = `
id: slack-authz-test
version: 1
title: Slack authorization test
phases:
  contain:
    - id: gate
      kind: approval
      prompt: Go on?
      approvers: { users: [UALICE01] }
  investigate:
    - id: call_vendor
      kind: manual_task
      task: Call the model vendor and ask for the request logs
`;

const refusals = (incidentId: string) =>
  timelineRows(s.stack.db, incidentId).filter((e) => e.kind === 'decision.refused');

async function click(incidentId: string, ref: string, block: string, user: { id: string; name: string }) {
  const posted = await postedFor(s, incidentId, ref);
  const button = (posted.message.blocks as any[]).find((b) => b.block_id === block).elements[0];
  const res = await s.slack.click({
    actionId: button.action_id,
    value: button.value,
    channel: posted.channel,
    message: posted.message,
    user,
  });
  expect(res.status).toBe(200);
  return { ...posted, responsePath: res.responsePath };
}

describe('decision authorization in Slack', () => {
  it('refuses an abort from a member who is not an approver; the playbook keeps running', async () => {
    const { incidentId } = await startPlaybookIncident(s, playbook, { mode: 'live' });
    const { channel } = await postedFor(s, incidentId, 'approval:gate');
    await s.slack.submitView({
      callbackId: 'incident_confirm',
      privateMetadata: JSON.stringify({
        kind: 'abort',
        incidentId,
        channelId: channel,
        responseUrl: `${s.fake.url}/respond/abort-by-bob`,
      }),
      values: { reason: text('turn the agent back on') },
      user: BOB,
    });
    const reply = await replyTo(s, '/respond/abort-by-bob', 'UBOB0001 may not abort this incident');
    expect(reply.text).toContain('not allowed to abort this incident');
    const [refused] = await eventually(() =>
      refusals(incidentId).length === 1 ? refusals(incidentId) : undefined,
    );
    expect(refused).toMatchObject({
      actor: BOB.id,
      data: { decision: 'abort', via: 'slack', verified: true },
    });
    expect(await stepStatus(s, incidentId, 'gate')).toBe('waiting');
    expect(timelineRows(s.stack.db, incidentId).some((e) => e.kind === 'abort.requested')).toBe(false);
  });

  it("refuses a task's Done from a member who is not an approver, accepts it from one", async () => {
    const { incidentId } = await startPlaybookIncident(s, playbook, { mode: 'live' });
    await click(incidentId, 'approval:gate', 'approval_actions', ALICE);
    const { responsePath } = await click(incidentId, 'task:call_vendor', 'task_actions', BOB);
    const reply = await replyTo(s, responsePath, 'UBOB0001 may not complete call_vendor');
    expect(reply.text).toContain('not allowed to complete this task');
    await eventually(() => refusals(incidentId).length === 1);
    expect(await stepStatus(s, incidentId, 'call_vendor')).toBe('waiting');
    await click(incidentId, 'task:call_vendor', 'task_actions', ALICE);
    await eventually(async () => (await stepStatus(s, incidentId, 'call_vendor')) === 'succeeded', 20_000);
  });

  it('a declared incident records its declarer as the requester and pins the decision key', async () => {
    await s.slack.submitView({
      callbackId: 'incident_declare',
      privateMetadata: '{}',
      values: { title: text('Agent posting secrets to a public gist') },
      user: BOB,
    });
    const declared = await eventually(async () =>
      (await listIncidents(s.stack.db, { limit: 1000 })).find(
        (i) => i.source === 'slack' && i.title === 'Agent posting secrets to a public gist',
      ),
    );
    const handle = s.stack.temporal.client.workflow.getHandle(incidentWorkflowId(declared.id));
    const history = await eventually(async () => {
      const h = await handle.fetchHistory();
      return h.events?.[0]?.workflowExecutionStartedEventAttributes ? h : undefined;
    });
    const payload = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
    const input = JSON.parse(Buffer.from(payload.data!).toString('utf8')) as IncidentStart;
    expect(input).toMatchObject({
      requestedBy: BOB.id,
      decisionKey: s.stack.decisions.publicKeyHex,
      deciderRoles: ['admin', 'incident_commander'],
    });
  });
});
