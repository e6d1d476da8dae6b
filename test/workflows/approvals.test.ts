import { WorkflowUpdateFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { playbookStepsOf } from '../../db/incident-projection';
import type { Actor } from '../../domain/incident';
import { decideApproval, incidentState } from '../../workflows/messages';
import { signed } from '../helpers/decisions';
import {
  actionRows,
  alice,
  bob,
  carol,
  pinYaml,
  startIncident,
  timelineRows,
  waitForPlaybook,
  waitForStep,
} from '../helpers/playbooks';
import { eventually, startTestStack, type TestStack } from '../helpers/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.close();
});

function gated(approval: string): string {
  return `
id: approval-test
version: 1
title: Approval test
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
    - id: after
      kind: notify
      message: approved=\${{ steps.approve_disable.approved }}
`;
}

const twoOfThree = pinYaml(
  gated(`      approvers: { users: [U_ALICE, U_BOB, U_CAROL] }
      min_approvals: 2`),
);

describe('approval steps', () => {
  it('k-of-n: the gated action runs only after the second distinct approver', async () => {
    const { incidentId, handle } = await startIncident(stack, { playbook: twoOfThree, requestedBy: 'U_REQ' });
    await waitForStep(handle, 'approve_disable', 'waiting');
    const first = await handle.executeUpdate(decideApproval, {
      args: [
        signed(handle, 'approval', {
          decisionId: 'd1',
          stepId: 'approve_disable',
          decision: 'approve',
          actor: alice,
        }),
      ],
    });
    expect(first).toMatchObject({ decisionId: 'd1', duplicate: false, stepId: 'approve_disable' });
    // The same decision again (a retried call) changes nothing and reports the duplicate.
    const again = await handle.executeUpdate(decideApproval, {
      args: [
        signed(handle, 'approval', {
          decisionId: 'd1',
          stepId: 'approve_disable',
          decision: 'approve',
          actor: alice,
        }),
      ],
    });
    expect(again.duplicate).toBe(true);
    const state = await waitForStep(handle, 'approve_disable', 'waiting');
    expect(state.pendingApprovals[0]).toMatchObject({
      stepId: 'approve_disable',
      approvals: 1,
      minApprovals: 2,
    });
    // The incident API reads the same list through incidentState.
    expect((await handle.query(incidentState)).pendingApprovals).toEqual(state.pendingApprovals);
    expect(actionRows(stack, incidentId)).toHaveLength(0);

    await handle.executeUpdate(decideApproval, {
      args: [
        signed(handle, 'approval', {
          decisionId: 'd2',
          stepId: 'approve_disable',
          decision: 'approve',
          actor: bob,
        }),
      ],
    });
    await waitForPlaybook(handle, 'completed');
    const rows = actionRows(stack, incidentId);
    expect(rows.map((r) => [r.stepId, r.action, r.status])).toEqual([
      ['disable_agent', 'agent.disable', 'succeeded'],
      ['after', 'notify', 'succeeded'],
    ]);
    expect(rows[1]!.params).toMatchObject({ message: 'approved=true' });
    const events = timelineRows(stack, incidentId);
    const approvals = events.filter((e) => e.kind === 'approval.approved');
    expect(approvals.map((e) => e.actor)).toEqual(['U_ALICE', 'U_BOB']);
    expect(events.some((e) => e.kind === 'milestone' && e.message.includes('contained'))).toBe(true);
    expect((await handle.query(incidentState)).playbook?.status).toBe('completed');
  });

  it('rejects the same person twice, unknown approvers, unknown steps and the requester (two-person rule)', async () => {
    const { handle } = await startIncident(stack, { playbook: twoOfThree, requestedBy: 'U_CAROL' });
    await waitForStep(handle, 'approve_disable', 'waiting');
    const decide = (decisionId: string, actor: Actor, stepId = 'approve_disable') =>
      handle.executeUpdate(decideApproval, {
        args: [signed(handle, 'approval', { decisionId, stepId, decision: 'approve', actor })],
      });
    await decide('a1', alice);
    await expect(decide('a2', alice)).rejects.toThrow(WorkflowUpdateFailedError);
    await expect(decide('a2', alice)).rejects.toMatchObject({
      cause: { message: expect.stringMatching(/already decided/) },
    });
    await expect(decide('m1', { id: 'U_MALLORY', via: 'api' })).rejects.toMatchObject({
      cause: { message: expect.stringMatching(/not an approver/) },
    });
    await expect(decide('x1', bob, 'no_such_step')).rejects.toMatchObject({
      cause: { message: expect.stringMatching(/unknown step no_such_step/) },
    });
    await expect(decide('c1', carol)).rejects.toMatchObject({
      cause: { message: expect.stringMatching(/two-person rule/) },
    });
    const s = await waitForStep(handle, 'approve_disable', 'waiting');
    expect(s.pendingApprovals[0]!.approvals).toBe(1);
  });

  it('approvers may be named by group or role', async () => {
    const pb = pinYaml(
      gated(`      approvers: { groups: [S0LEADS], roles: [incident_commander] }
      min_approvals: 2`),
    );
    const { handle } = await startIncident(stack, { playbook: pb });
    await waitForStep(handle, 'approve_disable', 'waiting');
    await handle.executeUpdate(decideApproval, {
      args: [
        signed(handle, 'approval', {
          decisionId: 'g1',
          stepId: 'approve_disable',
          decision: 'approve',
          actor: { ...alice, groups: ['S0LEADS'] },
        }),
      ],
    });
    await handle.executeUpdate(decideApproval, {
      args: [
        signed(handle, 'approval', {
          decisionId: 'r1',
          stepId: 'approve_disable',
          decision: 'approve',
          actor: { ...bob, roles: ['incident_commander'] },
        }),
      ],
    });
    await waitForPlaybook(handle, 'completed');
  });

  it('a rejection skips the gated action and the playbook goes on', async () => {
    const { incidentId, handle } = await startIncident(stack, { playbook: twoOfThree });
    await waitForStep(handle, 'approve_disable', 'waiting');
    await handle.executeUpdate(decideApproval, {
      args: [
        signed(handle, 'approval', {
          decisionId: 'rej',
          stepId: 'approve_disable',
          decision: 'reject',
          actor: bob,
          reason: 'too broad',
        }),
      ],
    });
    const s = await waitForPlaybook(handle, 'completed');
    expect(s.steps.find((x) => x.id === 'approve_disable')?.status).toBe('rejected');
    expect(s.steps.find((x) => x.id === 'disable_agent')?.status).toBe('skipped');
    const rows = actionRows(stack, incidentId);
    expect(rows.map((r) => r.stepId)).toEqual(['after']);
    expect(rows[0]!.params).toMatchObject({ message: 'approved=false' });
    expect(timelineRows(stack, incidentId).find((e) => e.kind === 'approval.rejected')?.message).toContain(
      'too broad',
    );
  });

  it('steps under a rejected approval are recorded as skipped, in their row and on the timeline', async () => {
    const nested = pinYaml(`
id: nested-reject
version: 1
title: Nested rejection
phases:
  contain:
    - id: gate
      kind: approval
      prompt: Contain?
      approvers: { users: [U_ALICE] }
      steps:
        - { id: disable_agent, kind: action, action: agent.disable, params: { agent_id: a1 } }
        - id: both
          kind: parallel
          steps:
            - { id: revoke, kind: action, action: credentials.revoke, params: { agent_id: a1 } }
            - { id: tell, kind: notify, message: revoked }
    - { id: after, kind: notify, message: done }
`);
    const { incidentId, handle } = await startIncident(stack, { playbook: nested });
    await waitForStep(handle, 'gate', 'waiting');
    await handle.executeUpdate(decideApproval, {
      args: [
        signed(handle, 'approval', { decisionId: 'no', stepId: 'gate', decision: 'reject', actor: alice }),
      ],
    });
    await waitForPlaybook(handle, 'completed');
    const under = ['disable_agent', 'both', 'revoke', 'tell'];
    const rows = await playbookStepsOf(stack.db, incidentId);
    const status = Object.fromEntries(rows.map((r) => [r.stepId, r.status]));
    expect(status).toMatchObject({
      gate: 'rejected',
      after: 'succeeded',
      ...Object.fromEntries(under.map((id) => [id, 'skipped'])),
    });
    const skipped = timelineRows(stack, incidentId).filter((e) => e.kind === 'step.skipped');
    expect(skipped.map((e) => (e.data as { stepId: string }).stepId)).toEqual(under);
    expect(skipped[0]!.message).toBe('Skipped disable_agent: approval gate was rejected');
    expect(actionRows(stack, incidentId).map((r) => r.stepId)).toEqual(['after']);
  });

  it('timeout escalates to the target with a second deadline, then applies the escalation outcome', async () => {
    const pb = pinYaml(
      gated(`      approvers: { users: [U_ALICE] }
      timeout: 2s
      on_timeout: escalate
      escalation: { target: S0SECLEADS, timeout: 2s, on_timeout: abort }`),
    );
    const { incidentId, handle } = await startIncident(stack, { playbook: pb });
    // Judged from the record once the playbook has ended: polling for the 2 s window in which the
    // step is escalated but still waiting can miss it on a loaded machine.
    const s = await waitForPlaybook(handle, 'aborted');
    expect(s.abortReason).toMatch(/approve_disable timed out/);
    const rows = timelineRows(stack, incidentId);
    const event = (kind: string) => {
      const row = rows.find(
        (r) => r.kind === kind && (r.data as { stepId?: string }).stepId === 'approve_disable',
      );
      expect(row, kind).toBeDefined();
      return { at: Date.parse(row!.at), data: row!.data as Record<string, string> };
    };
    const requested = event('step.waiting');
    const escalated = event('approval.escalated');
    const timedOut = event('approval.timed_out');
    const firstDeadline = Date.parse(requested.data.deadline!);
    const secondDeadline = Date.parse(escalated.data.deadline!);
    // The step's own timeout, then a second deadline from the escalation's timeout.
    expect(firstDeadline - requested.at).toBe(2000);
    expect(escalated.at).toBeGreaterThanOrEqual(firstDeadline);
    expect(secondDeadline - escalated.at).toBe(2000);
    expect(timedOut.at).toBeGreaterThanOrEqual(secondDeadline);
    expect(timedOut.data).toMatchObject({ outcome: 'abort' });
    expect(escalated.data).toMatchObject({ target: 'S0SECLEADS' });
    const notify = actionRows(stack, incidentId).find((r) => r.stepId === 'approve_disable.escalation');
    expect(notify?.params).toMatchObject({ target: 'S0SECLEADS' });

    const kinds = rows.map((e) => e.kind);
    expect(kinds).toEqual(
      expect.arrayContaining(['approval.escalated', 'approval.timed_out', 'playbook.aborted']),
    );
    expect(kinds.indexOf('approval.escalated')).toBeLessThan(kinds.indexOf('approval.timed_out'));
    expect(actionRows(stack, incidentId).some((r) => r.stepId === 'disable_agent')).toBe(false);
  });

  it('rejects a decision after the deadline', async () => {
    const pb = pinYaml(
      gated(`      approvers: { users: [U_ALICE] }
      timeout: 1s
      on_timeout: approve`),
    );
    const { handle } = await startIncident(stack, { playbook: pb });
    await waitForPlaybook(handle, 'completed');
    await expect(
      handle.executeUpdate(decideApproval, {
        args: [
          signed(handle, 'approval', {
            decisionId: 'late',
            stepId: 'approve_disable',
            decision: 'approve',
            actor: alice,
          }),
        ],
      }),
    ).rejects.toMatchObject({ cause: { message: expect.stringMatching(/not waiting/) } });
    const s = await waitForPlaybook(handle, 'completed');
    expect(s.steps.find((x) => x.id === 'disable_agent')?.status).toBe('succeeded');
  });

  it('an approval that arrives after the escalation still counts (second deadline not reached)', async () => {
    const pb = pinYaml(
      gated(`      approvers: { users: [U_ALICE] }
      timeout: 1s
      on_timeout: escalate
      escalation: { target: S0SECLEADS, timeout: 1h, on_timeout: reject }`),
    );
    const { incidentId, handle } = await startIncident(stack, { playbook: pb });
    await eventually(
      async () => (await waitForStep(handle, 'approve_disable', 'waiting')).pendingApprovals[0]?.escalated,
      15_000,
      'escalation',
    );
    await handle.executeUpdate(decideApproval, {
      args: [
        signed(handle, 'approval', {
          decisionId: 'late-but-ok',
          stepId: 'approve_disable',
          decision: 'approve',
          actor: alice,
        }),
      ],
    });
    const s = await waitForPlaybook(handle, 'completed');
    expect(s.steps.find((x) => x.id === 'approve_disable')?.approved).toBe(true);
    expect(actionRows(stack, incidentId).map((r) => r.stepId)).toEqual([
      'approve_disable.escalation',
      'disable_agent',
      'after',
    ]);
  });
});
