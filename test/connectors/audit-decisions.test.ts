/**
 * Every kind of human decision reaches the signed audit log with the person who made it: real
 * incidents driven through the API with named users' tokens (approve, reject, task done, note,
 * escalate, abort, close), a role assignment and an inventory status change. Each appears once,
 * however often the decision is repeated, and the chain verifies with the public key only.
 */
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFileConfig } from '../../app/config-file';
import { setAgentStatus, upsertAgents } from '../../db/agents';
import { auditEntries, verifyAuditChain, type AuditRow } from '../../db/audit';
import { assignRole } from '../../db/incident-roles';
import { incidentState } from '../../workflows/messages';
import { pinYaml, startIncident, timelineRows, waitForStep } from '../helpers/playbooks';
import { bearer, eventually, startTestStack, type TestStack } from '../helpers/stack';

const tokens = { alice: 'alice-token-0123456789abcdef', bob: 'bob-token-0123456789abcdef' };
const sha = (t: string) => crypto.createHash('sha256').update(t).digest('hex');

const playbook = pinYaml(`
id: audited
version: 1
title: Audited decisions
phases:
  contain:
    - id: approve_disable
      kind: approval
      prompt: Disable the agent?
      approvers: { users: [U_ALICE, U_BOB] }
      min_approvals: 1
      steps:
        - id: disable_agent
          kind: action
          action: agent.disable
          params: { agent_id: '\${{ incident.agent_id }}' }
  postmortem:
    - id: write_up
      kind: manual_task
      task: Write the post-mortem
`);

let stack: TestStack;
beforeAll(async () => {
  const user = (id: string, name: string, slack: string, token: string) => ({
    id,
    name,
    slack_user_id: slack,
    roles: ['responder'],
    tokens: [{ token_sha256: sha(token), scopes: ['read', 'respond'] }],
  });
  stack = await startTestStack({
    fileConfig: parseFileConfig(
      { users: [user('alice', 'Alice', 'U_ALICE', tokens.alice), user('bob', 'Bob', 'U_BOB', tokens.bob)] },
      {},
      'test config',
    ),
  });
});
afterAll(async () => {
  await stack?.close();
});

const post = (path: string, token: string, body: unknown) =>
  fetch(`${stack.url}/v1/incidents/${path}`, {
    method: 'POST',
    headers: bearer(token),
    body: JSON.stringify(body),
  });

async function ok(res: Promise<Response>): Promise<void> {
  const r = await res;
  expect(r.status, await r.clone().text()).toBe(200);
}

const entriesOf = async (incidentId: string) =>
  (await auditEntries(stack.db)).filter((e) => e.incidentId === incidentId);
const decisions = (rows: AuditRow[]) =>
  rows
    .filter((e) => e.action.startsWith('decision.') || e.action === 'incident.close')
    .map((e) => ({ action: e.action, actor: e.actor, target: e.target }));

