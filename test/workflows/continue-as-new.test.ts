/**
 * Continue-as-new hands the next run `(input, carry)`. Starting a run with a carry taken mid-
 * playbook is exactly that hand-over: finished steps must not run again, a waiting approval keeps
 * its votes and its absolute deadline, decision ids stay deduplicated and compensations recorded
 * in the earlier run still undo on abort.
 */
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getIncident } from '../../db/incidents';
import { insertIncident } from '../../db/incidents';
import type { IncidentStart } from '../../domain/incident';
import { incidentWorkflowId } from '../../temporal/client';
import { decideApproval } from '../../workflows/messages';
import type { RunIncidentCarry, runIncident } from '../../workflows/run-incident';
import { signed } from '../helpers/decisions';
import { testDecisionStart } from '../helpers/decisions';
import {
  actionRows,
  alice,
  bob,
  pinYaml,
  releaseContainment,
  waitForPlaybook,
  waitForStep,
} from '../helpers/playbooks';
import { startTestStack, type TestStack } from '../helpers/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.close();
});

const pb = pinYaml(`
id: carry-test
version: 1
title: Carry test
phases:
  assess:
    - { id: announce, kind: notify, message: hi }
  contain:
    - { id: disable, kind: action, action: agent.disable, params: { agent_id: a1 } }
    - id: gate
      kind: approval
      prompt: Revoke?
      approvers: { users: [U_ALICE, U_BOB] }
      min_approvals: 2
      timeout: 1h
      steps:
        - { id: revoke, kind: action, action: credentials.revoke, params: { agent_id: a1 } }
    - { id: hold, kind: manual_task, task: hold }
`);

async function startCarried(adjust: (carry: RunIncidentCarry) => void = () => {}) {
  const incidentId = `inc-${crypto.randomBytes(5).toString('hex')}-1`;
  const handle = await start(incidentId, adjust);
  return { incidentId, handle };
}

async function start(incidentId: string, adjust: (carry: RunIncidentCarry) => void) {
  const now = new Date();
  await insertIncident(stack.db, {
    id: incidentId,
    key: `carry:${incidentId}`,
    seq: 1,
    workflowId: incidentWorkflowId(incidentId),
    source: 'test',
    title: 't',
    severity: 'high',
    status: 'open',
    mode: 'drill',
    phase: 'contain',
    startedAt: now.toISOString(),
    firstAlertAt: now.toISOString(),
    lastAlertAt: now.toISOString(),
    openedAt: now.toISOString(),
    updatedAt: now.toISOString(),
  });
  const input: IncidentStart = {
    incidentId,
    key: `carry:${incidentId}`,
    mode: 'drill',
    source: 'test',
    title: 't',
    severity: 'high',
    agentId: 'a1',
    openedAt: now.toISOString(),
    playbook: pb,
    ...testDecisionStart,
  };
  const deadline = new Date(now.getTime() + 3_600_000).toISOString();
  const carry: RunIncidentCarry = {
    started: true,
    state: {
      incidentId,
      status: 'open',
      phase: 'contain',
      alertCount: 1,
      latestAlertId: 'alt_1',
      lastSeenAt: now.toISOString(),
      lastAlertSeq: 1,
    },
    run: {
      status: 'running',
      phase: 'contain',
      milestones: ['assess'],
      compensations: [{ stepId: 'disable', action: 'agent.enable', params: { agent_id: 'a1' } }],
      steps: {
        announce: { id: 'announce', kind: 'notify', phase: 'assess', status: 'succeeded', ok: true },
        disable: {
          id: 'disable',
          kind: 'action',
          phase: 'contain',
          status: 'succeeded',
          ok: true,
          verified: true,
        },
        gate: {
          id: 'gate',
          kind: 'approval',
          phase: 'contain',
          status: 'waiting',
          deadline,
          escalated: false,
          approvals: [{ decisionId: 'd1', actorId: 'U_ALICE', decision: 'approve', at: now.toISOString() }],
        },
      },
    },
    // Keyed by kind, step, person and id, as the handlers remember decisions (decisions.ts).
    decisions: {
      'approval:gate:U_ALICE:d1': {
        decisionId: 'd1',
        duplicate: false,
        stepId: 'gate',
        stepStatus: 'waiting',
      },
    },
  };
  adjust(carry);
  return stack.temporal.client.workflow.start<typeof runIncident>('runIncident', {
    workflowId: incidentWorkflowId(incidentId),
    taskQueue: stack.temporal.taskQueue,
    args: [input, carry],
  });
}

describe('continue-as-new hand-over', () => {
  it('resumes a waiting approval with its votes and deadline; finished steps do not run again', async () => {
    const { incidentId, handle } = await startCarried();
    const s = await waitForStep(handle, 'gate', 'waiting');
    expect(s.pendingApprovals[0]).toMatchObject({ approvals: 1, minApprovals: 2 });
    expect(Date.parse(s.pendingApprovals[0]!.deadline!) - Date.now()).toBeGreaterThan(3_500_000);
    const dup = await handle.executeUpdate(decideApproval, {
      args: [
        signed(handle, 'approval', { decisionId: 'd1', stepId: 'gate', decision: 'approve', actor: alice }),
      ],
    });
    expect(dup.duplicate).toBe(true);
    await handle.executeUpdate(decideApproval, {
      args: [
        signed(handle, 'approval', { decisionId: 'd2', stepId: 'gate', decision: 'approve', actor: bob }),
      ],
    });
    await waitForStep(handle, 'hold', 'waiting');
    await releaseContainment(handle, [alice, bob], 'drill');
    await waitForStep(handle, 'release_1', 'succeeded');
    expect(actionRows(stack, incidentId).map((r) => `${r.stepId} ${r.action}`)).toEqual([
      'revoke credentials.revoke',
      'revoke.undo credentials.reactivate',
      'disable.undo agent.enable',
    ]);
    const row = await getIncident(stack.db, incidentId);
    expect(row?.phase).toBe('contain');
  });

  it('a release requested before the hand-over still aborts and undoes the earlier run actions', async () => {
    const { incidentId, handle } = await startCarried((carry) => {
      carry.run!.abortRequested = { actor: 'U_BOB', reason: 'requested in the previous run', release: true };
    });
    const s = await waitForPlaybook(handle, 'aborted');
    expect(s.abortReason).toBe('requested in the previous run');
    expect(actionRows(stack, incidentId).map((r) => `${r.stepId} ${r.action}`)).toEqual([
      'disable.undo agent.enable',
    ]);
  });

  it('an abort without release carried over keeps the earlier run containment, carried without its flag', async () => {
    const { incidentId, handle } = await startCarried((carry) => {
      carry.run!.abortRequested = { actor: 'U_BOB', reason: 'requested in the previous run' };
    });
    const s = await waitForPlaybook(handle, 'aborted');
    expect(s.contained).toEqual(['disable']);
    expect(actionRows(stack, incidentId).map((r) => r.action)).not.toContain('agent.enable');
    expect(s.needsAttention?.reason).toBe('playbook aborted: requested in the previous run');
  });
});
