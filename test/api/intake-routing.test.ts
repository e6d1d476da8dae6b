import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFileConfig } from '../../app/config-file';
import { queryIncident } from '../../temporal/client';
import { closeIncident, incidentState } from '../../workflows/messages';
import { signed } from '../helpers/decisions';
import { alertmanagerBody, pagerdutyEvent, post } from '../helpers/intake';
import {
  bearer,
  eventually,
  startTestStack,
  TEST_ADMIN_TOKEN,
  TEST_WEBHOOK_SECRET,
  type TestStack,
} from '../helpers/stack';

const PROM = 'prom-secret-0123456789abcdef';
const PROM_GROUPED = 'prom-grouped-secret-0123456789';
const PD_KEY = 'R0UTINGKEY0123456789abcdef012345';
const fileConfig = parseFileConfig(
  {
    sources: [
      { id: 'prometheus', secret: PROM },
      { id: 'prom-grouped', secret: PROM_GROUPED, alertmanager_key: 'group' },
      { id: 'pagerduty', routing_key: PD_KEY },
    ],
    rules: [
      {
        name: 'pd',
        match: { source: 'pagerduty' },
        on_resolved: 'resolve',
        playbook: 'contain-agent',
        severity: 'critical',
      },
      {
        name: 'by-agent',
        match: { labels: { team: 'agents' } },
        group_by: 'agent_id',
        window: '10m',
        playbook: 'agent-triage',
      },
    ],
  },
  {},
  'test config',
);

let stack: TestStack;
let clock = Date.now();
beforeAll(async () => {
  stack = await startTestStack({ fileConfig, now: () => new Date(clock) });
});
afterAll(async () => {
  await stack?.close();
});

const auth = (secret: string) => ({ authorization: `Bearer ${secret}` });
async function incident(id: string) {
  const res = await fetch(`${stack.url}/v1/incidents/${id}`, { headers: bearer(TEST_ADMIN_TOKEN) });
  return (await res.json()) as any;
}
async function timelineKinds(id: string): Promise<string[]> {
  const res = await fetch(`${stack.url}/v1/incidents/${id}/timeline`, { headers: bearer(TEST_ADMIN_TOKEN) });
  return ((await res.json()) as any).events.map((e: { kind: string }) => e.kind);
}

describe('Prometheus Alertmanager webhook', () => {
  it('turns each alert of a batch into an alert, keyed by fingerprint, and answers per alert', async () => {
    const body = alertmanagerBody([
      { fingerprint: 'f1a2' },
      { fingerprint: 'f1a3' },
      { fingerprint: 'f1a2' },
    ]);
    const res = await post(`${stack.url}/v1/alerts/alertmanager`, body, auth(PROM));
    expect(res.status).toBe(202);
    const [a, b, c] = res.json.incidents;
    expect(a).toMatchObject({ fingerprint: 'f1a2', deduplicated: false });
    expect(b).toMatchObject({ fingerprint: 'f1a3', deduplicated: false });
    expect(c).toMatchObject({ fingerprint: 'f1a2', deduplicated: true, incident_id: a.incident_id });
    expect(b.incident_id).not.toBe(a.incident_id);
    expect(res.json.incident_id).toBe(a.incident_id);
    const inc = await incident(a.incident_id);
    expect(inc).toMatchObject({
      severity: 'critical',
      source: 'prometheus',
      title: 'Agent sent a credential to an unknown host',
      alerts: { count: 2 },
    });
  });

  it('keys on groupKey for a source configured alertmanager_key: group', async () => {
    const body = alertmanagerBody([{ fingerprint: 'g1' }, { fingerprint: 'g2' }], {
      groupKey: '{}:{alertname="X"}',
    });
    const res = await post(`${stack.url}/v1/alerts/alertmanager`, body, auth(PROM_GROUPED));
    expect(res.status).toBe(202);
    expect(res.json.incidents[1]).toMatchObject({ incident_id: res.json.incident_id, deduplicated: true });
  });

  it('annotates (does not resolve) on a resolved alert by default, and ignores a resolve for no open incident', async () => {
    const first = await post(
      `${stack.url}/v1/alerts/alertmanager`,
      alertmanagerBody([{ fingerprint: 'r1' }]),
      auth(PROM),
    );
    const resolved = alertmanagerBody([{ fingerprint: 'r1', status: 'resolved' }], { status: 'resolved' });
    const res = await post(`${stack.url}/v1/alerts/alertmanager`, resolved, auth(PROM));
    expect(res.json.incidents[0]).toMatchObject({ incident_id: first.json.incident_id, deduplicated: true });
    expect((await incident(first.json.incident_id)).status).toBe('open');
    expect(await timelineKinds(first.json.incident_id)).toContain('alert.resolved');

    const orphan = alertmanagerBody([{ fingerprint: 'never-fired', status: 'resolved' }], {
      status: 'resolved',
    });
    const none = await post(`${stack.url}/v1/alerts/alertmanager`, orphan, auth(PROM));
    expect(none.status).toBe(202);
    expect(none.json).toEqual({
      incident_id: null,
      incidents: [{ incident_id: null, deduplicated: false, fingerprint: 'never-fired' }],
    });
  });
});

