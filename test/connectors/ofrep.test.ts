/**
 * The OFREP endpoints through the real OpenFeature server SDK and its OFREP provider, wired the
 * way docs/kill-switch.md tells a TypeScript runtime to: default value false, a runtime token, and
 * an `after` hook that accepts an answer only with a genuine, fresh status document for the agent
 * that agrees with the value: the TypeScript example agent's hook (examples/agents/typescript).
 * The provider (0.1.x) evaluates every flag remotely and has no event-stream support, so the
 * stream is read here as an ADR-0008 client would.
 */
import { serve, type ServerType } from '@hono/node-server';
import { OFREPProvider } from '@openfeature/ofrep-provider';
import { OpenFeature, type Client } from '@openfeature/server-sdk';
import { createLocalJWKSet, jwtVerify, SignJWT, type JSONWebKeySet } from 'jose';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../api/app';
import { parseFileConfig } from '../../app/config-file';
import { STATUS_JWS_TYPE } from '../../connectors/status-document';
import { statusDocumentHook } from '../../examples/agents/typescript/kill-switch';
import { startTestStack, type TestStack } from '../helpers/stack';
import { actionsFor, importAgents, liveFor, localServer, req } from './fixtures';

const TOKEN = 'runtime-token-ofrep-0123456789';
const fileConfig = (over: Record<string, unknown> = {}) =>
  parseFileConfig(
    {
      runtimes: {
        tokens: [{ name: 'of-runtime', token_env: 'RT', agents: ['of-agent', 'of-ghost'] }],
        ...over,
      },
    },
    { RT: TOKEN },
    'test',
  );

let stack: TestStack;
let jwks: JSONWebKeySet;
let seq = 0;
async function runtimeClient(baseUrl: string, token = TOKEN): Promise<Client> {
  const domain = `runtime-${++seq}`;
  await OpenFeature.setProviderAndWait(
    domain,
    new OFREPProvider({ baseUrl, headers: { Authorization: `Bearer ${token}` } }),
  );
  const client = OpenFeature.getClient(domain);
  client.addHooks(statusDocumentHook(createLocalJWKSet(jwks)));
  return client;
}
const enabled = (client: Client, agent: string) =>
  client.getBooleanDetails('firebreak.agent.enabled', false, { targetingKey: agent });
const toolAllowed = (client: Client, agent: string, tool?: string) =>
  client.getBooleanValue('firebreak.tool.allowed', false, { targetingKey: agent, ...(tool ? { tool } : {}) });

beforeAll(async () => {
  stack = await startTestStack({ withWorker: false, fileConfig: fileConfig() });
  await importAgents(stack, [
    { id: 'of-agent', name: 'Flagged', owner: 'sec@example.com', environment: 'prod' },
  ]);
  jwks = (await (await fetch(`${stack.url}/.well-known/jwks.json`)).json()) as JSONWebKeySet;
});
afterAll(async () => {
  await OpenFeature.close();
  await stack?.close();
});