describe('audit log of human decisions', () => {
  it('records approve, task done, note, escalate and close with their actors, once each', async () => {
    const { incidentId, handle } = await startIncident(stack, { playbook, requestedBy: 'U_BOB' });
    await waitForStep(handle, 'approve_disable', 'waiting');
    await ok(
      post(`${incidentId}/notes`, tokens.alice, {
        text: 'token sk-live-abc on paste site',
        decision_id: 'n-1',
      }),
    );
    // The same decision again (a client retry): answered as a duplicate, audited once.
    await ok(
      post(`${incidentId}/notes`, tokens.alice, {
        text: 'token sk-live-abc on paste site',
        decision_id: 'n-1',
      }),
    );
    await ok(post(`${incidentId}/escalate`, tokens.bob, { reason: 'needs the platform team' }));
    await ok(
      post(`${incidentId}/approvals/approve_disable`, tokens.alice, {
        decision: 'approve',
        reason: 'leaking',
      }),
    );
    await waitForStep(handle, 'write_up', 'waiting');
    await ok(post(`${incidentId}/tasks/write_up/done`, tokens.bob, { note: 'drafted' }));
    await ok(post(`${incidentId}/close`, tokens.alice, { reason: 'contained and written up' }));
    expect((await handle.query(incidentState)).status).toBe('closed');

    const rows = await entriesOf(incidentId);
    expect(decisions(rows)).toEqual([
      { action: 'decision.note', actor: 'U_ALICE', target: `incident:${incidentId}` },
      { action: 'decision.escalate', actor: 'U_BOB', target: `incident:${incidentId}` },
      { action: 'decision.approve', actor: 'U_ALICE', target: `incident:${incidentId}/step:approve_disable` },
      { action: 'decision.task_done', actor: 'U_BOB', target: `incident:${incidentId}/step:write_up` },
      { action: 'incident.close', actor: 'U_ALICE', target: `incident:${incidentId}` },
    ]);
    const approve = rows.find((e) => e.action === 'decision.approve')!;
    expect(approve).toMatchObject({ stepId: 'approve_disable', outcome: 'accepted' });
    expect(approve.inputs).toMatchObject({
      decision: 'approve',
      via: 'api',
      decision_id: expect.any(String),
    });
    expect(approve.signature).toEqual(expect.any(String));
    expect(rows.find((e) => e.action === 'incident.close')!.inputs).toEqual({
      reason: 'contained and written up',
    });
    // Every decision on the timeline has its audit entry (nothing a person did is missing).
    const decided = timelineRows(stack, incidentId).filter((r) => r.eventKey?.includes(':decision:'));
    expect(decided.filter((r) => r.kind !== 'escalation.notify_failed')).toHaveLength(4);
    expect(await verifyAuditChain(stack.db, { key: stack.auditKey })).toMatchObject({ ok: true });
  });

  it('records a rejection and an abort by the people who made them', async () => {
    const rejected = await startIncident(stack, { playbook, requestedBy: 'U_BOB' });
    await waitForStep(rejected.handle, 'approve_disable', 'waiting');
    await ok(
      post(`${rejected.incidentId}/approvals/approve_disable`, tokens.bob, {
        decision: 'reject',
        reason: 'wrong agent',
      }),
    );

    const aborted = await startIncident(stack, { playbook, requestedBy: 'U_BOB' });
    await waitForStep(aborted.handle, 'approve_disable', 'waiting');
    await ok(post(`${aborted.incidentId}/abort`, tokens.alice, { reason: 'duplicate of another incident' }));
    await eventually(
      async () => (await aborted.handle.query(incidentState)).playbook?.status === 'aborted',
      20_000,
      'playbook to abort',
    );

    expect(decisions(await entriesOf(rejected.incidentId))).toEqual([
      {
        action: 'decision.reject',
        actor: 'U_BOB',
        target: `incident:${rejected.incidentId}/step:approve_disable`,
      },
    ]);
    const abort = decisions(await entriesOf(aborted.incidentId));
    expect(abort).toEqual([
      { action: 'decision.abort', actor: 'U_ALICE', target: `incident:${aborted.incidentId}` },
    ]);
    expect(await verifyAuditChain(stack.db, { key: stack.auditKey })).toMatchObject({ ok: true });
  });

  it('records role assignments and inventory status changes with their actor', async () => {
    const { incidentId } = await startIncident(stack, { playbook, requestedBy: 'U_BOB' });
    const at = new Date().toISOString();
    const role = { incidentId, role: 'commander', userId: 'U_BOB', assignedBy: 'U_ALICE', assignedAt: at };
    const event = {
      incidentId,
      kind: 'role.assigned',
      actor: 'U_ALICE',
      message: 'commander is now U_BOB',
      eventKey: `${incidentId}:role:trigger-1`,
    };
    await assignRole(stack.db, role, event, at);
    await assignRole(stack.db, role, event, at); // a retried command: nothing new
    await upsertAgents(
      stack.db,
      [
        {
          id: 'agent-audit',
          name: 'A',
          owner: 'o',
          team: null,
          environment: 'prod',
          runtimeRef: null,
          status: 'enabled',
          tools: [],
          permissions: [],
          credentials: [],
        },
      ],
      at,
    );
    const by = { actor: 'U_ALICE', incidentId };
    await setAgentStatus(stack.db, 'agent-audit', 'disabled', at, by);
    await setAgentStatus(stack.db, 'agent-audit', 'disabled', at, by); // no change: not audited

    const rows = (await entriesOf(incidentId)).filter((e) => !e.action.startsWith('decision.'));
    expect(rows.map((e) => ({ action: e.action, actor: e.actor, target: e.target }))).toEqual([
      { action: 'role.assign', actor: 'U_ALICE', target: `incident:${incidentId}/role:commander` },
      { action: 'inventory.status', actor: 'U_ALICE', target: 'agent:agent-audit' },
    ]);
    expect(rows[1]!.detail).toEqual({ from: 'enabled', to: 'disabled', version: 2 });
    expect(await verifyAuditChain(stack.db, { key: stack.auditKey })).toMatchObject({ ok: true });
  });
});
