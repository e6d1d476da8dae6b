/**
 * Golden tests: a built-in playbook plus scripted decisions and scripted action outcomes (a drill)
 * → the expected final state of every step and the exact sequence of changes made.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScriptedOutcome } from '../../domain/actions';
import { ACTIONS, isActionName } from '../../domain/actions';
import type { Severity } from '../../domain/alert';
import type { Actor, PlaybookState } from '../../domain/incident';
import { loadPlaybookDir } from '../../playbooks/loader';
import { completeTask, decideApproval } from '../../workflows/messages';
import { signed } from '../helpers/decisions';
import { actionRows, pbState, startIncident } from '../helpers/playbooks';
import { startTestStack, type TestStack } from '../helpers/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.close();
});

const builtins = new Map(loadPlaybookDir().map((p) => [p.id, p]));
const lead = (id: string): Actor => ({ id, via: 'slack', groups: ['S0SECLEADS'] });
const ic: Actor = { id: 'U_IC', via: 'api', roles: ['incident_commander'] };

type Decision = { approve: Actor[] } | { reject: Actor } | { complete: Actor };

interface Golden {
  playbook: string;
  severity: Severity;
  decisions: Record<string, Decision>;
  scripted?: Record<string, ScriptedOutcome>;
  inputs?: Record<string, string>;
}

/** Plays the scripted decisions as their steps start waiting, until the playbook ends. */
async function drive(handle: WorkflowHandle, g: Golden): Promise<PlaybookState> {
  const sent = new Set<string>();
  const deadline = Date.now() + 60_000;
  for (;;) {
    const s = await pbState(handle);
    if (s.status !== 'running') return s;
    if (Date.now() > deadline) throw new Error(`playbook stuck: ${JSON.stringify(s.steps.at(-1))}`);
    const waiting = [...s.pendingApprovals.map((p) => p.stepId), ...s.openTasks.map((t) => t.stepId)];
    for (const stepId of waiting) {
      const d = g.decisions[stepId];
      if (!d || sent.has(stepId)) continue;
      sent.add(stepId);
      if ('approve' in d) {
        for (const actor of d.approve) {
          await handle.executeUpdate(decideApproval, {
            args: [
              signed(handle, 'approval', {
                decisionId: `${stepId}:${actor.id}`,
                stepId,
                decision: 'approve',
                actor,
              }),
            ],
          });
        }
      } else if ('reject' in d) {
        await handle.executeUpdate(decideApproval, {
          args: [
            signed(handle, 'approval', {
              decisionId: `${stepId}:reject`,
              stepId,
              decision: 'reject',
              actor: d.reject,
            }),
          ],
        });
      } else {
        await handle.executeUpdate(completeTask, {
          args: [signed(handle, 'task', { decisionId: `${stepId}:done`, stepId, actor: d.complete })],
        });
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function play(g: Golden) {
  const { incidentId, handle } = await startIncident(stack, {
    playbook: builtins.get(g.playbook)!,
    severity: g.severity,
    requestedBy: 'U_REQUESTER',
    ...(g.scripted ? { scripted: g.scripted } : {}),
    ...(g.inputs ? { inputs: g.inputs } : {}),
  });
  const s = await drive(handle, g);
  const changes = actionRows(stack, incidentId)
    .filter((r) => isActionName(r.action) && ACTIONS[r.action].mutates)
    .map((r) => `${r.stepId} ${r.action}`);
  return {
    outcome: s.status,
    steps: s.steps.map((x) => `${x.id}: ${x.status}`),
    changes,
    phase: s.phase,
    contained: s.contained,
    needsAttention: s.needsAttention,
  };
}

const everyTaskDone = (ids: string[]) => Object.fromEntries(ids.map((id) => [id, { complete: ic }]));

describe('golden playbook runs (drill mode)', () => {
  it('credential leak, critical: contains automatically, rotates after approval, completes', async () => {
    const r = await play({
      playbook: 'agent-credential-leak',
      severity: 'critical',
      decisions: {
        approve_rotate: { approve: [lead('U_LEAD1')] },
        approve_reenable: { approve: [lead('U_LEAD2')] },
        ...everyTaskDone(['scope_use', 'verify_clean', 'postmortem']),
      },
    });
    expect(r).toEqual({
      outcome: 'completed',
      phase: 'done',
      contained: ['revoke_credential'],
      needsAttention: undefined,
      steps: [
        'preserve: succeeded',
        'preserve_traces: succeeded',
        'preserve_gateway_calls: succeeded',
        'announce: succeeded',
        'auto_contain: succeeded',
        'disable_agent: succeeded',
        'approve_disable: skipped',
        'disable_agent_approved: skipped',
        'revoke_credential: succeeded',
        'collect: succeeded',
        'collect_alerts: succeeded',
        'access_logs: succeeded',
        'auth_attempts: succeeded',
        'infra_changes: succeeded',
        'data_changes: succeeded',
        'traces: succeeded',
        'gateway_calls: succeeded',
        'firebreak_timeline: succeeded',
        'firebreak_audit: succeeded',
        'scope_use: succeeded',
        'approve_rotate: succeeded',
        'rotate_credential: succeeded',
        'approve_reenable: succeeded',
        'reenable_agent: succeeded',
        'verify_clean: succeeded',
        'announce_resolution: succeeded',
        'postmortem: succeeded',
      ],
      changes: [
        'disable_agent agent.disable',
        'revoke_credential credentials.revoke',
        'rotate_credential credentials.rotate',
        'reenable_agent agent.enable',
      ],
    });
  });

  it('credential leak, medium, both gates rejected: changes nothing and still completes', async () => {
    const r = await play({
      playbook: 'agent-credential-leak',
      severity: 'medium',
      decisions: {
        approve_disable: { reject: lead('U_LEAD1') },
        approve_rotate: { reject: ic },
        ...everyTaskDone(['scope_use', 'verify_clean', 'postmortem']),
      },
    });
    expect(r.outcome).toBe('completed');
    expect(r.changes).toEqual([]);
    expect(r.steps).toEqual(
      expect.arrayContaining([
        'disable_agent: skipped',
        'approve_disable: rejected',
        'disable_agent_approved: skipped',
        'revoke_credential: skipped',
        'approve_rotate: rejected',
        'rotate_credential: skipped',
        'approve_reenable: skipped',
        'reenable_agent: skipped',
      ]),
    );
  });

  it('anomalous agent, critical, kill switch does not verify: aborts, keeps both containments, needs attention', async () => {
    const r = await play({
      playbook: 'agent-anomalous-behavior',
      inputs: { data_resource: 'postgres:agent_7_data' },
      severity: 'critical',
      decisions: {},
      scripted: {
        disable_agent: { ok: true, verified: false, summary: 'status endpoint still says enabled' },
      },
    });
    expect(r.outcome).toBe('aborted');
    expect(r.changes).toEqual(['restrict_data access.restrict', 'disable_agent agent.disable']);
    expect(r.contained).toEqual(['restrict_data', 'disable_agent']);
    expect(r.needsAttention).toMatchObject({ stepId: 'disable_agent' });
    expect(r.steps).toEqual([
      'preserve: succeeded',
      'preserve_traces: succeeded',
      'preserve_gateway_calls: succeeded',
      'announce: succeeded',
      'snapshot: succeeded',
      'collect_alerts: succeeded',
      'restrict_data: succeeded',
      'stop_agent: failed',
      'disable_agent: failed',
      'approve_disable: skipped',
      'disable_agent_approved: skipped',
    ]);
  });

  it('anomalous agent, high, nothing of its own to restrict: goes straight to the disable', async () => {
    const r = await play({
      playbook: 'agent-anomalous-behavior',
      severity: 'high',
      decisions: {
        approve_rotate: { approve: [lead('U_LEAD1')] },
        approve_reenable: { approve: [lead('U_LEAD2')] },
        ...everyTaskDone(['find_injection', 'fix_guardrails', 'postmortem']),
      },
    });
    expect(r.outcome).toBe('completed');
    expect(r.changes).toEqual([
      'disable_agent agent.disable',
      'rotate_credentials credentials.rotate',
      'reenable_agent agent.enable',
    ]);
    expect(r.steps).toEqual(expect.arrayContaining(['restrict_data: skipped', 'disable_agent: succeeded']));
  });

  it('anomalous agent, high, data restriction fails: falls through to disabling the agent', async () => {
    const r = await play({
      playbook: 'agent-anomalous-behavior',
      inputs: { data_resource: 'postgres:agent_7_data' },
      severity: 'high',
      decisions: {
        approve_rotate: { approve: [lead('U_LEAD1')] },
        approve_reenable: { approve: [lead('U_LEAD2')] },
        ...everyTaskDone(['find_injection', 'fix_guardrails', 'postmortem']),
      },
      scripted: { restrict_data: { ok: false, summary: 'no postgres connector' } },
    });
    expect(r.outcome).toBe('completed');
    expect(r.changes).toEqual([
      'restrict_data access.restrict',
      'disable_agent agent.disable',
      'rotate_credentials credentials.rotate',
      'reenable_agent agent.enable',
    ]);
    expect(r.steps).toEqual(
      expect.arrayContaining([
        'restrict_data: failed',
        'disable_agent: succeeded',
        'approve_disable: skipped',
      ]),
    );
    expect(r.needsAttention).toMatchObject({ stepId: 'restrict_data' });
  });

  it('unauthorized API access, high: restriction verified so the agent keeps running; rotation needs two leads', async () => {
    const r = await play({
      playbook: 'agent-api-unauthorized-access',
      severity: 'high',
      decisions: {
        approve_rotate: { approve: [lead('U_LEAD1'), lead('U_LEAD2')] },
        approve_reenable: { approve: [lead('U_LEAD1')] },
        ...everyTaskDone(['identify_caller', 'fix_authz', 'postmortem']),
      },
    });
    expect(r.outcome).toBe('completed');
    expect(r.changes).toEqual([
      'restrict_api access.restrict',
      'rotate_credentials credentials.rotate',
      'reenable_agent agent.enable',
    ]);
    expect(r.steps).toContain('disable_agent: skipped');
  });
});
