import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../api/app';
import { requireScope } from '../../api/auth';
import { parseFileConfig, sha256Hex } from '../../app/config-file';
import { post } from '../helpers/intake';
import {
  eventually,
  startTestStack,
  TEST_ADMIN_TOKEN,
  TEST_WEBHOOK_SECRET,
  type TestStack,
} from '../helpers/stack';

const ALICE = 'alice-token-0123456789abcdef';
const BOB = 'bob-token-0123456789abcdef';
const CAROL = 'carol-token-0123456789abcdef';
const fileConfig = parseFileConfig(
  {
    users: [
      {
        id: 'alice',
        name: 'Alice Responder',
        slack_user_id: 'U0ALICE',
        roles: ['responder'],
        tokens: [{ token_env: 'ALICE_TOKEN', scopes: ['read', 'respond'] }],
      },
      { id: 'bob', name: 'Bob Viewer', tokens: [{ token_sha256: sha256Hex(BOB), scopes: ['read'] }] },
      { id: 'carol', name: 'Carol Bot', tokens: [{ token_sha256: sha256Hex(CAROL), scopes: ['respond'] }] },
    ],
    rules: [{ match: { labels: { drill: 'yes' } }, mode: 'drill' }],
  },
  { ALICE_TOKEN: ALICE },
  'test config',
);

let stack: TestStack;
const ids: Record<string, string> = {};
beforeAll(async () => {
  // Each intake request a second later than the last, so "newest first" is unambiguous.
  let tick = Date.now();
  stack = await startTestStack({ fileConfig, now: () => new Date((tick += 1000)) });
  const send = async (name: string, body: Record<string, unknown>) => {
    const res = await post(`${stack.url}/v1/alerts`, body, {
      authorization: `Bearer ${TEST_WEBHOOK_SECRET}`,
    });
    ids[name] = res.json.incident_id;
  };
  await send('a', { title: 'A', severity: 'critical', source: 's', dedup_key: 'a', agent_id: 'agent-1' });
  await send('b', { title: 'B', severity: 'high', source: 's', dedup_key: 'b', agent_id: 'agent-2' });
  await send('c', { title: 'C', severity: 'critical', source: 's', dedup_key: 'c', agent_id: 'agent-1' });
  await send('d', { title: 'D', severity: 'low', source: 's', dedup_key: 'd', labels: { drill: 'yes' } });
  await send('e', { title: 'E', severity: 'critical', source: 's', dedup_key: 'e', agent_id: 'agent-3' });
});
afterAll(async () => {
  await stack?.close();
});

async function get(path: string, token = ALICE) {
  const res = await fetch(`${stack.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as any };
}
const listIds = (body: any) => body.incidents.map((i: { id: string }) => i.id);

describe('tokens and scopes', () => {
  it('lets users with the read scope and the admin token read; 403 without read; 401 for unknown tokens', async () => {
    expect((await get('/v1/incidents', ALICE)).status).toBe(200);
    expect((await get('/v1/incidents', BOB)).status).toBe(200);
    expect((await get('/v1/incidents', TEST_ADMIN_TOKEN)).status).toBe(200);
    const carol = await get('/v1/incidents', CAROL);
    expect(carol.status).toBe(403);
    expect(carol.body.error.code).toBe('forbidden');
    expect((await get('/v1/incidents', 'nobody-0123456789abcdef')).status).toBe(401);
    expect((await get('/v1/incidents', TEST_WEBHOOK_SECRET)).status).toBe(401);
  });

  it('requireScope sets c.var.user for routes other modules mount', async () => {
    const app = createApp({ ...stack, log: pino({ level: 'silent' }), fileConfig });
    app.post('/v1/test/respond', requireScope('respond'), (c) => c.json(c.var.user));
    const call = (token: string) =>
      app.request('/v1/test/respond', { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(await (await call(ALICE)).json()).toEqual({
      id: 'alice',
      name: 'Alice Responder',
      slackUserId: 'U0ALICE',
      roles: ['responder'],
      scopes: ['read', 'respond'],
      auth: { method: 'token', amr: [] },
    });
    expect(await (await call(TEST_ADMIN_TOKEN)).json()).toMatchObject({
      id: 'admin',
      scopes: ['read', 'respond', 'admin'],
    });
    expect((await call(BOB)).status).toBe(403);
    expect((await call('')).status).toBe(401);
  });
});

describe('GET /v1/incidents', () => {
  it('filters by severity, agent, mode and status', async () => {
    expect(new Set(listIds((await get('/v1/incidents?severity=critical')).body))).toEqual(
      new Set([ids.a, ids.c, ids.e]),
    );
    expect(new Set(listIds((await get('/v1/incidents?agent=agent-1')).body))).toEqual(
      new Set([ids.a, ids.c]),
    );
    expect(listIds((await get('/v1/incidents?mode=drill')).body)).toEqual([ids.d]);
    expect(listIds((await get('/v1/incidents?status=closed')).body)).toEqual([]);
    expect((await get('/v1/incidents?status=open&severity=high')).body.incidents[0]).toMatchObject({
      id: ids.b,
      status: 'open',
      severity: 'high',
      agent_id: 'agent-2',
      alert_count: 1,
    });
  });

  it('pages with a cursor, newest first, visiting every incident once', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: { body: any } = await get(`/v1/incidents?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...listIds(res.body));
      cursor = res.body.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual([ids.e, ids.d, ids.c, ids.b, ids.a]);
  });

  it('rejects a bad filter or cursor with 400 naming it', async () => {
    expect((await get('/v1/incidents?severity=urgent')).body.error.field).toBe('severity');
    expect((await get('/v1/incidents?limit=0')).body.error.field).toBe('limit');
    const bad = await get('/v1/incidents?cursor=garbage');
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('cursor');
  });
});

