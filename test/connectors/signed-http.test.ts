import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { verifyAuditChain } from '../../activities/audit';
import { loadConfig } from '../../app/config';
import {
  canonicalString,
  HttpSystemConfig as HttpSystemSchema,
  verifySignature,
  type HttpSystemConfig,
} from '../../connectors/signed-http';
import type { LiveConnectors } from '../../connectors/types';
import { actionRunOf } from '../../db/action-runs';
import { auditEntries } from '../../db/audit';
import { startTestStack, type TestStack } from '../helpers/stack';
import {
  actionsFor,
  filesContaining,
  importAgents,
  liveFor,
  localServer,
  readBody,
  req,
  type LocalServer,
} from './fixtures';

const SECRET = 'billing-hmac-secret-do-not-leak-4242';

/** An in-house system: checks every signature, counts effects, and can refuse to apply some. */
const target = {
  restricted: new Set<string>(),
  restrictCalls: 0,
  badSignatures: 0,
  ignore: new Set<string>(),
  slow: false,
  /** Every request as it arrived: what a captured one would give an attacker to replay. */
  seen: [] as { method: string; path: string; body: string; signature: string }[],
};

let stack: TestStack;
let billing: LocalServer;
beforeAll(async () => {
  stack = await startTestStack({ withWorker: false });
  billing = await localServer(async (q, s) => {
    const body = await readBody(q);
    const signature = q.headers['x-firebreak-signature'] as string;
    const signed = { method: q.method ?? '', path: q.url ?? '', body };
    target.seen.push({ ...signed, signature });
    if (!verifySignature(SECRET, signature, signed)) {
      target.badSignatures += 1;
      s.writeHead(401).end('{}');
      return;
    }
    const m = /^\/(restrict|restore|access)\/(.+)$/.exec(q.url ?? '');
    const name = decodeURIComponent(m?.[2] ?? '');
    if (target.slow) await new Promise((r) => setTimeout(r, 1500));
    if (m?.[1] === 'restrict') {
      target.restrictCalls += 1;
      if (!target.ignore.has(name)) target.restricted.add(name);
      s.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({ ok: true, state: 'restricted' }),
      );
    } else if (m?.[1] === 'restore') {
      target.restricted.delete(name);
      s.writeHead(200).end(JSON.stringify({ ok: true, state: 'active' }));
    } else if (m?.[1] === 'access') {
      s.writeHead(200).end(JSON.stringify({ active: !target.restricted.has(name) }));
    } else s.writeHead(404).end('{}');
  });
  await importAgents(stack, [
    {
      id: 'agent-h',
      name: 'Billing agent',
      owner: 'fin@example.com',
      environment: 'prod',
      credentials: [{ id: 'agent-h-billing', provider: 'http', reference: 'billing:svc-agent-h' }],
      // access.restrict acts only on resources the inventory binds to the agent.
      permissions: ['svc-a', 'svc-crash', 'svc-stubborn', 'svc-s', 'svc-t', 'svc-replay', '.', '..'].map(
        (name) => `http:billing:${name}`,
      ),
    },
  ]);
});
afterAll(async () => {
  await billing?.close();
  await stack?.close();
});

function system(over: Partial<HttpSystemConfig> = {}): HttpSystemConfig {
  return {
    name: 'billing',
    base_url: billing.url,
    secret: SECRET,
    timeout_ms: 1000,
    restrict: {
      method: 'POST',
      path: '/restrict/{name}',
      response: z.object({ ok: z.literal(true), state: z.string() }),
    },
    restore: {
      method: 'POST',
      path: '/restore/{name}',
      response: { type: 'object', required: ['ok'], properties: { ok: { const: true } } },
    },
    check: { method: 'GET', path: '/access/{name}', active_field: 'active' },
    ...over,
  };
}
const live = (over: Partial<HttpSystemConfig> = {}) => liveFor(stack, { httpSystems: [system(over)] });

