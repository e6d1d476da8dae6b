import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { abortIncident, addNote, completeTask, escalate } from '../../workflows/messages';
import { signed } from '../helpers/decisions';
import {
  actionRows,
  alice,
  bob,
  pinYaml,
  releaseContainment,
  startIncident,
  timelineRows,
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

const containThenHold = pinYaml(`
id: compensation-test
version: 1
title: Compensation test
phases:
  contain:
    - id: disable_agent
      kind: action
      action: agent.disable
      params: { agent_id: '\${{ incident.agent_id }}' }
    - id: revoke
      kind: action
      action: credentials.revoke
      params: { agent_id: '\${{ incident.agent_id }}', credential_id: key-1 }
    - id: restrict
      kind: action
      action: access.restrict
      params: { agent_id: '\${{ incident.agent_id }}', resource: 'postgres:agent_rw' }
    - id: hold
      kind: manual_task
      task: Decide whether to keep the agent contained
  remediate:
    - id: enable
      kind: action
      action: agent.enable
      params: { agent_id: '\${{ incident.agent_id }}' }
`);

describe('abort and compensation', () => {
  it('an approved release aborts the running playbook and undoes every completed action in reverse order, once', async () => {
    const { incidentId, handle } = await startIncident(stack, { playbook: containThenHold });
    await waitForStep(handle, 'hold', 'waiting');
    const stepId = await releaseContainment(handle, [alice, bob], 'false positive');
    const s = await waitForStep(handle, stepId, 'succeeded');
    expect(s.status).toBe('aborted');
    expect(s.abortReason).toMatch(/^containment released \(release_1, approved by U_ALICE, U_BOB\)/);

    const rows = actionRows(stack, incidentId).map((r) => [r.stepId, r.action, r.status]);
    expect(rows).toEqual([
      ['disable_agent', 'agent.disable', 'succeeded'],
      ['revoke', 'credentials.revoke', 'succeeded'],
      ['restrict', 'access.restrict', 'succeeded'],
      ['restrict.undo', 'access.restore', 'succeeded'],
      ['revoke.undo', 'credentials.reactivate', 'succeeded'],
      ['disable_agent.undo', 'agent.enable', 'succeeded'],
    ]);
    // The undo gets the original target, so it restores exactly what was changed.
    expect(actionRows(stack, incidentId)[4]!.params).toMatchObject({
      agent_id: 'agent-7',
      credential_id: 'key-1',
    });
    expect(s.steps.filter((x) => x.status === 'compensated').map((x) => x.id)).toEqual([
      'disable_agent',
      'revoke',
      'restrict',
    ]);
    const events = timelineRows(stack, incidentId);
    expect(events.filter((e) => e.kind === 'compensation.succeeded').map((e) => e.data?.stepId)).toEqual([
      'restrict',
      'revoke',
      'disable_agent',
    ]);
    // The undo runs under the approver who completed k-of-n.
    expect(events.find((e) => e.kind === 'playbook.aborted')).toMatchObject({ actor: 'U_BOB' });
    expect(s.steps.some((x) => x.id === 'enable')).toBe(false);
  });

  it('an abort never releases containment, even one carrying a release flag (k-of-n cannot be skipped)', async () => {
    const { incidentId, handle } = await startIncident(stack, { playbook: containThenHold });
    await waitForStep(handle, 'hold', 'waiting');
    // A single decider's abort with the flag an earlier version honoured: signed, but not a release.
    const req = { decisionId: 'abort-flag', actor: alice, reason: 'false positive', release: true };
    const first = await handle.executeUpdate(abortIncident, { args: [signed(handle, 'abort', req)] });
    expect(first.duplicate).toBe(false);
    expect(
      (await handle.executeUpdate(abortIncident, { args: [signed(handle, 'abort', req)] })).duplicate,
    ).toBe(true);
    const s = await waitForPlaybook(handle, 'aborted');
    expect(s.abortReason).toBe('false positive');
    expect(s.contained).toEqual(['disable_agent', 'revoke', 'restrict']);
    expect(actionRows(stack, incidentId).map((r) => r.action)).not.toContain('agent.enable');
    expect(timelineRows(stack, incidentId).find((e) => e.kind === 'abort.requested')).toMatchObject({
      actor: 'U_ALICE',
      message: 'Alice aborted the playbook via api: false positive',
    });
  });

  it('abortIncident without release keeps every containment and marks the incident', async () => {
    const { incidentId, handle } = await startIncident(stack, { playbook: containThenHold });
    await waitForStep(handle, 'hold', 'waiting');
    await handle.executeUpdate(abortIncident, {
      args: [signed(handle, 'abort', { decisionId: 'abort-2', actor: alice, reason: 'wrong playbook' })],
    });
    const s = await waitForPlaybook(handle, 'aborted');
    expect(actionRows(stack, incidentId).map((r) => r.stepId)).toEqual([
      'disable_agent',
      'revoke',
      'restrict',
      'needs_attention.page.0',
    ]);
    expect(actionRows(stack, incidentId)[3]).toMatchObject({ action: 'notify', status: 'succeeded' });
    expect(s.contained).toEqual(['disable_agent', 'revoke', 'restrict']);
    expect(s.needsAttention?.reason).toBe('playbook aborted: wrong playbook');
    const events = timelineRows(stack, incidentId);
    expect(events.filter((e) => e.kind === 'containment.kept').map((e) => e.data?.stepId)).toEqual([
      'restrict',
      'revoke',
      'disable_agent',
    ]);
    expect(events.filter((e) => e.kind.startsWith('compensation.'))).toEqual([]);
  });

  it('a failed action with on_failure abort undoes what ran before it, except containment', async () => {
    const pb = pinYaml(`
id: abort-after-contain
version: 1
title: Abort after containment
phases:
  contain:
    - id: disable_agent
      kind: action
      action: agent.disable
      params: { agent_id: a1 }
    - id: enable_other
      kind: action
      action: agent.enable
      params: { agent_id: a2 }
    - id: restrict
      kind: action
      action: access.restrict
      params: { agent_id: a1, resource: 'db:rw' }
`);
    const { incidentId, handle } = await startIncident(stack, {
      playbook: pb,
      scripted: { restrict: { ok: false, summary: 'role not found' } },
    });
    const s = await waitForPlaybook(handle, 'aborted');
    expect(s.abortReason).toMatch(/restrict failed: role not found/);
    expect(actionRows(stack, incidentId).map((r) => [r.stepId, r.action])).toEqual([
      ['disable_agent', 'agent.disable'],
      ['enable_other', 'agent.enable'],
      ['restrict', 'access.restrict'],
      // The failed containment step pages first; the abort then undoes the rest.
      ['needs_attention.page.0', 'notify'],
      ['enable_other.undo', 'agent.disable'],
    ]);
    expect(s.needsAttention).toMatchObject({ stepId: 'restrict' });
  });

  it('on_failure compensate undoes an unverified action and continues, but never containment', async () => {
    const pb = pinYaml(`
id: compensate-step
version: 1
title: Compensate one step
phases:
  contain:
    - id: disable_agent
      kind: action
      action: agent.disable
      params: { agent_id: a1 }
      require_verified: true
      on_failure: compensate
    - id: enable_other
      kind: action
      action: agent.enable
      params: { agent_id: a2 }
      require_verified: true
      on_failure: compensate
    - id: flaky_notify
      kind: notify
      message: contained? \${{ steps.disable_agent.status }}, other \${{ steps.enable_other.status }}
      on_failure: continue
`);
    const { incidentId, handle } = await startIncident(stack, {
      playbook: pb,
      scripted: {
        disable_agent: { ok: true, verified: false },
        enable_other: { ok: true, verified: false },
        flaky_notify: { ok: false },
      },
    });
    const s = await waitForPlaybook(handle, 'completed');
    expect(s.steps.map((x) => [x.id, x.status])).toEqual([
      ['disable_agent', 'failed'],
      ['enable_other', 'compensated'],
      ['flaky_notify', 'failed'],
    ]);
    expect(actionRows(stack, incidentId).map((r) => r.stepId)).toEqual([
      'disable_agent',
      'needs_attention.page.0',
      'enable_other',
      'enable_other.undo',
      'flaky_notify',
    ]);
    expect(actionRows(stack, incidentId)[4]!.params).toMatchObject({
      message: 'contained? failed, other compensated',
    });
    // The unverified disable stays; a human is asked to look.
    expect(s.contained).toEqual(['disable_agent']);
    expect(s.needsAttention).toMatchObject({ stepId: 'disable_agent' });
    const kept = timelineRows(stack, incidentId).filter((e) => e.kind === 'containment.kept');
    expect(kept.map((e) => e.data?.stepId)).toEqual(['disable_agent']);
  });

  it('notes, escalations and task completions are recorded with their actor, once per decisionId', async () => {
    const { incidentId, handle } = await startIncident(stack, { playbook: containThenHold });
    await waitForStep(handle, 'hold', 'waiting');
    const note = { decisionId: 'n1', actor: bob, text: 'customer notified' };
    await handle.executeUpdate(addNote, { args: [signed(handle, 'note', note)] });
    await handle.executeUpdate(addNote, { args: [signed(handle, 'note', note)] });
    await handle.executeUpdate(escalate, {
      args: [
        signed(handle, 'escalate', { decisionId: 'e1', actor: bob, reason: 'need a DBA', target: 'S0DBA' }),
      ],
    });
    await expect(
      handle.executeUpdate(completeTask, {
        args: [signed(handle, 'task', { decisionId: 't0', stepId: 'disable_agent', actor: alice })],
      }),
    ).rejects.toMatchObject({ cause: { message: expect.stringMatching(/not a manual_task/) } });
    await handle.executeUpdate(completeTask, {
      args: [
        signed(handle, 'task', { decisionId: 't1', stepId: 'hold', actor: alice, note: 'keep contained' }),
      ],
    });
    await waitForPlaybook(handle, 'completed');
    const events = timelineRows(stack, incidentId);
    expect(events.filter((e) => e.kind === 'note')).toHaveLength(1);
    expect(events.find((e) => e.kind === 'note')).toMatchObject({
      actor: 'U_BOB',
      message: 'customer notified',
    });
    expect(events.find((e) => e.kind === 'escalated')?.message).toContain('S0DBA');
    expect(events.find((e) => e.kind === 'task.completed')).toMatchObject({ actor: 'U_ALICE' });
    expect(events.find((e) => e.kind === 'step.succeeded' && e.data?.stepId === 'hold')?.actor).toBe(
      'U_ALICE',
    );
    expect(actionRows(stack, incidentId).find((r) => r.stepId === 'escalate.e1.0')?.params).toMatchObject({
      target: 'S0DBA',
    });
  });
});
