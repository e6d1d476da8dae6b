/**
 * access.restrict acts only on a resource the inventory binds to the incident's agent (one of its
 * credentials, or a listed permission) and to no other agent: an unbound resource, another agent
 * than the incident's, or a role several agents share is refused before the system is called.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertIncident } from '../../db/incidents';
import { incidentWorkflowId } from '../../temporal/client';
import { startTestStack, type TestStack } from '../helpers/stack';
import { actionsFor, importAgents, liveFor, localServer, req, type LocalServer } from './fixtures';

const SECRET = 'warehouse-hmac-secret-0123456789';
const calls: string[] = [];
const restricted = new Set<string>();

let stack: TestStack;
let warehouse: LocalServer;
beforeAll(async () => {
  stack = await startTestStack({ withWorker: false });
  warehouse = await localServer((q, s) => {
    const m = /^\/(restrict|access)\/(.+)$/.exec(q.url ?? '');
    const name = decodeURIComponent(m?.[2] ?? '');
    calls.push(`${m?.[1]} ${name}`);
    if (m?.[1] === 'restrict') restricted.add(name);
    s.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify(m?.[1] === 'access' ? { active: !restricted.has(name) } : { ok: true }),
    );
  });
  await importAgents(stack, [
    {
      id: 'agent-a',
      name: 'Agent A',
      owner: 'a@example.com',
      environment: 'prod',
      credentials: [{ id: 'agent-a-wh', provider: 'http', reference: 'warehouse:role-a' }],
      permissions: ['http:warehouse:readonly'],
    },
    {
      id: 'agent-b',
      name: 'Agent B',
      owner: 'b@example.com',
      environment: 'prod',
      permissions: ['http:warehouse:readonly', 'http:warehouse:role-b'],
    },
  ]);
  const now = new Date().toISOString();
  await insertIncident(stack.db, {
    id: 'inc-access-1',
    key: 'test:inc-access-1',
    seq: 1,
    workflowId: incidentWorkflowId('inc-access-1'),
    source: 'test',
    title: 'Agent A reads outside its task',
    severity: 'high',
    status: 'open',
    mode: 'live',
    phase: 'contain',
    agentId: 'agent-a',
    firstAlertAt: now,
    lastAlertAt: now,
    openedAt: now,
    updatedAt: now,
  });
});
afterAll(async () => {
  await warehouse?.close();
  await stack?.close();
});

const live = () =>
  liveFor(stack, {
    httpSystems: [
      {
        name: 'warehouse',
        base_url: warehouse.url,
        secret: SECRET,
        timeout_ms: 2000,
        restrict: { method: 'POST', path: '/restrict/{name}' },
        check: { method: 'GET', path: '/access/{name}', active_field: 'active' },
      },
    ],
  });

const restrict = (agentId: string, resource: string) =>
  actionsFor(stack, live).executeAction(
    req('access.restrict', { agent_id: agentId, resource }, { incidentId: 'inc-access-1' }),
  );

describe('access.restrict and the inventory', () => {
  it("restricts a resource bound to the incident's agent alone", async () => {
    const r = await restrict('agent-a', 'http:warehouse:role-a');
    expect(r).toMatchObject({ ok: true, verified: true });
    expect(restricted.has('role-a')).toBe(true);
  });

  it('refuses a resource the inventory does not bind to the agent, without calling the system', async () => {
    calls.length = 0;
    await expect(restrict('agent-a', 'http:warehouse:role-b')).rejects.toThrow(
      /http:warehouse:role-b is not bound to agent agent-a in the inventory/,
    );
    await expect(restrict('agent-a', 'http:warehouse:unknown')).rejects.toThrow(
      /is not bound to agent agent-a/,
    );
    expect(calls).toEqual([]);
    expect(restricted.has('role-b')).toBe(false);
  });

  it('refuses a role other agents share, naming them', async () => {
    calls.length = 0;
    await expect(restrict('agent-a', 'http:warehouse:readonly')).rejects.toThrow(
      /http:warehouse:readonly is shared with agents agent-b/,
    );
    expect(calls).toEqual([]);
  });

  it("refuses to restrict another agent's resource from this incident", async () => {
    await expect(restrict('agent-b', 'http:warehouse:role-b')).rejects.toThrow(
      /incident inc-access-1 is about agent agent-a, not agent-b/,
    );
    expect(restricted.has('role-b')).toBe(false);
  });
});
