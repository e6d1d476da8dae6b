/**
 * Decisions sent straight to Temporal, as anyone with write access to the namespace (or the
 * unauthenticated embedded server) can: an invented actor with invented roles, a signature from
 * another key, a stale signed decision, and one person under two ids. Each is refused by the
 * workflow itself, written to the timeline as `decision.refused` and to the audit log, and the
 * gated `agent.disable` never runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ephemeralDecisionSigner } from '../../app/decision-signer';
import { auditEntries } from '../../db/audit';
import { signDecision } from '../../domain/decision-proof';
import type { Actor } from '../../domain/incident';
import { decideApproval, type ApprovalDecision } from '../../workflows/messages';
import { signed } from '../helpers/decisions';
import { actionRows, pbState, pinYaml, startIncident, timelineRows, waitForStep } from '../helpers/playbooks';
import { eventually, startTestStack, type TestStack } from '../helpers/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.close();
});

const twoApprovers = pinYaml(`
id: forged-decision
version: 1
title: Two approvers
phases:
  contain:
    - id: approve_disable
      kind: approval
      prompt: Disable the agent?
      approvers: { users: [U_ALICE, U_BOB], roles: [incident_commander] }
      min_approvals: 2
      steps:
        - id: disable_agent
          kind: action
          action: agent.disable
          params: { agent_id: '\${{ incident.agent_id }}' }
`);

const approve = (decisionId: string, actor: Actor) => ({
  decisionId,
  stepId: 'approve_disable',
  decision: 'approve' as const,
  actor,
});

async function refusedWith(p: Promise<unknown>, message: RegExp): Promise<void> {
  await expect(p).rejects.toMatchObject({
    cause: { type: 'Unauthorized', message: expect.stringMatching(message) },
  });
}

describe('decisions sent straight to Temporal', () => {
  it('refuses an unsigned or foreign-signed decideApproval with invented actors, and records each attempt as refused', async () => {
    const { incidentId, handle } = await startIncident(stack, { playbook: twoApprovers });
    await waitForStep(handle, 'approve_disable', 'waiting');
    const invented = (id: string): Actor => ({ id, name: id, roles: ['incident_commander'], via: 'api' });
    const unsigned = { ...approve('forged-1', invented('U_ALICE')) } as ApprovalDecision;
    await refusedWith(handle.executeUpdate(decideApproval, { args: [unsigned] }), /not signed by Firebreak/);
    const foreign = signDecision(
      ephemeralDecisionSigner(),
      incidentId,
      'approval',
      approve('forged-2', invented('U_BOB')),
    );
    await refusedWith(handle.executeUpdate(decideApproval, { args: [foreign] }), /does not verify/);

    const refused = await eventually(() => {
      const rows = timelineRows(stack, incidentId).filter((e) => e.kind === 'decision.refused');
      return rows.length === 2 ? rows : undefined;
    });
    expect(refused.map((e) => e.actor)).toEqual(['U_ALICE (unverified)', 'U_BOB (unverified)']);
    expect(refused[0]!.data).toMatchObject({
      decision: 'approval',
      stepId: 'approve_disable',
      verified: false,
    });
    const audit = (await auditEntries(stack.db)).filter((a) => a.incidentId === incidentId);
    expect(audit.map((a) => [a.actor, a.action, a.outcome])).toEqual([
      ['U_ALICE (unverified)', 'decision.approval', 'refused'],
      ['U_BOB (unverified)', 'decision.approval', 'refused'],
    ]);

    const s = await pbState(handle);
    expect(s.steps.find((x) => x.id === 'approve_disable')).toMatchObject({
      status: 'waiting',
      approvals: [],
    });
    expect(actionRows(stack, incidentId)).toEqual([]);
  });

  it('refuses a signed decision replayed after the signing window, and a signature moved to another incident', async () => {
    const { incidentId, handle } = await startIncident(stack, { playbook: twoApprovers });
    const other = await startIncident(stack, { playbook: twoApprovers });
    await waitForStep(handle, 'approve_disable', 'waiting');
    await waitForStep(other.handle, 'approve_disable', 'waiting');
    const alice: Actor = { id: 'U_ALICE', via: 'api' };
    const moved = signed(other.incidentId, 'approval', approve('moved', alice));
    await refusedWith(handle.executeUpdate(decideApproval, { args: [moved] }), /does not verify/);
    const stale = { ...signed(handle, 'approval', approve('stale', alice)) };
    stale.proof = { ...stale.proof, at: new Date(Date.now() - 10 * 60_000).toISOString() };
    await refusedWith(handle.executeUpdate(decideApproval, { args: [stale] }), /stale/);
    await eventually(
      () => timelineRows(stack, incidentId).filter((e) => e.kind === 'decision.refused').length === 2,
    );
    expect(actionRows(stack, incidentId)).toEqual([]);
  });

  it('two ids of one person cannot satisfy min_approvals: 2', async () => {
    const { incidentId, handle } = await startIncident(stack, { playbook: twoApprovers });
    await waitForStep(handle, 'approve_disable', 'waiting');
    // Alice as Slack signs her (the Slack receiver's view) and as the API signs her (config user).
    const viaSlack: Actor = { id: 'U_ALICE', person: 'alice', ids: ['alice', 'U_ALICE'], via: 'slack' };
    const viaApi: Actor = {
      id: 'alice',
      person: 'alice',
      ids: ['alice', 'U_ALICE'],
      roles: ['incident_commander'],
      via: 'api',
    };
    const first = await handle.executeUpdate(decideApproval, {
      args: [signed(handle, 'approval', approve('a-slack', viaSlack))],
    });
    expect(first.duplicate).toBe(false);
    await refusedWith(
      handle.executeUpdate(decideApproval, { args: [signed(handle, 'approval', approve('a-api', viaApi))] }),
      /two-person rule: alice is alice, who already decided on approve_disable as U_ALICE/,
    );
    await eventually(() => timelineRows(stack, incidentId).some((e) => e.kind === 'decision.refused'));
    const bob: Actor = { id: 'U_BOB', person: 'bob', ids: ['bob', 'U_BOB'], via: 'slack' };
    await handle.executeUpdate(decideApproval, { args: [signed(handle, 'approval', approve('b', bob))] });
    await waitForStep(handle, 'disable_agent', 'succeeded');
    const s = await pbState(handle);
    expect(s.steps.find((x) => x.id === 'approve_disable')?.approvals?.map((a) => a.person)).toEqual([
      'alice',
      'bob',
    ]);
  });
});
