import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  eventually,
  startTestStack,
  TEST_ADMIN_TOKEN,
  TEST_WEBHOOK_SECRET,
  type TestStack,
} from '../helpers/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.close();
});

const alert = {
  title: 'Agent credential seen on paste site',
  severity: 'high',
  source: 'siem',
  dedup_key: 'leak-1',
  agent_id: 'agent-7',
};

async function postAlert(body: unknown, token = TEST_WEBHOOK_SECRET) {
  return fetch(`${stack.url}/v1/alerts`, {
    method: 'POST',
    headers: bearer(token),
    body: JSON.stringify(body),
  });
}

async function getIncident(id: string) {
  const res = await fetch(`${stack.url}/v1/incidents/${id}`, { headers: bearer(TEST_ADMIN_TOKEN) });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

describe('alert → incident slice over HTTP on a real Temporal server', () => {
  it('answers 202 with an incident id and runs the incident workflow, which writes the row', async () => {
    const res = await postAlert(alert);
    expect(res.status).toBe(202);
    const body = (await res.json()) as { incident_id: string; deduplicated: boolean };
    expect(body.incident_id).toMatch(/^inc-[0-9a-f]{10}-1$/);
    expect(body.deduplicated).toBe(false);

    const inc = await eventually(
      async () => {
        const r = await getIncident(body.incident_id);
        return r.body.started_at ? r : undefined;
      },
      20_000,
      'incident workflow to record the incident',
    );
    expect(inc.status).toBe(200);
    expect(inc.body).toMatchObject({
      id: body.incident_id,
      status: 'open',
      mode: 'live',
      phase: 'assess',
      severity: 'high',
    });

    const handle = stack.temporal.client.workflow.getHandle(inc.body.workflow_id);
    const desc = await handle.describe();
    expect(desc.status.name).toBe('RUNNING');
    expect(desc.type).toBe('runIncident');
  });

  it('derives the workflow id from the dedup key, so a repeated alert joins the open incident', async () => {
    const first = (await (await postAlert({ ...alert, dedup_key: 'repeat-1' })).json()) as {
      incident_id: string;
    };
    const second = await postAlert({ ...alert, dedup_key: 'repeat-1' });
    expect(second.status).toBe(202);
    const body = (await second.json()) as { incident_id: string; deduplicated: boolean };
    expect(body).toMatchObject({ incident_id: first.incident_id, deduplicated: true });
    const other = (await (await postAlert({ ...alert, dedup_key: 'repeat-2' })).json()) as {
      incident_id: string;
    };
    expect(other.incident_id).not.toBe(first.incident_id);

    const state = await eventually(
      async () => {
        const s = await stack.temporal.client.workflow
          .getHandle(`incident-${first.incident_id}`)
          .query<{ alertCount: number }>('incidentState');
        return s.alertCount === 2 ? s : undefined;
      },
      20_000,
      'workflow to count both alerts',
    );
    expect(state.alertCount).toBe(2);
    expect((await getIncident(first.incident_id)).body.alerts.count).toBe(2);
  });

  it('drops a batch for an incident whose workflow ended outside Firebreak, and keeps dispatching', async () => {
    const first = (await (await postAlert({ ...alert, dedup_key: 'ended-1' })).json()) as {
      incident_id: string;
    };
    const handle = stack.temporal.client.workflow.getHandle(`incident-${first.incident_id}`);
    await eventually(
      async () => (await handle.query<{ alertCount: number }>('incidentState')).alertCount === 1,
      20_000,
      'the first alert to be counted',
    );
    await handle.terminate('ended by hand in the Temporal UI');
    // The outbox has signalled this workflow before, so it tries a plain signal first; the
    // workflow is gone, signal-with-start refuses to start it again, and the batch is dropped.
    expect((await postAlert({ ...alert, dedup_key: 'ended-1' })).status).toBe(202);
    await stack.outbox.drained();
    expect((await handle.describe()).status.name).toBe('TERMINATED');
    const next = (await (await postAlert({ ...alert, dedup_key: 'ended-2' })).json()) as {
      incident_id: string;
    };
    await eventually(
      async () =>
        (
          await stack.temporal.client.workflow
            .getHandle(`incident-${next.incident_id}`)
            .query<{ alertCount: number }>('incidentState')
        ).alertCount === 1,
      20_000,
      'a later incident to be dispatched',
    );
  });

  it('rejects a schema violation with 400 naming the field', async () => {
    const res = await postAlert({ ...alert, severity: 'urgent' });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { field: string } };
    expect(body.error.field).toBe('severity');
  });

  it('rejects malformed JSON with 400', async () => {
    const res = await fetch(`${stack.url}/v1/alerts`, {
      method: 'POST',
      headers: bearer(TEST_WEBHOOK_SECRET),
      body: '{"title":',
    });
    expect(res.status).toBe(400);
  });

  it('returns 404 for an unknown incident', async () => {
    expect((await getIncident('inc-0000000000-1')).status).toBe(404);
  });
});

describe('authentication', () => {
  it('rejects an alert without credentials, with a wrong secret, or with the admin token', async () => {
    const none = await fetch(`${stack.url}/v1/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(alert),
    });
    expect(none.status).toBe(401);
    expect((await postAlert(alert, 'wrong-secret-0123456789')).status).toBe(401);
    expect((await postAlert(alert, TEST_ADMIN_TOKEN)).status).toBe(401);
    const basic = await fetch(`${stack.url}/v1/alerts`, {
      method: 'POST',
      headers: { authorization: `Basic ${TEST_WEBHOOK_SECRET}` },
      body: JSON.stringify(alert),
    });
    expect(basic.status).toBe(401);
  });

  it('never echoes a secret in an error', async () => {
    const res = await postAlert(alert, 'wrong-secret-0123456789');
    const text = await res.text();
    expect(text).not.toContain(TEST_WEBHOOK_SECRET);
    expect(text).not.toContain('wrong-secret-0123456789');
  });

  it('rejects the incident API without a token, or with the webhook secret', async () => {
    expect((await fetch(`${stack.url}/v1/incidents/x`)).status).toBe(401);
    expect(
      (await fetch(`${stack.url}/v1/incidents/x`, { headers: bearer(TEST_WEBHOOK_SECRET) })).status,
    ).toBe(401);
  });
});
