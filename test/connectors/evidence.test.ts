import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evidence } from '../../db/schema';
import { bearer, startTestStack, TEST_ADMIN_TOKEN, type TestStack } from '../helpers/stack';
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
    expect(JSON.parse(bytes.toString()).sources.inventory).toMatchObject({
      id: 'agent-e',
      status: 'disabled',
      permissions: ['db:read'],
      credentials: [{ id: 'agent-e-aws', reference: 'agent-e/AKIAEXAMPLEEXAMPLE01' }],
    });
    const logs = await acts.executeAction(
      req(
        'evidence.collect',
        { agent_id: 'agent-e', kind: 'access_logs' },
        { incidentId: 'inc-e', stepId: 'collect-logs' },
      ),
    );
    const logArt = (logs.output.artifacts as any[])[0];
    const logDoc = JSON.parse(
      fs.readFileSync(path.join(stack.dataDir, 'evidence', logArt.sha256.slice(0, 2), logArt.sha256), 'utf8'),
    );
    expect(logDoc.sources.audit_log.map((e: any) => e.action)).toContain('agent.disable');

    const custody = stack.db
      .select()
      .from(evidence)
      .all()
      .find((e) => e.sha256 === art.sha256);
    expect(custody).toMatchObject({
      incidentId: 'inc-e',
      collectedBy: 'step:collect-cfg',
      kind: 'agent_config',
      source: 'inventory',
      size: bytes.length,
    });

    const list = await api('/v1/incidents/inc-e/evidence');
    expect(list.status).toBe(200);
    const body = (await list.json()) as any;
    expect(body.evidence.map((e: any) => e.kind)).toEqual(['agent_config', 'access_logs']);
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

  it('collects alerts and timeline kinds from the DB', async () => {
    const acts = actionsFor(stack, () => liveFor(stack));
    for (const kind of ['alerts', 'traces', 'auth_attempts', 'infra_changes', 'data_changes']) {
      const r = await acts.executeAction(
        req('evidence.collect', { agent_id: 'agent-e', kind }, { incidentId: 'inc-e2' }),
      );
      expect(r).toMatchObject({ ok: true, verified: true, output: { kind } });
    }
    const rows = stack.db
      .select()
      .from(evidence)
      .all()
      .filter((e) => e.incidentId === 'inc-e2');
    expect(rows.map((r) => r.source)).toEqual([
      'db:alerts',
      'db:timeline',
      'inventory:credentials,audit_log',
      'audit_log,db:timeline',
      'audit_log,db:timeline',
    ]);
  });
});