describe('PagerDuty Events API v2', () => {
  it('maps PagerDuty severities onto ours (error → high, warning → medium) without a rule', async () => {
    for (const [pd, ours] of [
      ['critical', 'critical'],
      ['error', 'high'],
      ['warning', 'medium'],
      ['info', 'info'],
    ]) {
      const res = await post(
        `${stack.url}/v1/alerts/pagerduty`,
        pagerdutyEvent(TEST_WEBHOOK_SECRET, { severity: pd, dedup_key: `sev-${pd}` }),
      );
      expect(res.status).toBe(202);
      expect((await incident(res.json.incident_id)).severity).toBe(ours);
    }
  });

  it('applies the rule: severity override and playbook; acknowledge annotates; resolve marks the incident resolved without ending the workflow', async () => {
    const trig = await post(
      `${stack.url}/v1/alerts/pagerduty`,
      pagerdutyEvent(PD_KEY, { dedup_key: 'pd-42' }),
    );
    expect(trig.status).toBe(202);
    expect(trig.json).toMatchObject({ status: 'success', dedup_key: 'pd-42', deduplicated: false });
    const id = trig.json.incident_id;
    expect(await incident(id)).toMatchObject({
      severity: 'critical',
      playbook_id: 'contain-agent',
      agent_id: 'agent-42',
    });

    const ack = await post(
      `${stack.url}/v1/alerts/pagerduty`,
      pagerdutyEvent(PD_KEY, { event_action: 'acknowledge', dedup_key: 'pd-42' }),
    );
    expect(ack.json).toMatchObject({ incident_id: id, deduplicated: true });
    const res = await post(`${stack.url}/v1/alerts/pagerduty`, {
      routing_key: PD_KEY,
      event_action: 'resolve',
      dedup_key: 'pd-42',
    });
    expect(res.json).toMatchObject({ incident_id: id, deduplicated: true });
    const inc = await incident(id);
    expect(inc.status).toBe('resolved');
    expect(inc.resolved_at).not.toBeNull();
    expect(await timelineKinds(id)).toEqual(
      expect.arrayContaining(['alert.acknowledged', 'incident.resolved']),
    );
    // A source's resolve leaves the workflow running, and the workflow has been told of all three
    // alerts (the rows above are written before the outbox starts or signals it).
    await eventually(
      async () => (await queryIncident(stack.temporal, id, incidentState)).alertCount === 3,
      20_000,
      'the workflow to count the three alerts',
    );
    const desc = await stack.temporal.client.workflow.getHandle(inc.workflow_id).describe();
    expect(desc.status.name).toBe('RUNNING');

    const again = await post(
      `${stack.url}/v1/alerts/pagerduty`,
      pagerdutyEvent(PD_KEY, { dedup_key: 'pd-42' }),
    );
    expect(again.json).toMatchObject({ incident_id: id, deduplicated: true });
    expect((await incident(id)).status).toBe('open');
    expect(await timelineKinds(id)).toContain('incident.reopened');
  });
});

describe('grouping and the incident life cycle', () => {
  const agentAlert = (agent: string, key: string) => ({
    title: `Agent ${agent} exceeded its tool budget`,
    severity: 'medium',
    source: 'guardrail',
    dedup_key: key,
    agent_id: agent,
    labels: { team: 'agents' },
  });

  it('groups alerts for the same agent within the window into one incident, and opens a new one after it', async () => {
    const a = await post(`${stack.url}/v1/alerts`, agentAlert('agent-9', 'k1'), auth(TEST_WEBHOOK_SECRET));
    const b = await post(`${stack.url}/v1/alerts`, agentAlert('agent-9', 'k2'), auth(TEST_WEBHOOK_SECRET));
    const other = await post(
      `${stack.url}/v1/alerts`,
      agentAlert('agent-10', 'k1'),
      auth(TEST_WEBHOOK_SECRET),
    );
    expect(b.json).toMatchObject({ incident_id: a.json.incident_id, deduplicated: true });
    expect(other.json.incident_id).not.toBe(a.json.incident_id);
    expect((await incident(a.json.incident_id)).playbook_id).toBe('agent-triage');

    clock += 9 * 60_000; // still inside the 10-minute window, measured from the last alert
    const c = await post(`${stack.url}/v1/alerts`, agentAlert('agent-9', 'k3'), auth(TEST_WEBHOOK_SECRET));
    expect(c.json.incident_id).toBe(a.json.incident_id);
    clock += 11 * 60_000;
    const d = await post(`${stack.url}/v1/alerts`, agentAlert('agent-9', 'k4'), auth(TEST_WEBHOOK_SECRET));
    expect(d.json).toMatchObject({ deduplicated: false });
    expect(d.json.incident_id).not.toBe(a.json.incident_id);
  });

  it('opens a new incident for the same key once the previous one is closed', async () => {
    const body = {
      title: 'Agent wrote to prod bucket',
      severity: 'high',
      source: 'cloudtrail',
      dedup_key: 'reopen-1',
    };
    const first = await post(`${stack.url}/v1/alerts`, body, auth(TEST_WEBHOOK_SECRET));
    const id = first.json.incident_id as string;
    await eventually(async () => (await incident(id)).started_at, 20_000, 'workflow start');
    const handle = stack.temporal.client.workflow.getHandle(`incident-${id}`);
    await handle.executeUpdate(closeIncident, {
      args: [
        signed(handle, 'close', {
          decisionId: 'close',
          actor: { id: 'tester', via: 'api', roles: ['admin'] },
          reason: 'false positive',
        }),
      ],
    });
    await eventually(async () => (await incident(id)).status === 'closed', 10_000, 'closed row');
    const second = await post(`${stack.url}/v1/alerts`, body, auth(TEST_WEBHOOK_SECRET));
    expect(second.json.deduplicated).toBe(false);
    expect(second.json.incident_id).toBe(id.replace(/-1$/, '-2'));
  });
});
