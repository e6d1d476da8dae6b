/**
 * Only the right alerts trigger containment: a source declares the agents it may raise alerts
 * about (by id, team or environment from the inventory) and its highest severity. An alert about
 * another agent, or above that severity, opens an incident whose containment waits for a
 * confirmation by the source's confirm_approvers; the severity is lowered and the timeline says so.
 */
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFileConfig } from '../../app/config-file';
import { queryIncident } from '../../temporal/client';
import { playbookState } from '../../workflows/messages';
import { importAgents } from '../connectors/fixtures';
import { post } from '../helpers/intake';
import { actionRows, timelineRows } from '../helpers/playbooks';
import { bearer, eventually, startTestStack, TEST_ADMIN_TOKEN, type TestStack } from '../helpers/stack';

const SIEM = 'siem-payments-secret-0123456789';
const CAROL = 'carol-token-0123456789abcdef';
const sha = (t: string) => crypto.createHash('sha256').update(t).digest('hex');

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({
    fileConfig: parseFileConfig(
      {
        sources: [
          {
            id: 'siem-payments',
            secret: SIEM,
            scope: { teams: ['payments'] },
            max_severity: 'high',
          },
        ],
        // Drill mode: actions are simulated, so what runs (or waits) is the only variable here.
        rules: [{ match: { source: 'siem-payments' }, mode: 'drill' }],
        users: [
          {
            id: 'carol',
            name: 'Carol',
            slack_user_id: 'U_CAROL',
            roles: ['incident_commander'],
            tokens: [{ token_sha256: sha(CAROL), scopes: ['read', 'respond'] }],
          },
        ],
      },
      {},
      'test config',
    ),
  });
  await importAgents(stack, [
    {
      id: 'agent-pay',
      name: 'Payments agent',
      owner: 'pay@example.com',
      team: 'payments',
      environment: 'prod',
    },
    { id: 'agent-ml', name: 'ML agent', owner: 'ml@example.com', team: 'ml', environment: 'prod' },
  ]);
});
afterAll(async () => {
  await stack?.close();
});

const alert = (agentId: string, severity: string, key: string) =>
  post(
    `${stack.url}/v1/alerts`,
    {
      title: 'System prompt changed without a change request',
      severity,
      source: 'siem',
      dedup_key: key,
      agent_id: agentId,
      labels: { incident_class: 'config_tampering' },
    },
    { authorization: `Bearer ${SIEM}` },
  );

const stepStatus = async (incidentId: string, stepId: string) =>
  (await queryIncident(stack.temporal, incidentId, playbookState))?.steps.find((s) => s.id === stepId)
    ?.status;

const ranAction = (incidentId: string, stepId: string) =>
  actionRows(stack, incidentId).some((r) => r.stepId === stepId);

describe('alert source scope', () => {
  it('contains at once for an agent inside the source scope', async () => {
    const res = await alert('agent-pay', 'high', 'in-scope-1');
    expect(res.status).toBe(202);
    const id = res.json.incident_id as string;
    await eventually(() => ranAction(id, 'disable_agent'), 20_000, 'disable_agent to run');
    expect(await stepStatus(id, 'confirm_disable_agent')).toBeUndefined();
    expect(timelineRows(stack, id).map((r) => r.kind)).not.toContain('alert.out_of_scope');
  });

  it('asks a human before containing an agent outside the scope, and clamps a severity above the max', async () => {
    const res = await alert('agent-ml', 'critical', 'out-of-scope-1');
    expect(res.status).toBe(202);
    const id = res.json.incident_id as string;
    await eventually(
      async () => (await stepStatus(id, 'confirm_disable_agent')) === 'waiting',
      20_000,
      'the containment confirmation to wait',
    );
    expect(ranAction(id, 'disable_agent')).toBe(false);

    const inc = (await (
      await fetch(`${stack.url}/v1/incidents/${id}`, { headers: bearer(TEST_ADMIN_TOKEN) })
    ).json()) as { severity: string };
    expect(inc.severity).toBe('high');
    const notes = timelineRows(stack, id).filter((r) => r.actor === 'intake');
    expect(notes.map((r) => r.kind)).toEqual(
      expect.arrayContaining(['alert.severity_clamped', 'alert.out_of_scope']),
    );
    expect(notes.find((r) => r.kind === 'alert.severity_clamped')?.message).toMatch(
      /critical was lowered to high/,
    );
    expect(notes.find((r) => r.kind === 'alert.out_of_scope')?.message).toMatch(
      /teams payments, not agent agent-ml/,
    );

    // The source's confirm_approvers (default: the incident_commander role) confirm it.
    const ok = await fetch(`${stack.url}/v1/incidents/${id}/approvals/confirm_disable_agent`, {
      method: 'POST',
      headers: bearer(CAROL),
      body: JSON.stringify({ decision: 'approve', reason: 'confirmed with the ML team' }),
    });
    expect(ok.status).toBe(200);
    await eventually(() => ranAction(id, 'disable_agent'), 20_000, 'disable_agent to run once confirmed');
  });

  it('asks a human for an in-scope agent whose alert is above the max severity', async () => {
    const res = await alert('agent-pay', 'critical', 'too-severe-1');
    const id = res.json.incident_id as string;
    await eventually(
      async () => (await stepStatus(id, 'confirm_disable_agent')) === 'waiting',
      20_000,
      'the containment confirmation to wait',
    );
    expect(ranAction(id, 'disable_agent')).toBe(false);
    const kinds = timelineRows(stack, id).map((r) => r.kind);
    expect(kinds).toContain('alert.severity_clamped');
    expect(kinds).not.toContain('alert.out_of_scope');
  });
});
