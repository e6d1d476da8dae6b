/**
 * OFREP through the real Python SDK: PyPI openfeature-sdk + openfeature-provider-ofrep, in the
 * venv the test setup provisions, with the runtime hook docs/kill-switch.md gives (it verifies
 * each answer's status document). Default false: an unreachable Firebreak, a bad token, an unknown
 * agent, a forged answer and a rate-limited request all evaluate false.
 */
import { serve, type ServerType } from '@hono/node-server';
import { SignJWT, type JSONWebKeySet } from 'jose';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../api/app';
import { parseFileConfig } from '../../app/config-file';
import { STATUS_JWS_TYPE } from '../../connectors/status-document';
import { actionsFor, importAgents, liveFor, localServer, req } from '../connectors/fixtures';
import { startTestStack, type TestStack } from '../helpers/stack';
import { evaluateInPython, openFeaturePython } from './openfeature/python';

const TOKEN = 'runtime-token-python-0123456789';
const AGENT = 'py-agent';

const runtimes = (over: Record<string, unknown> = {}) =>
  parseFileConfig(
    { runtimes: { tokens: [{ name: 'py-runtime', token_env: 'RT', agents: [AGENT, 'py-ghost'] }], ...over } },
    { RT: TOKEN },
    'test',
  );

let stack: TestStack;
let jwks: JSONWebKeySet;
let python: string;
beforeAll(async () => {
  python = openFeaturePython();
  stack = await startTestStack({
    withWorker: false,
    fileConfig: runtimes(),
  });
  await importAgents(stack, [
    { id: AGENT, name: 'Python agent', owner: 'sec@example.com', environment: 'prod' },
  ]);
  jwks = (await (await fetch(`${stack.url}/.well-known/jwks.json`)).json()) as JSONWebKeySet;
});
afterAll(async () => {
  await stack?.close();
});

const agentEnabled = (agent = AGENT) => ({
  flag: 'firebreak.agent.enabled',
  context: { targetingKey: agent },
});
const toolAllowed = (tool: string) => ({
  flag: 'firebreak.tool.allowed',
  context: { targetingKey: AGENT, tool },
});
const run = (evaluations: ReturnType<typeof agentEnabled>[], base_url = stack.url, token = TOKEN) =>
  evaluateInPython(python, { base_url, token, jwks, evaluations });

describe('OFREP through PyPI openfeature-sdk and openfeature-provider-ofrep', () => {
  it('evaluates the flags, and a disable or a tool block turns them false with version and incident', async () => {
    const [on, search] = await run([agentEnabled(), toolAllowed('search')]);
    expect(on).toMatchObject({ value: true, error_code: null, metadata: { status_version: 1 } });
    expect(search).toMatchObject({ value: true, error_code: null });

    const acts = actionsFor(stack, () => liveFor(stack));
    const block = req('agent.tools.block', { agent_id: AGENT, tools: ['shell'] }, { incidentId: 'inc-py-1' });
    expect(await acts.executeAction(block)).toMatchObject({ ok: true, verified: true });
    const [shell, stillSearch] = await run([toolAllowed('shell'), toolAllowed('search')]);
    expect(shell).toMatchObject({ value: false, error_code: null, metadata: { incident_id: 'inc-py-1' } });
    expect(stillSearch!.value).toBe(true);

    const disable = req('agent.disable', { agent_id: AGENT }, { incidentId: 'inc-py-2' });
    expect(await acts.executeAction(disable)).toMatchObject({ ok: true, verified: true });
    const [off, offTool] = await run([agentEnabled(), toolAllowed('search')]);
    expect(off).toMatchObject({
      value: false,
      error_code: null,
      metadata: { status_version: 3, incident_id: 'inc-py-2' },
    });
    expect(offTool!.value).toBe(false);
    await acts.executeAction(req('agent.enable', { agent_id: AGENT }));
  });

  it('evaluates false for an unreachable Firebreak, a bad token and an unknown agent', async () => {
    const gone = await localServer(() => undefined);
    await gone.close();
    const [unreachable] = await run([agentEnabled()], gone.url);
    expect(unreachable).toMatchObject({ value: false, error_code: 'GENERAL' });
    const [badToken] = await run([agentEnabled()], stack.url, 'wrong-runtime-token-0123');
    expect(badToken).toMatchObject({ value: false, error_code: 'GENERAL' });
    const [unknown, outside] = await run([agentEnabled('py-ghost'), agentEnabled('never-heard-of')]);
    expect(unknown).toMatchObject({ value: false, error_code: 'GENERAL' });
    expect(outside).toMatchObject({ value: false, error_code: 'GENERAL' });
    expect(unknown!.error_message).toBe(outside!.error_message);
  });

  it('rejects an answer forged with the webhook secret, or carrying no document', async () => {
    const forged = await new SignJWT({
      agent_id: AGENT,
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
      { metadata: { status_version: 99, status_jws: forged }, why: /alg 'HS256'/ },
      { metadata: { status_version: 99 }, why: /carries no status document/ },
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
        const [r] = await run([agentEnabled()], fake.url);
        expect(r!.value).toBe(false);
        expect(r!.error_message).toMatch(why);
      } finally {
        await fake.close();
      }
    }
  });

  it('evaluates false on 429 and pauses for Retry-After', async () => {
    const app = createApp({
      ...stack,
      log: pino({ level: 'silent' }),
      fileConfig: runtimes({ rate_limit: { per_second: 0.01, burst: 1 } }),
    });
    const server = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
    });
    const addr = server.address();
    try {
      const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
      const [first, limited, paused] = await run([agentEnabled(), agentEnabled(), agentEnabled()], url);
      expect(first).toMatchObject({ value: true, error_code: null });
      expect(limited).toMatchObject({
        value: false,
        error_message: expect.stringMatching(/Rate limited, retry after: \d+/),
      });
      expect(paused).toMatchObject({
        value: false,
        error_message: expect.stringMatching(/paused due to TooManyRequests/),
      });
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