describe('GET /v1/incidents/:id and its timeline', () => {
  it('returns alert count and latest, phase, and pending approvals from the workflow ([] when it has none)', async () => {
    const inc = await eventually(async () => {
      const r = await get(`/v1/incidents/${ids.a}`, BOB);
      return r.body.started_at ? r.body : undefined;
    });
    expect(inc).toMatchObject({
      id: ids.a,
      phase: 'assess',
      alerts: { count: 1, latest: { title: 'A', status: 'firing' } },
      pending_approvals: [],
    });
  });

  it('returns the timeline in order, and 404 for an unknown incident', async () => {
    const tl = await eventually(async () => {
      const r = await get(`/v1/incidents/${ids.a}/timeline`);
      return r.body.events.length >= 2 ? r.body : undefined;
    });
    // The incident runs the triage playbook (no other matches), so its steps join the timeline.
    const kinds = tl.events.map((e: { kind: string }) => e.kind);
    expect(kinds[0]).toBe('incident.started');
    expect(kinds).toContain('alerts.attached');
    expect(tl.next_cursor).toBeNull();
    const page = await get(`/v1/incidents/${ids.a}/timeline?limit=1`);
    expect(page.body.events).toHaveLength(1);
    const rest = await get(`/v1/incidents/${ids.a}/timeline?cursor=${page.body.next_cursor}`);
    expect(rest.body.events[0].kind).toBe(kinds[1]);
    expect((await get('/v1/incidents/inc-nope/timeline')).status).toBe(404);
  });
});

describe('OpenAPI', () => {
  it('serves an OpenAPI 3.1 document generated from the zod schemas, and a docs page', async () => {
    const doc = (await (await fetch(`${stack.url}/openapi.json`)).json()) as any;
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/alerts',
        '/v1/alerts/alertmanager',
        '/v1/alerts/pagerduty',
        '/v1/incidents',
        '/v1/incidents/{id}',
        '/v1/incidents/{id}/timeline',
        '/v1/incidents/{id}/approvals/{stepId}',
        '/v1/incidents/{id}/tasks/{stepId}/done',
        '/v1/incidents/{id}/close',
      ]),
    );
    // The Slack-down fallback is documented with the decision body and the refusal statuses.
    const approve = doc.paths['/v1/incidents/{id}/approvals/{stepId}'].post;
    const approveBody = approve.requestBody.content['application/json'].schema;
    expect(approveBody.properties.decision.enum).toEqual(['approve', 'reject']);
    expect(approveBody.required).toEqual(['decision']);
    expect(Object.keys(approve.responses)).toEqual(expect.arrayContaining(['200', '403', '404', '409']));
    const s = doc.components.schemas;
    expect(s.GenericAlert.properties.severity.enum).toEqual(['critical', 'high', 'medium', 'low', 'info']);
    expect(s.GenericAlert.required).toEqual(expect.arrayContaining(['title', 'severity', 'source']));
    expect(s.AlertmanagerWebhook.properties.alerts.items.required).toContain('fingerprint');
    expect(s.PagerDutyEvent.properties.event_action.enum).toEqual(['trigger', 'acknowledge', 'resolve']);
    expect(s.IncidentDetail.properties.pending_approvals.type).toBe('array');
    const params = doc.paths['/v1/incidents'].get.parameters.map((p: { name: string }) => p.name);
    expect(params).toEqual(['status', 'severity', 'agent', 'mode', 'needs_attention', 'limit', 'cursor']);
    const refs = JSON.stringify(doc).match(/#\/components\/schemas\/\w+/g) ?? [];
    for (const r of refs) expect(s[r.split('/').pop()!], r).toBeDefined();

    const docs = await fetch(`${stack.url}/docs`);
    expect(docs.headers.get('content-type')).toContain('text/html');
    expect(await docs.text()).toContain('href="/openapi.json"');
  });
});
