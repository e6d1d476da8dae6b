/**
 * Containment fails closed (issue 13 §1): with the real kill switch and the connectors a plain
 * `npm start` configures (no AWS, no PostgreSQL), a step that fails after `agent.disable` used to
 * abort the playbook, and the abort ran `agent.enable` ~150 ms after the disable. Each case here
 * is one such failure; the agent must stay disabled, nothing may re-enable it, and the incident
 * must say it needs attention (row, API, list filter, metrics, timeline) and page its escalation
 * target.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LiveConnectors } from '../../connectors/types';
import { getAgent } from '../../db/agents';
import { getIncident } from '../../db/incidents';
import { pinPlaybook } from '../../playbooks/loader';
import { importAgents, liveFor } from '../connectors/fixtures';
import { actionRows, pbState, pinYaml, startIncident, timelineRows } from '../helpers/playbooks';
import { bearer, eventually, startTestStack, TEST_ADMIN_TOKEN, type TestStack } from '../helpers/stack';

let stack: TestStack;
let live: LiveConnectors | undefined;
beforeAll(async () => {
  stack = await startTestStack({ liveConnectors: () => (live ??= liveFor(stack)) });
  const agent = (id: string, credentials: unknown[] = []) => ({
    id,
    name: id,
    owner: 'sec@example.com',
    environment: 'prod',
    credentials,
  });
  await importAgents(stack, [
    agent('agent-aws', [{ id: 'fc-aws-1', provider: 'aws_iam', reference: 'agent-aws/AKIAFAILCLOSED0001' }]),
    agent('agent-nocreds'),
    agent('agent-label', [
      { id: 'fc-aws-2', provider: 'aws_iam', reference: 'agent-label/AKIAFAILCLOSED0002' },
    ]),
    agent('agent-engine', [
      { id: 'fc-aws-3', provider: 'aws_iam', reference: 'agent-engine/AKIAFAILCLOSED0003' },
    ]),
  ]);
});
afterAll(async () => {
  await stack?.close();
});

const credentialLeak = pinPlaybook(
  fs.readFileSync(
    path.join(import.meta.dirname, '..', '..', 'playbooks', 'agent-credential-leak.yaml'),
    'utf8',
  ),
);

/** The playbook stopped (the old fail-open path) or the incident was marked (the fail-closed one). */
async function settled(incidentId: string, handle: Parameters<typeof pbState>[0]) {
  await eventually(
    async () => {
      const row = await getIncident(stack.db, incidentId);
      if (row?.needsAttentionAt) return true;
      return (await pbState(handle)).status !== 'running' || undefined;
    },
    30_000,
    'the playbook to stop or the incident to need attention',
  );
}

async function api(url: string) {
  const res = await fetch(`${stack.url}${url}`, { headers: bearer(TEST_ADMIN_TOKEN) });
  expect(res.status).toBe(200);
  return res;
}

async function expectContained(incidentId: string, agentId: string, failedStep: string) {
  expect((await getAgent(stack.db, agentId))?.status).toBe('disabled');
  const actions = actionRows(stack, incidentId);
  expect(actions.filter((r) => r.action === 'agent.enable')).toEqual([]);
  expect(actions.find((r) => r.stepId === 'disable_agent')).toMatchObject({ status: 'succeeded' });

  const detail = (await (await api(`/v1/incidents/${incidentId}`)).json()) as {
    needs_attention: { reason: string; step_id: string | null } | null;
  };
  expect(detail.needs_attention).toMatchObject({ step_id: failedStep });
  const listed = (await (await api(`/v1/incidents?needs_attention=true&limit=200`)).json()) as {
    incidents: { id: string }[];
  };
  expect(listed.incidents.map((i) => i.id)).toContain(incidentId);
  const events = timelineRows(stack, incidentId);
  expect(events.find((e) => e.kind === 'incident.needs_attention')?.data).toMatchObject({
    stepId: failedStep,
  });
  return { actions, detail };
}

describe('containment fails closed with the connectors of a plain start', () => {
  const cases = [
    {
      name: 'no connector for the credential’s provider',
      agentId: 'agent-aws',
      credentialId: 'fc-aws-1',
      why: /no connector is configured for aws_iam/,
    },
    {
      name: 'an agent without credentials',
      agentId: 'agent-nocreds',
      credentialId: 'fc-none',
      why: /no matching/,
    },
    {
      name: 'an unknown credential_id label',
      agentId: 'agent-label',
      credentialId: 'fc-unknown',
      why: /no matching/,
    },
  ];

  it.each(cases)(
    'credential leak, $name: the agent stays disabled',
    async ({ agentId, credentialId, why }) => {
      const { incidentId, handle } = await startIncident(stack, {
        playbook: credentialLeak,
        mode: 'live',
        severity: 'critical',
        agentId,
        labels: { incident_class: 'credential_leak', credential_id: credentialId },
      });
      await settled(incidentId, handle);
      const { actions, detail } = await expectContained(incidentId, agentId, 'revoke_credential');
      expect(detail.needs_attention!.reason).toMatch(why);
      // The escalation target the playbook names is paged, through the notify connector.
      expect(actions).toBeDefined();
      const page = await eventually(() =>
        actionRows(stack, incidentId).find((r) => r.stepId === 'needs_attention.page.0'),
      );
      expect(page.params).toMatchObject({ target: 'S0SECLEADS' });
      const s = await pbState(handle);
      expect(s.status).toBe('running');
      expect(s.contained).toEqual(['disable_agent']);
    },
  );

  it('a default on_failure abort after the disable keeps the agent disabled', async () => {
    const playbook = pinYaml(`
id: disable-then-revoke
version: 1
title: Disable, then revoke
phases:
  contain:
    - id: disable_agent
      kind: action
      action: agent.disable
      params: { agent_id: '\${{ incident.agent_id }}', reason: test }
      require_verified: true
    - id: revoke
      kind: action
      action: credentials.revoke
      params: { agent_id: '\${{ incident.agent_id }}' }
      require_verified: true
`);
    const { incidentId, handle } = await startIncident(stack, {
      playbook,
      mode: 'live',
      severity: 'critical',
      agentId: 'agent-engine',
    });
    await settled(incidentId, handle);
    await eventually(async () => (await pbState(handle)).status === 'aborted' || undefined, 30_000, 'abort');
    await expectContained(incidentId, 'agent-engine', 'revoke');
    const kept = timelineRows(stack, incidentId).filter((e) => e.kind === 'containment.kept');
    expect(kept.map((e) => e.data?.stepId)).toEqual(['disable_agent']);
    const metrics = await (await api('/metrics')).text();
    expect(metrics).toMatch(/firebreak_incidents_needs_attention\{mode="live",severity="critical"\} [1-9]/);
  });
});