describe('generic signed HTTP connector', () => {
  it('restricts with a signed request, validates the response, verifies with the check request', async () => {
    const acts = actionsFor(stack, () => live());
    const r = await acts.executeAction(
      req('access.restrict', { agent_id: 'agent-h', resource: 'http:billing:svc-a' }),
    );
    expect(r).toMatchObject({
      ok: true,
      verified: true,
      output: { can_login: false, response: { ok: true, state: 'restricted' } },
    });
    expect(target.restricted.has('svc-a')).toBe(true);
    expect(target.badSignatures).toBe(0);
    const undo = await acts.executeAction(
      req('access.restore', { agent_id: 'agent-h', resource: 'http:billing:svc-a' }),
    );
    expect(undo).toMatchObject({ ok: true, verified: true, output: { can_login: true } });
    expect(target.restricted.has('svc-a')).toBe(false);
  });

  it('revokes an http credential by its <system>:<name> reference', async () => {
    const acts = actionsFor(stack, () => live());
    const r = await acts.executeAction(req('credentials.revoke', { agent_id: 'agent-h', provider: 'http' }));
    expect(r).toMatchObject({ ok: true, verified: true });
    expect(r.output.credentials).toEqual([
      { id: 'agent-h-billing', provider: 'http', reference: 'billing:svc-agent-h', status: 'inactive' },
    ]);
    expect(target.restricted.has('svc-agent-h')).toBe(true);
  });

  it('revokes what it can and fails verification for a credential no connector handles', async () => {
    await importAgents(stack, [
      {
        id: 'agent-mixed',
        name: 'Mixed',
        owner: 'x@example.com',
        environment: 'prod',
        credentials: [
          { id: 'mixed-http', provider: 'http', reference: 'billing:svc-mixed' },
          { id: 'mixed-fbk', provider: 'firebreak', reference: 'tok_123' },
        ],
      },
    ]);
    const r = await actionsFor(stack, () => live()).executeAction(
      req('credentials.revoke', { agent_id: 'agent-mixed' }),
    );
    expect(r).toMatchObject({ ok: false, verified: false });
    expect(r.summary).toMatch(/revoked mixed-http; no connector for mixed-fbk \(firebreak\)/);
    expect(target.restricted.has('svc-mixed')).toBe(true);
    expect(r.output.credentials).toEqual([
      expect.objectContaining({ id: 'mixed-http', status: 'inactive' }),
      expect.objectContaining({ id: 'mixed-fbk', status: 'active' }),
    ]);
  });

  it('does not act twice when the worker crashed between acting and recording', async () => {
    const before = target.restrictCalls;
    const r = req('access.restrict', { agent_id: 'agent-h', resource: 'http:billing:svc-crash' });
    // The first attempt acts at the target, then the process dies before finishing the record.
    const crashing = (): LiveConnectors => {
      const real = live()['access.restrict']!;
      return {
        'access.restrict': {
          ...real,
          act: async (p, ctx) => {
            await real.act(p, ctx);
            throw new Error('worker killed');
          },
        },
      };
    };
    await expect(actionsFor(stack, crashing).executeAction(r)).rejects.toThrow(/worker killed/);
    const row = (await actionRunOf(stack.db, r.incidentId, r.stepId))!;
    expect(row.status).toBe('started');

    const retried = await actionsFor(stack, () => live()).executeAction(r);
    expect(retried).toMatchObject({ ok: true, verified: true, replayed: false });
    expect(retried.summary).toMatch(/already in effect/);
    expect(target.restrictCalls - before).toBe(1); // counted at the target: exactly one effect
    const again = await actionsFor(stack, () => live()).executeAction(r);
    expect(again).toEqual({ ...retried, replayed: true });
    expect(target.restrictCalls - before).toBe(1);
  });

  it('yields verified:false and ok:false when the check says access still works', async () => {
    target.ignore.add('svc-stubborn');
    const r = await actionsFor(stack, () => live()).executeAction(
      req('access.restrict', { agent_id: 'agent-h', resource: 'http:billing:svc-stubborn' }),
    );
    expect(r).toMatchObject({ ok: false, verified: false });
    expect(r.summary).toMatch(/still works/);
  });

  it('fails when the response does not match the declared schema, and on timeout', async () => {
    const strict = live({
      restrict: {
        method: 'POST',
        path: '/restrict/{name}',
        response: z.object({ ok: z.literal(true), state: z.literal('gone') }),
      },
    });
    await expect(
      actionsFor(stack, () => strict).executeAction(
        req('access.restrict', { agent_id: 'agent-h', resource: 'http:billing:svc-s' }),
      ),
    ).rejects.toThrow(/response does not match its schema: state/);
    target.slow = true;
    try {
      await expect(
        actionsFor(stack, () => live()).executeAction(
          req('access.restrict', { agent_id: 'agent-h', resource: 'http:billing:svc-t' }),
        ),
      ).rejects.toThrow(/failed: .*(timeout|aborted)/i);
    } finally {
      target.slow = false;
    }
  });

  it('never stores a secret: not in the DB, its WAL, evidence, the audit log, errors or logs', async () => {
    const acts = actionsFor(stack, () => live());
    const r = await acts.executeAction(
      req('credentials.revoke', {
        agent_id: 'agent-h',
        credential_id: 'agent-h-billing',
        reason: `leaked: postgres://agent:${SECRET}@db/x and token=${SECRET}`,
      }),
    );
    expect(JSON.stringify(r)).not.toContain(SECRET);
    const wrong = live({ base_url: 'http://127.0.0.1:9/' });
    const err = await actionsFor(stack, () => wrong)
      .executeAction(req('access.restrict', { agent_id: 'agent-h', resource: `http:billing:${SECRET}` }))
      .catch((e: Error) => e);
    expect(String((err as Error).message)).not.toContain(SECRET);
    // What a worker logs of these: the result and the failure, as JSON lines in DATA_DIR.
    const log = pino(
      { level: 'info' },
      pino.destination({ dest: path.join(stack.dataDir, 'worker.log'), sync: true }),
    );
    log.info({ result: r }, 'action finished');
    log.error({ err }, 'activity failed');
    expect(fs.readFileSync(path.join(stack.dataDir, 'worker.log'), 'utf8')).toContain('action finished');
    stack.db.$client.pragma('wal_checkpoint(TRUNCATE)');
    expect(filesContaining(stack.dataDir, SECRET)).toEqual([]);
    expect(JSON.stringify(await auditEntries(stack.db))).toContain('[redacted]');
    expect((await verifyAuditChain(stack.db, { key: stack.auditKey })).ok).toBe(true);
  });

  it('signs the method and the path with the body and time: a captured request replays nowhere else', async () => {
    const acts = actionsFor(stack, () => live());
    target.seen.length = 0;
    const r = await acts.executeAction(
      req('access.restrict', { agent_id: 'agent-h', resource: 'http:billing:svc-replay' }),
    );
    expect(r).toMatchObject({ ok: true, verified: true });
    const captured = target.seen.find((s) => s.path === '/restrict/svc-replay')!;
    expect(captured.method).toBe('POST');
    expect(verifySignature(SECRET, captured.signature, captured)).toBe(true);
    // The documented canonical string (docs/connectors.md), recomputed independently.
    const t = Number(/^t=(\d+),/.exec(captured.signature)![1]);
    expect(canonicalString(t, captured)).toBe(`${t}\nPOST\n/restrict/svc-replay\n${captured.body}`);
    const mac = crypto.createHmac('sha256', SECRET).update(canonicalString(t, captured)).digest('hex');
    expect(captured.signature).toBe(`t=${t},v2=${mac}`);

    // The same signature and body sent to the restore path, or with another method, is refused.
    const before = target.badSignatures;
    for (const replay of [
      { method: 'POST', path: '/restore/svc-replay' },
      { method: 'PUT', path: '/restrict/svc-replay' },
      { method: 'POST', path: '/restrict/svc-other' },
    ]) {
      const res = await fetch(billing.url.replace(/\/$/, '') + replay.path, {
        method: replay.method,
        headers: { 'x-firebreak-signature': captured.signature, 'content-type': 'application/json' },
        body: captured.body,
      });
      expect(res.status, `${replay.method} ${replay.path}`).toBe(401);
    }
    expect(target.badSignatures - before).toBe(3);
    expect(target.restricted.has('svc-other')).toBe(false);
  });

  it.each(['.', '..'])('refuses the name %j before sending anything', async (name) => {
    target.seen.length = 0;
    const acts = actionsFor(stack, () => live());
    await expect(
      acts.executeAction(req('access.restrict', { agent_id: 'agent-h', resource: `http:billing:${name}` })),
    ).rejects.toThrow(`billing: name "${name}" is not a name`);
    expect(target.seen).toEqual([]);
  });

  it('refuses "." and ".." in a declared path, naming the field', () => {
    for (const path of ['/a/../admin/{name}', '/./restrict/{name}', '/restrict/{name}/..?x=1']) {
      const parsed = HttpSystemSchema.safeParse(system({ restrict: { method: 'POST', path } }));
      expect(parsed.success, path).toBe(false);
      expect(parsed.error?.issues[0]).toMatchObject({
        path: ['restrict', 'path'],
        message: 'path must not contain "." or ".." segments',
      });
    }
    expect(HttpSystemSchema.safeParse(system({ name: '..' })).error?.issues[0]?.path).toEqual(['name']);
    expect(HttpSystemSchema.safeParse(system()).success).toBe(true);
    // At start-up, from the config file: the error names the variable's full path.
    const file = path.join(stack.dataDir, 'dot-path.yaml');
    fs.writeFileSync(
      file,
      [
        'connectors:',
        '  http_systems:',
        '    - name: billing',
        '      base_url: https://billing.internal',
        `      secret: ${SECRET}`,
        '      restrict: { path: "/agents/../admin/{name}" }',
        '      check: { path: "/agents/{name}" }',
      ].join('\n'),
    );
    expect(() => loadConfig({ DATA_DIR: stack.dataDir, FIREBREAK_CONFIG: file })).toThrow(
      /connectors\.http_systems\.0\.restrict\.path: path must not contain "\." or "\.\." segments/,
    );
  });
});
