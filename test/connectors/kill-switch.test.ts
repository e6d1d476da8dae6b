import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statusSigningKey, statusSignatureValid } from '../../connectors/kill-switch';
import { auditEntries } from '../../db/audit';
import { startTestStack, type TestStack } from '../helpers/stack';
import { actionsFor, importAgents, liveFor, localServer, req } from './fixtures';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ withWorker: false });
  await importAgents(stack, [
    { id: 'agent-ks', name: 'Kill me', owner: 'sec@example.com', environment: 'prod' },
  ]);
});
afterAll(async () => {
  await stack?.close();
});

const key = () =>
  statusSigningKey({ dataDir: stack.dataDir, webhookSecret: stack.credentials.webhookSecret });

async function status(id: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${stack.url}/v1/agents/${id}/status`, { headers });
  return { res, text: await res.text() };
}

describe('Firebreak kill switch', () => {
  it('serves a signed, cacheable status without auth', async () => {
    const { res, text } = await status('agent-ks');
    expect(res.status).toBe(200);
    const body = JSON.parse(text);
    expect(body).toMatchObject({ agent_id: 'agent-ks', status: 'enabled', version: 1 });
    expect(typeof body.issued_at).toBe('string');
    expect(statusSignatureValid(key(), text, res.headers.get('x-firebreak-status-signature'))).toBe(true);
    expect(
      statusSignatureValid(
        key(),
        text.replace('enabled', 'disabled'),
        res.headers.get('x-firebreak-status-signature'),
      ),
    ).toBe(false);
    expect(res.headers.get('cache-control')).toMatch(/^max-age=[1-9]\d?, must-revalidate$/);
    const again = await status('agent-ks', { 'if-none-match': res.headers.get('etag')! });
    expect(again.res.status).toBe(304);
    expect((await status('nobody')).res.status).toBe(404);
  });

  it('agent.disable flips the status, verifies it over HTTP, audits it, and is idempotent per step', async () => {
    const acts = actionsFor(stack, () => liveFor(stack));
    const r = req('agent.disable', { agent_id: 'agent-ks', reason: 'exfiltration' });
    const first = await acts.executeAction(r);
    expect(first).toMatchObject({ ok: true, verified: true, replayed: false, simulated: false });
    expect(first.output).toEqual({ agent_id: 'agent-ks', status: 'disabled', version: 2 });

    const { res, text } = await status('agent-ks');
    expect(JSON.parse(text)).toMatchObject({ status: 'disabled', version: 2 });
    expect(statusSignatureValid(key(), text, res.headers.get('x-firebreak-status-signature'))).toBe(true);

    const again = await acts.executeAction(r);
    expect(again).toEqual({ ...first, replayed: true });
    expect(JSON.parse((await status('agent-ks')).text).version).toBe(2);

    const audit = (await auditEntries(stack.db)).filter((e) => e.stepId === r.stepId);
    // The inventory's own status change, then the action that made it: once each, not per retry.
    expect(audit.map((e) => e.action)).toEqual(['inventory.status', 'agent.disable']);
    expect(audit[0]).toMatchObject({
      actor: 'playbook:test',
      target: 'agent:agent-ks',
      outcome: 'changed',
      detail: { from: 'enabled', to: 'disabled', version: 2 },
    });
    expect(audit[1]).toMatchObject({
      actor: 'playbook:test',
      action: 'agent.disable',
      target: 'agent:agent-ks',
      outcome: 'succeeded',
    });
    expect(audit[1]!.inputs).toMatchObject({ agent_id: 'agent-ks', reason: 'exfiltration', mode: 'live' });

    const enabled = await acts.executeAction(req('agent.enable', { agent_id: 'agent-ks' }));
    expect(enabled).toMatchObject({ ok: true, verified: true, output: { status: 'enabled', version: 3 } });
  });

  it('returns verified:false and ok:false when the status runtimes read still says enabled', async () => {
    // A stale gateway cache in front of Firebreak: it keeps serving the signed "enabled" document.
    await importAgents(stack, [
      { id: 'agent-stale', name: 'Stale', owner: 'sec@example.com', environment: 'prod' },
    ]);
    const cached = await status('agent-stale');
    const sig = cached.res.headers.get('x-firebreak-status-signature')!;
    const gateway = await localServer((_q, s) => {
      s.writeHead(200, { 'content-type': 'application/json', 'x-firebreak-status-signature': sig });
      s.end(cached.text);
    });
    try {
      const acts = actionsFor(stack, () => liveFor(stack, { statusBaseUrl: gateway.url }));
      const r = await acts.executeAction(req('agent.disable', { agent_id: 'agent-stale' }));
      expect(r).toMatchObject({ ok: false, verified: false, simulated: false });
      expect(r.summary).toMatch(/verification failed: status endpoint says enabled/);
      const row = (await auditEntries(stack.db)).at(-1)!;
      expect(row.outcome).toBe('unverified');
    } finally {
      await gateway.close();
    }
  });

  it('rejects a status signed with another key', async () => {
    const forged = await localServer((_q, s) => {
      s.writeHead(200, { 'x-firebreak-status-signature': 'sha256=' + '0'.repeat(64) });
      s.end(JSON.stringify({ agent_id: 'agent-ks', status: 'disabled', version: 99, issued_at: 'x' }));
    });
    try {
      const acts = actionsFor(stack, () => liveFor(stack, { statusBaseUrl: forged.url }));
      const r = await acts.executeAction(req('agent.disable', { agent_id: 'agent-ks' }));
      expect(r).toMatchObject({ ok: false, verified: false });
      expect(r.summary).toMatch(/signature is missing or invalid/);
    } finally {
      await forged.close();
    }
  });
});
