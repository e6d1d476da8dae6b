import crypto from 'node:crypto';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, SignJWT, type JSONWebKeySet } from 'jose';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../api/app';
import { parseFileConfig } from '../../app/config-file';
import { STATUS_JWS_TYPE, verifyStatus } from '../../connectors/status-document';
import { auditEntries } from '../../db/audit';
import { startTestStack, type TestStack } from '../helpers/stack';
import { actionsFor, importAgents, liveFor, localServer, req } from './fixtures';

const RUNTIME_TOKEN = 'runtime-token-agent-ks-0123456789';
const GATEWAY_TOKEN = 'gateway-token-0123456789abcdef';
const env = { RT_KS: RUNTIME_TOKEN, GW: GATEWAY_TOKEN };
const runtimes = (over: Record<string, unknown> = {}) =>
  parseFileConfig(
    {
      runtimes: {
        tokens: [
          { name: 'ks-runtime', token_env: 'RT_KS', agents: ['agent-ks'] },
          { name: 'gateway', token_env: 'GW', agents: ['agent-ks', 'agent-stale', 'ghost'] },
        ],
        ...over,
      },
    },
    env,
    'test',
  );

let stack: TestStack;
let jwks: JSONWebKeySet;
beforeAll(async () => {
  stack = await startTestStack({ withWorker: false, fileConfig: runtimes() });
  await importAgents(stack, [
    { id: 'agent-ks', name: 'Kill me', owner: 'sec@example.com', environment: 'prod' },
  ]);
  jwks = (await (await fetch(`${stack.url}/.well-known/jwks.json`)).json()) as JSONWebKeySet;
});
afterAll(async () => {
  await stack?.close();
});

async function status(id: string, token: string | undefined, headers: Record<string, string> = {}) {
  const auth: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const res = await fetch(`${stack.url}/v1/agents/${id}/status`, { headers: { ...auth, ...headers } });
  return { res, text: await res.text() };
}

describe('status documents', () => {
  it('publishes the status key as a JWKS with its kid', () => {
    expect(jwks.keys).toEqual([
      expect.objectContaining({
        kty: 'OKP',
        crv: 'Ed25519',
        alg: 'EdDSA',
        use: 'sig',
        kid: stack.statusKey.kid,
      }),
    ]);
    expect(jwks.keys[0]).not.toHaveProperty('d');
  });

  it('serves an EdDSA JWS that verifies against the JWKS, expiring 60 s after it was issued', async () => {
    const { res, text } = await status('agent-ks', RUNTIME_TOKEN);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/jose');
    expect(decodeProtectedHeader(text)).toEqual({
      alg: 'EdDSA',
      kid: stack.statusKey.kid,
      typ: STATUS_JWS_TYPE,
    });
    const { payload } = await jwtVerify(text, createLocalJWKSet(jwks), { typ: STATUS_JWS_TYPE });
    expect(payload).toMatchObject({
      agent_id: 'agent-ks',
      status: 'enabled',
      version: 1,
      incident: null,
      blocked_tools: [],
    });
    expect(payload.exp! - payload.iat!).toBe(60);

    // A revalidation carries a freshly signed document: the 304 never extends an expiring one.
    const again = await status('agent-ks', RUNTIME_TOKEN, { 'if-none-match': res.headers.get('etag')! });
    expect(again.res.status).toBe(304);
    const fresh = again.res.headers.get('firebreak-status')!;
    expect(await verifyStatus(jwks, fresh, { agentId: 'agent-ks' })).toMatchObject({
      ok: true,
      claims: { version: 1, status: 'enabled' },
    });
  });

  it('gives no token, a bad token, an agent outside the scope and an unknown agent the same refusal', async () => {
    const none = await status('agent-ks', undefined);
    const bad = await status('agent-ks', 'not-a-runtime-token-at-all');
    expect([none.res.status, bad.res.status]).toEqual([401, 401]);
    expect(bad.text).toBe(none.text);
    const outside = await status('agent-stale', RUNTIME_TOKEN);
    const unknown = await status('ghost', GATEWAY_TOKEN);
    const neverNamed = await status('nobody', GATEWAY_TOKEN);
    expect([outside.res.status, unknown.res.status, neverNamed.res.status]).toEqual([403, 403, 403]);
    expect(new Set([outside.text, unknown.text, neverNamed.text]).size).toBe(1);
    expect(outside.text).not.toMatch(/ghost|nobody|agent-stale|exist/);
  });

  it('rate limits refusals per client and requests per token, with Retry-After', async () => {
    const app = createApp({
      ...stack,
      log: pino({ level: 'silent' }),
      fileConfig: runtimes({
        rate_limit: { per_second: 0.01, burst: 2 },
        refused_rate_limit: { per_second: 0.01, burst: 3 },
      }),
    });
    const ask = (id: string, token: string) =>
      app.request(`/v1/agents/${id}/status`, { headers: { authorization: `Bearer ${token}` } });
    const refused = [];
    for (let i = 0; i < 4; i++) refused.push((await ask(`probe-${i}`, GATEWAY_TOKEN)).status);
    expect(refused).toEqual([403, 403, 403, 429]);
    const limited = await ask('agent-ks', 'wrong-token-0123456789');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);

    const accepted = [];
    for (let i = 0; i < 3; i++) accepted.push((await ask('agent-ks', RUNTIME_TOKEN)).status);
    expect(accepted).toEqual([200, 200, 429]);
  });

  it('rejects documents forged with the webhook secret, another key, or for another agent', async () => {
    const claims = {
      agent_id: 'agent-ks',
      status: 'enabled',
      version: 999,
      incident: null,
      blocked_tools: [],
    };
    const hs = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', kid: stack.statusKey.kid, typ: STATUS_JWS_TYPE })
      .setIssuedAt()
      .setExpirationTime('1m')
      .sign(new TextEncoder().encode(stack.credentials.webhookSecret));
    expect(await verifyStatus(jwks, hs, { agentId: 'agent-ks' })).toMatchObject({ ok: false });

    const other = crypto.generateKeyPairSync('ed25519').privateKey;
    const foreignKey = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'EdDSA', kid: stack.statusKey.kid, typ: STATUS_JWS_TYPE })
      .setIssuedAt()
      .setExpirationTime('1m')
      .sign(other);
    const r = await verifyStatus(jwks, foreignKey, { agentId: 'agent-ks' });
    expect(r).toMatchObject({ ok: false, detail: expect.stringMatching(/signature/) });

    const { text } = await status('agent-ks', RUNTIME_TOKEN);
    expect(await verifyStatus(jwks, text, { agentId: 'agent-stale' })).toMatchObject({
      ok: false,
      detail: 'status document is for agent agent-ks, not agent-stale',
    });
    expect(await verifyStatus(jwks, text, { agentId: 'agent-ks', minVersion: 2 })).toMatchObject({
      ok: false,
      detail: 'status document version 1 is older than 2',
    });
    const later = new Date(Date.now() + 61_000);
    expect(await verifyStatus(jwks, text, { agentId: 'agent-ks', now: later })).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/exp/),
    });
  });
});

