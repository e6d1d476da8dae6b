import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { playbookStepsOf } from '../../db/incident-projection';
import { getIncident } from '../../db/incidents';
import { storeAlert } from '../../intake/store';
import { BUILTIN_PLAYBOOK_DIR, sha256 } from '../../playbooks/loader';
import { incidentState, playbookState } from '../../workflows/messages';
import { bearer, eventually, startTestStack, TEST_WEBHOOK_SECRET, type TestStack } from '../helpers/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.close();
});

async function postAlert(body: unknown): Promise<string> {
  const res = await fetch(`${stack.url}/v1/alerts`, {
    method: 'POST',
    headers: bearer(TEST_WEBHOOK_SECRET),
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(202);
  return ((await res.json()) as { incident_id: string }).incident_id;
}

describe('playbook selection at intake', () => {
  it('pins the playbook matching the alert labels into the workflow start, with its source hash', async () => {
    const id = await postAlert({
      title: 'Agent exfiltrating rows to an unknown host',
      severity: 'high',
      source: 'siem',
      dedup_key: 'anomaly-1',
      agent_id: 'agent-9',
      labels: { incident_class: 'agent_anomaly' },
    });
    const row = await eventually(
      async () => {
        const r = await getIncident(stack.db, id);
        return r?.startedAt ? r : undefined;
      },
      20_000,
      'incident workflow to start',
    );
    const source = fs.readFileSync(path.join(BUILTIN_PLAYBOOK_DIR, 'agent-anomalous-behavior.yaml'), 'utf8');
    expect(row).toMatchObject({
      playbookId: 'agent-anomalous-behavior',
      playbookVersion: 1,
      playbookHash: sha256(source),
    });

    const handle = stack.temporal.client.workflow.getHandle(row.workflowId);
    const state = await handle.query(incidentState);
    expect(state.playbook).toMatchObject({ id: 'agent-anomalous-behavior', hash: sha256(source) });
    // A live incident with no live connectors configured: the announcement fails (on_failure
    // continue), which shows the incident's mode reached executeAction.
    const pb = await eventually(
      async () => {
        const s = await handle.query(playbookState);
        return s?.steps.find((x) => x.id === 'announce' && x.status === 'failed') ? s : undefined;
      },
      20_000,
      'announce step to fail without a live connector',
    );
    expect(pb.steps.find((x) => x.id === 'announce')?.error).toMatch(
      /no live connector is configured for notify/,
    );
    const projected = await eventually(async () =>
      (await playbookStepsOf(stack.db, id)).find((r) => r.stepId === 'announce'),
    );
    expect(projected).toMatchObject({ phase: 'assess', kind: 'notify' });
  });

  it('runs the triage playbook when nothing matches', async () => {
    const id = await postAlert({
      title: 'Unclassified',
      severity: 'low',
      source: 'siem',
      dedup_key: 'plain-1',
    });
    const row = await eventually(
      async () => {
        const r = await getIncident(stack.db, id);
        return r?.startedAt ? r : undefined;
      },
      20_000,
      'incident workflow to start',
    );
    const handle = stack.temporal.client.workflow.getHandle(row.workflowId);
    expect(await handle.query(playbookState)).toMatchObject({ id: 'triage', status: 'running' });
    expect(await handle.query(incidentState)).toMatchObject({
      status: 'open',
      phase: 'assess',
      playbook: { id: 'triage' },
    });
  });

  it('a playbook named on the incident (intake routing) wins over label matching', async () => {
    // No dispatch may be running: the row must carry its playbook before the outbox reads it.
    await stack.outbox.drained();
    const now = new Date().toISOString();
    const { incidentId: stored } = await storeAlert(
      stack.db,
      {
        format: 'generic',
        source: 'siem',
        origin: 'siem',
        dedupKey: 'routed-1',
        title: 'Routed alert',
        severity: 'low',
        status: 'firing',
        agentId: 'agent-3',
        labels: { incident_class: 'agent_anomaly' },
        details: {},
        occurredAt: now,
      },
      { receivedAt: now },
    );
    // A firing alert always opens or joins an incident (null is only for a resolve with none open).
    const incidentId = stored!;
    // What a routing rule naming a playbook would have stored with the incident.
    stack.db.$client
      .prepare('update incidents set playbook_id = ? where id = ?')
      .run('agent-config-tampering', incidentId);
    stack.outbox.kick();
    const row = await eventually(
      async () => {
        const r = await getIncident(stack.db, incidentId!);
        return r?.startedAt ? r : undefined;
      },
      20_000,
      'incident workflow to start',
    );
    const handle = stack.temporal.client.workflow.getHandle(row.workflowId);
    expect((await handle.query(incidentState)).playbook?.id).toBe('agent-config-tampering');
    expect(row.playbookHash).toMatch(/^[0-9a-f]{64}$/);
  });
});
