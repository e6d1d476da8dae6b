import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAuditEntry, auditEntriesForAgent } from '../../db/audit';
import { evidence } from '../../db/schema';
import {
  bearer,
  startTestStack,
  TEST_ADMIN_TOKEN,
  TEST_WEBHOOK_SECRET,
  type TestStack,
} from '../helpers/stack';
import { actionsFor, importAgents, liveFor, req } from './fixtures';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ withWorker: false });
  await importAgents(stack, [
    {
      id: 'agent-e',
      name: 'Evidence agent',
      owner: 'sec@example.com',
      team: 'platform',
      environment: 'prod',
      tools: [{ name: 'sql' }],
      permissions: ['db:read'],
      credentials: [{ id: 'agent-e-aws', provider: 'aws_iam', reference: 'agent-e/AKIAEXAMPLEEXAMPLE01' }],
    },
  ]);
});
afterAll(async () => {
  await stack?.close();
});

const api = (p: string, token = TEST_ADMIN_TOKEN) => fetch(`${stack.url}${p}`, { headers: bearer(token) });

/** Opens an incident through the alert API (stored at once; no worker needed) and returns its id. */
async function openIncident(dedupKey: string): Promise<string> {
  const res = await fetch(`${stack.url}/v1/alerts`, {
    method: 'POST',
    headers: bearer(TEST_WEBHOOK_SECRET),
    body: JSON.stringify({ title: 'Evidence test', severity: 'low', source: 'test', dedup_key: dedupKey }),
  });
  expect(res.status).toBe(202);
  return ((await res.json()) as { incident_id: string }).incident_id;
}

const upload = (incidentId: string, body: string, contentType: string) =>
  fetch(`${stack.url}/v1/incidents/${incidentId}/evidence?kind=traces&source=browser`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': contentType },
    body,
  });