describe('kill-switch actions', () => {
  it('agent.disable flips the status, verifies the signed document over HTTP, audits it, and is idempotent per step', async () => {
    const acts = actionsFor(stack, () => liveFor(stack));
    const r = req(
      'agent.disable',
      { agent_id: 'agent-ks', reason: 'exfiltration' },
      { incidentId: 'inc-ks-1' },
    );
    const first = await acts.executeAction(r);
    expect(first).toMatchObject({ ok: true, verified: true, replayed: false, simulated: false });
    expect(first.output).toEqual({ agent_id: 'agent-ks', status: 'disabled', version: 2 });

    const { text } = await status('agent-ks', RUNTIME_TOKEN);
    expect(await verifyStatus(jwks, text, { agentId: 'agent-ks' })).toMatchObject({
      ok: true,
      claims: { status: 'disabled', version: 2, incident: 'inc-ks-1' },
    });

    const again = await acts.executeAction(r);
    expect(again).toEqual({ ...first, replayed: true });

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

  it('agent.tools.block and agent.tools.allow change the blocked tools and verify them', async () => {
    const acts = actionsFor(stack, () => liveFor(stack));
    const blocked = await acts.executeAction(
      req(
        'agent.tools.block',
        { agent_id: 'agent-ks', tools: ['shell', 'http_post'] },
        { incidentId: 'inc-ks-2' },
      ),
    );
    expect(blocked).toMatchObject({
      ok: true,
      verified: true,
      output: { agent_id: 'agent-ks', blocked_tools: ['http_post', 'shell'], version: 4 },
    });
    const { text } = await status('agent-ks', RUNTIME_TOKEN);
    expect(await verifyStatus(jwks, text, { agentId: 'agent-ks' })).toMatchObject({
      ok: true,
      claims: { status: 'enabled', blocked_tools: ['http_post', 'shell'], incident: 'inc-ks-2' },
    });
    const allowed = await acts.executeAction(
      req('agent.tools.allow', { agent_id: 'agent-ks', tools: ['shell'] }),
    );
    expect(allowed).toMatchObject({
      ok: true,
      verified: true,
      output: { blocked_tools: ['http_post'], version: 5 },
    });
  });

  it('does not verify a disable while what runtimes read is an older genuine document', async () => {
    // A stale gateway cache in front of Firebreak keeps serving the genuine "enabled" document.
    await importAgents(stack, [
      { id: 'agent-stale', name: 'Stale', owner: 'sec@example.com', environment: 'prod' },
    ]);
    const cached = await status('agent-stale', GATEWAY_TOKEN);
    const gateway = await localServer((_q, s) => {
      s.writeHead(200, { 'content-type': 'application/jose' });
      s.end(cached.text);
    });
    try {
      const acts = actionsFor(stack, () => liveFor(stack, { statusBaseUrl: gateway.url }));
      const r = await acts.executeAction(req('agent.disable', { agent_id: 'agent-stale' }));
      expect(r).toMatchObject({ ok: false, verified: false, simulated: false });
      expect(r.summary).toMatch(/verification failed: status document version 1 is older than 2/);
      expect((await auditEntries(stack.db)).at(-1)!.outcome).toBe('unverified');
    } finally {
      await gateway.close();
    }
  });

  it('does not verify with a document forged with the webhook secret or for another agent', async () => {
    const forgedHs = await new SignJWT({
      agent_id: 'agent-ks',
      status: 'disabled',
      version: 99,
      incident: null,
      blocked_tools: [],
    })
      .setProtectedHeader({ alg: 'HS256', typ: STATUS_JWS_TYPE })
      .setIssuedAt()
      .setExpirationTime('1m')
      .sign(new TextEncoder().encode(stack.credentials.webhookSecret));
    const foreign = (await status('agent-stale', GATEWAY_TOKEN)).text; // genuine, but another agent's
    for (const body of [forgedHs, foreign]) {
      const srv = await localServer((_q, s) => {
        s.writeHead(200, { 'content-type': 'application/jose' });
        s.end(body);
      });
      try {
        const acts = actionsFor(stack, () => liveFor(stack, { statusBaseUrl: srv.url }));
        const r = await acts.executeAction(req('agent.disable', { agent_id: 'agent-ks' }));
        expect(r).toMatchObject({ ok: false, verified: false });
        expect(r.summary).toMatch(/status document (rejected|is for agent agent-stale)/);
      } finally {
        await srv.close();
      }
    }
  });
});