describe('OFREP through @openfeature/server-sdk and @openfeature/ofrep-provider', () => {
  it('evaluates the agent and tool flags, and a disable turns them false with version and incident', async () => {
    const client = await runtimeClient(stack.url);
    const before = await enabled(client, 'of-agent');
    expect(before).toMatchObject({ value: true, variant: 'enabled', reason: 'TARGETING_MATCH' });
    expect(before.flagMetadata).toMatchObject({ status_version: 1 });
    expect(await toolAllowed(client, 'of-agent', 'search')).toBe(true);
    expect(await toolAllowed(client, 'of-agent')).toBe(false); // no tool named: INVALID_CONTEXT

    const acts = actionsFor(stack, () => liveFor(stack));
    const blocked = await acts.executeAction(
      req('agent.tools.block', { agent_id: 'of-agent', tools: ['shell'] }, { incidentId: 'inc-of-1' }),
    );
    expect(blocked).toMatchObject({ ok: true, verified: true });
    expect(await toolAllowed(client, 'of-agent', 'shell')).toBe(false);
    expect(await toolAllowed(client, 'of-agent', 'search')).toBe(true);

    const disabled = await acts.executeAction(
      req('agent.disable', { agent_id: 'of-agent' }, { incidentId: 'inc-of-2' }),
    );
    expect(disabled).toMatchObject({ ok: true, verified: true, output: { version: 3 } });
    const after = await enabled(client, 'of-agent');
    expect(after).toMatchObject({ value: false, variant: 'disabled' });
    expect(after.errorCode).toBeUndefined();
    expect(after.flagMetadata).toMatchObject({ status_version: 3, incident_id: 'inc-of-2' });
    expect(await toolAllowed(client, 'of-agent', 'search')).toBe(false);

    await acts.executeAction(req('agent.enable', { agent_id: 'of-agent' }));
    expect((await enabled(client, 'of-agent')).value).toBe(true);
  });

  it('evaluates false for an unreachable Firebreak, a bad token, an unknown agent and one outside the scope', async () => {
    const gone = await localServer(() => undefined);
    const deadUrl = gone.url;
    await gone.close();
    const unreachable = await enabled(await runtimeClient(deadUrl), 'of-agent');
    expect(unreachable).toMatchObject({ value: false, errorCode: 'GENERAL' });

    const badToken = await enabled(await runtimeClient(stack.url, 'wrong-runtime-token-0123'), 'of-agent');
    expect(badToken).toMatchObject({ value: false, errorCode: 'GENERAL' });

    const client = await runtimeClient(stack.url);
    const unknown = await enabled(client, 'of-ghost');
    const outside = await enabled(client, 'someone-else');
    expect(unknown).toMatchObject({ value: false, errorCode: 'GENERAL' });
    expect(outside).toMatchObject({ value: false, errorCode: 'GENERAL' });
    expect(unknown.errorMessage).toBe(outside.errorMessage);
  });

  it('rejects a flag answer forged with the webhook secret, or carrying no document', async () => {
    const forged = await new SignJWT({
      agent_id: 'of-agent',
      status: 'enabled',
      version: 99,
      incident: null,
      blocked_tools: [],
    })
      .setProtectedHeader({ alg: 'HS256', kid: stack.statusKey.kid, typ: STATUS_JWS_TYPE })
      .setIssuedAt()
      .setExpirationTime('1m')
      .sign(new TextEncoder().encode(stack.credentials.webhookSecret));
    const cases = [
      {
        metadata: { status_version: 99, status_jws: forged },
        why: /"alg" \(Algorithm\) Header Parameter value not allowed/,
      },
      { metadata: { status_version: 99 }, why: /answer carries no status document/ },
    ];
    for (const { metadata, why } of cases) {
      const fake = await localServer((_q, s) => {
        s.writeHead(200, { 'content-type': 'application/json' });
        s.end(
          JSON.stringify({
            key: 'firebreak.agent.enabled',
            value: true,
            variant: 'enabled',
            reason: 'STATIC',
            metadata,
          }),
        );
      });
      try {
        const r = await enabled(await runtimeClient(fake.url), 'of-agent');
        expect(r.value).toBe(false);
        expect(r.errorMessage).toMatch(why);
      } finally {
        await fake.close();
      }
    }
  });

  it('answers 429 with Retry-After, which the provider honours by evaluating the default', async () => {
    const app = createApp({
      ...stack,
      log: pino({ level: 'silent' }),
      fileConfig: fileConfig({ rate_limit: { per_second: 0.01, burst: 1 } }),
    });
    const server = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
    });
    const addr = server.address();
    const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    try {
      const raw = await fetch(`${url}/ofrep/v1/evaluate/flags/firebreak.agent.enabled`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ context: { targetingKey: 'of-agent' } }),
      });
      expect(raw.status).toBe(200);
      const client = await runtimeClient(url);
      const limited = await enabled(client, 'of-agent');
      expect(limited).toMatchObject({ value: false, errorCode: 'GENERAL' });
      expect(limited.errorMessage).toMatch(/rate limit/i);
      expect(await enabled(client, 'of-agent')).toMatchObject({
        value: false,
        errorMessage: expect.stringMatching(/paused due to TooManyRequests/),
      });
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe('OFREP bulk evaluation and event stream', () => {
  const bulk = (headers: Record<string, string> = {}) =>
    fetch(`${stack.url}/ofrep/v1/evaluate/flags`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ context: { targetingKey: 'of-agent', tool: 'search' } }),
    });

  it('revalidates with ETag / If-None-Match and announces a change on the event stream at once', async () => {
    const first = await bulk();
    expect(first.status).toBe(200);
    const body = (await first.json()) as any;
    expect(body.flags.map((f: any) => [f.key, f.value])).toEqual([
      ['firebreak.agent.enabled', true],
      ['firebreak.tool.allowed', true],
    ]);
    expect(body.eventStreams).toEqual([
      { type: 'sse', endpoint: { requestUri: '/ofrep/v1/event-stream?agent=of-agent' } },
    ]);
    const etag = first.headers.get('etag')!;
    const same = await bulk({ 'if-none-match': etag });
    expect(same.status).toBe(304);
    const fresh = same.headers.get('firebreak-status')!;
    const { payload } = await jwtVerify(fresh, createLocalJWKSet(jwks), { typ: STATUS_JWS_TYPE });
    expect(payload).toMatchObject({ agent_id: 'of-agent', status: 'enabled' });

    const refused = await fetch(`${stack.url}${body.eventStreams[0].endpoint.requestUri}`);
    expect(refused.status).toBe(401);

    const abort = new AbortController();
    const stream = await fetch(`${stack.url}${body.eventStreams[0].endpoint.requestUri}`, {
      headers: { authorization: `Bearer ${TOKEN}`, accept: 'text/event-stream' },
      signal: abort.signal,
    });
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    const until = async (pattern: RegExp) => {
      while (!pattern.test(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${pattern}: ${text}`);
        text += value;
      }
    };
    try {
      await until(/"type":"connected"/);
      const acts = actionsFor(stack, () => liveFor(stack));
      const r = await acts.executeAction(
        req('agent.disable', { agent_id: 'of-agent' }, { incidentId: 'inc-of-3' }),
      );
      expect(r).toMatchObject({ ok: true, verified: true });
      const version = (r.output as { version: number }).version;
      await until(/"type":"refetchEvaluation"/);
      expect(text).toContain(`id: v${version}`);
      expect(text).toContain(`"etag":"\\"v${version}\\""`);

      const refetched = await bulk({ 'if-none-match': etag });
      expect(refetched.status).toBe(200);
      const flags = ((await refetched.json()) as any).flags;
      expect(flags.map((f: any) => [f.key, f.value, f.metadata.incident_id])).toEqual([
        ['firebreak.agent.enabled', false, 'inc-of-3'],
        ['firebreak.tool.allowed', false, 'inc-of-3'],
      ]);
    } finally {
      abort.abort();
      await reader.cancel().catch(() => undefined);
    }
    await actionsFor(stack, () => liveFor(stack)).executeAction(
      req('agent.enable', { agent_id: 'of-agent' }),
    );
  });
});