describe('evidence', () => {
  it('collects agent config and audit history content-addressed, with custody, and serves them', async () => {
    const acts = actionsFor(stack, () => liveFor(stack));
    await acts.executeAction(req('agent.disable', { agent_id: 'agent-e' }, { incidentId: 'inc-e' }));
    const cfg = await acts.executeAction(
      req(
        'evidence.collect',
        { agent_id: 'agent-e', kind: 'agent_config' },
        { incidentId: 'inc-e', stepId: 'collect-cfg' },
      ),
    );
    expect(cfg).toMatchObject({ ok: true, verified: true });
    const art = (cfg.output.artifacts as any[])[0];
    // Workflow history gets the reference only.
    expect(Object.keys(art).sort()).toEqual(['sha256', 'size', 'source']);
    const file = path.join(stack.dataDir, 'evidence', art.sha256.slice(0, 2), art.sha256);
    const bytes = fs.readFileSync(file);
    expect(crypto.createHash('sha256').update(bytes).digest('hex')).toBe(art.sha256);
    expect(JSON.parse(bytes.toString()).sources['firebreak:inventory']).toMatchObject({
      id: 'agent-e',
      status: 'disabled',
      permissions: ['db:read'],
      credentials: [{ id: 'agent-e-aws', reference: 'agent-e/AKIAEXAMPLEEXAMPLE01' }],
    });
    const logs = await acts.executeAction(
      req(
        'evidence.collect',
        { agent_id: 'agent-e', kind: 'firebreak_audit' },
        { incidentId: 'inc-e', stepId: 'collect-logs' },
      ),
    );
    const logArt = (logs.output.artifacts as any[])[0];
    const logDoc = JSON.parse(
      fs.readFileSync(path.join(stack.dataDir, 'evidence', logArt.sha256.slice(0, 2), logArt.sha256), 'utf8'),
    );
    expect(logDoc.sources['firebreak:audit_log'].map((e: any) => e.action)).toContain('agent.disable');

    const custody = stack.db
      .select()
      .from(evidence)
      .all()
      .find((e) => e.sha256 === art.sha256);
    expect(custody).toMatchObject({
      incidentId: 'inc-e',
      collectedBy: 'step:collect-cfg',
      kind: 'agent_config',
      source: 'firebreak:inventory',
      size: bytes.length,
    });

    const list = await api('/v1/incidents/inc-e/evidence');
    expect(list.status).toBe(200);
    const body = (await list.json()) as any;
    expect(body.evidence.map((e: any) => e.kind)).toEqual(['agent_config', 'firebreak_audit']);
    expect(body.evidence[0]).toMatchObject({
      sha256: art.sha256,
      size: bytes.length,
      collected_by: 'step:collect-cfg',
    });

    const served = await api(body.evidence[0].href);
    expect(served.status).toBe(200);
    expect(served.headers.get('x-content-sha256')).toBe(art.sha256);
    expect(Buffer.from(await served.arrayBuffer()).equals(bytes)).toBe(true);

    expect((await api('/v1/incidents/inc-e/evidence', 'wrong-token-0123456789')).status).toBe(401);
    expect((await api(`/v1/incidents/other/evidence/${art.sha256}`)).status).toBe(404);

    // A modified artifact no longer matches its name: it is refused, and verification fails.
    fs.chmodSync(file, 0o600);
    fs.writeFileSync(file, bytes.toString().replace('agent-e', 'agent-x'));
    expect((await api(body.evidence[0].href)).status).toBe(503);
  });

  it('accepts an artifact a person collected, with custody naming them', async () => {
    const inc = await openIncident('manual-upload');
    const content = 'raw proxy log line 1\nline 2\n';
    const res = await fetch(
      `${stack.url}/v1/incidents/${inc}/evidence?kind=access_logs&source=proxy-01:/var/log/squid`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'text/plain' },
        body: content,
      },
    );
    expect(res.status).toBe(201);
    const { sha256 } = (await res.json()) as any;
    expect(sha256).toBe(crypto.createHash('sha256').update(content).digest('hex'));
    const list = (await (await api(`/v1/incidents/${inc}/evidence`)).json()) as any;
    expect(list.evidence).toEqual([
      expect.objectContaining({
        sha256,
        kind: 'access_logs',
        source: 'proxy-01:/var/log/squid',
        collected_by: 'person:admin',
        media_type: 'text/plain',
      }),
    ]);
    expect(await (await api(list.evidence[0].href)).text()).toBe(content);
    const noKind = await fetch(`${stack.url}/v1/incidents/${inc}/evidence?source=x`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
      body: 'x',
    });
    expect(noKind.status).toBe(400);
  });

  it("collects Firebreak's own records only under their own kinds", async () => {
    const acts = actionsFor(stack, () => liveFor(stack));
    for (const kind of ['alerts', 'firebreak_timeline', 'firebreak_audit']) {
      const r = await acts.executeAction(
        req('evidence.collect', { agent_id: 'agent-e', kind }, { incidentId: 'inc-e2' }),
      );
      expect(r).toMatchObject({ ok: true, verified: true, output: { kind, status: 'collected' } });
    }
    const rows = stack.db
      .select()
      .from(evidence)
      .all()
      .filter((e) => e.incidentId === 'inc-e2');
    expect(rows.map((r) => r.source)).toEqual([
      'firebreak:alerts',
      'firebreak:timeline',
      'firebreak:audit_log',
    ]);
  });

  it('records a kind with no configured source as not available, with the reason, and nothing else in it', async () => {
    const acts = actionsFor(stack, () => liveFor(stack));
    const expected: Record<string, RegExp[]> = {
      agent_traces: [/no trace store is configured \(FIREBREAK_PHOENIX_URL/],
      gateway_tool_calls: [
        /no OPA uploads its decision logs here \(opa_decision_logs\.senders.*ContextForge is not a source: ContextForge 1\.0\.7/,
      ],
      access_logs: [/PostgreSQL is not configured \(FIREBREAK_PG_ADMIN_URL/],
      auth_attempts: [/PostgreSQL is not configured/, /AWS IAM is not configured/],
      infra_changes: [/no infrastructure change log .* is supported/],
      data_changes: [/no data change log .* is supported/],
    };
    for (const [kind, reasons] of Object.entries(expected)) {
      const r = await acts.executeAction(
        req(
          'evidence.collect',
          { agent_id: 'agent-e', kind },
          { incidentId: 'inc-na', stepId: `na-${kind}` },
        ),
      );
      expect(r).toMatchObject({ ok: true, verified: true, output: { kind, status: 'not_available' } });
      expect(r.summary).toContain(`${kind} for agent-e not available here`);
      const art = (r.output.artifacts as any[])[0];
      const doc = JSON.parse(
        fs.readFileSync(path.join(stack.dataDir, 'evidence', art.sha256.slice(0, 2), art.sha256), 'utf8'),
      );
      expect(doc).toMatchObject({ kind, status: 'not_available', sources: {} });
      expect(doc.not_available.map((n: any) => n.reason)).toEqual(
        reasons.map((re) => expect.stringMatching(re)),
      );
      expect(art.source).toMatch(/^not available: /);
    }
  });

  it('refuses the removed kind traces, saying what to use instead', async () => {
    const acts = actionsFor(stack, () => liveFor(stack));
    await expect(
      acts.executeAction(
        req('evidence.collect', { agent_id: 'agent-e', kind: 'traces' }, { incidentId: 'inc-old' }),
      ),
    ).rejects.toMatchObject({
      nonRetryable: true,
      message: expect.stringContaining('use agent_traces'),
    });
  });

  it('serves an uploaded HTML page as an opaque download, its declared type kept only as data', async () => {
    const inc = await openIncident('html-upload');
    const page = '<html><body><script>fetch("/v1/incidents").then(r => r.text())</script></body></html>';
    const res = await upload(inc, page, 'text/html');
    expect(res.status).toBe(201);
    const { sha256 } = (await res.json()) as { sha256: string };
    const list = (await (await api(`/v1/incidents/${inc}/evidence`)).json()) as any;
    expect(list.evidence[0]).toMatchObject({ sha256, media_type: 'text/html' });
    const served = await api(list.evidence[0].href);
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toBe('application/octet-stream');
    expect(served.headers.get('content-disposition')).toBe(`attachment; filename="${sha256}.bin"`);
    expect(served.headers.get('x-content-type-options')).toBe('nosniff');
    expect(served.headers.get('content-security-policy')).toBe("default-src 'none'; sandbox");
    expect(served.headers.get('x-declared-content-type')).toBe('text/html');
    expect(await served.text()).toBe(page);
  });

  it('refuses an upload to an incident that does not exist with 404, storing nothing', async () => {
    const before = stack.db.select().from(evidence).all().length;
    const res = await upload('inc-does-not-exist', 'orphan bytes', 'text/plain');
    expect(res.status).toBe(404);
    expect(((await res.json()) as any).error.code).toBe('not_found');
    expect(stack.db.select().from(evidence).all()).toHaveLength(before);
  });

  it('matches agent ids in audit queries literally: % and _ are not wildcards', async () => {
    const since = '2000-01-01T00:00:00.000Z';
    const entry = {
      at: new Date().toISOString(),
      actor: 'test',
      action: 'access.revoke',
      target: 'agent:agent-e/db-role',
      incidentId: 'inc-like',
      stepId: null,
      inputs: {},
      outcome: 'ok',
      detail: {},
      durationMs: 0,
    };
    const row = await appendAuditEntry(stack.db, entry);
    expect((await auditEntriesForAgent(stack.db, 'agent-e', since)).map((e) => e.seq)).toContain(row.seq);
    expect(await auditEntriesForAgent(stack.db, '%', since)).toEqual([]);
    expect(await auditEntriesForAgent(stack.db, 'agent_e', since)).toEqual([]);
    expect(await auditEntriesForAgent(stack.db, 'agent-%', since)).toEqual([]);
  });

  it('refuses to collect evidence for an agent that is not in the inventory', async () => {
    const acts = actionsFor(stack, () => liveFor(stack));
    for (const agentId of ['%', 'ghost-agent']) {
      await expect(
        acts.executeAction(
          req(
            'evidence.collect',
            { agent_id: agentId, kind: 'firebreak_audit' },
            { incidentId: 'inc-ghost' },
          ),
        ),
      ).rejects.toMatchObject({
        nonRetryable: true,
        message: expect.stringContaining(`no agent ${agentId}`),
      });
    }
    expect(
      stack.db
        .select()
        .from(evidence)
        .all()
        .filter((e) => e.incidentId === 'inc-ghost'),
    ).toEqual([]);
  });
});
