import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importAgentsFile } from '../../cli/agents';
import { bearer, startTestStack, TEST_ADMIN_TOKEN, type TestStack } from '../helpers/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ withWorker: false });
});
afterAll(async () => {
  await stack?.close();
});

const agent = {
  id: 'agent-1',
  name: 'Support bot',
  owner: 'alice@example.com',
  team: 'support',
  environment: 'prod',
  runtime_ref: 'k8s://prod/support-bot',
  credentials: [{ id: 'agent-1-db', provider: 'postgres', reference: 'support_rw', scopes: ['tickets'] }],
  tools: [{ name: 'search_tickets' }],
  permissions: ['tickets:read'],
};

async function post(body: unknown, token = TEST_ADMIN_TOKEN) {
  return fetch(`${stack.url}/v1/agents`, {
    method: 'POST',
    headers: bearer(token),
    body: JSON.stringify(body),
  });
}

describe('agent inventory', () => {
  it('bulk upserts over the API and reads back agents with credential references', async () => {
    expect((await post({ agents: [agent] }, 'not-the-admin-token-000')).status).toBe(401);
    expect(await (await post({ agents: [agent] })).json()).toEqual({ created: ['agent-1'], updated: [] });
    expect(await (await post([{ ...agent, owner: 'bob@example.com' }])).json()).toEqual({
      created: [],
      updated: ['agent-1'],
    });
    const one = (await (
      await fetch(`${stack.url}/v1/agents/agent-1`, { headers: bearer(TEST_ADMIN_TOKEN) })
    ).json()) as any;
    expect(one).toMatchObject({
      id: 'agent-1',
      owner: 'bob@example.com',
      status: 'enabled',
      credentials: [
        {
          id: 'agent-1-db',
          provider: 'postgres',
          reference: 'support_rw',
          scopes: ['tickets'],
          status: 'active',
          last_used_at: null,
        },
      ],
      tools: [{ name: 'search_tickets' }],
    });
    const list = (await (
      await fetch(`${stack.url}/v1/agents`, { headers: bearer(TEST_ADMIN_TOKEN) })
    ).json()) as any;
    expect(list.agents.map((a: any) => a.id)).toEqual(['agent-1']);
    expect((await fetch(`${stack.url}/v1/agents/nope`, { headers: bearer(TEST_ADMIN_TOKEN) })).status).toBe(
      404,
    );
  });

  it('rejects invalid input naming the field, including a secret value in a credential', async () => {
    const bad = await post({
      agents: [{ ...agent, credentials: [{ ...agent.credentials[0], secret: 'hunter2' }] }],
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).error.message).toMatch(/agents\.0\.credentials\.0.*secret/);
  });

  it('imports YAML from the CLI and reports problems as file:line:column', async () => {
    const file = path.join(stack.dataDir, 'agents.yaml');
    fs.writeFileSync(
      file,
      [
        'agents:',
        '  - id: cli-agent',
        '    name: CLI agent',
        '    owner: ops',
        '    environment: staging',
        '    status: paused',
        '',
      ].join('\n'),
    );
    const r = await importAgentsFile(stack.db, file);
    expect(r).toEqual({
      ok: false,
      errors: [expect.stringMatching(new RegExp(`^${file}:6:13: agents\\.0\\.status: `))],
    });
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('paused', 'disabled'));
    expect(await importAgentsFile(stack.db, file)).toEqual({ ok: true, created: ['cli-agent'], updated: [] });
    const json = path.join(stack.dataDir, 'agents.json');
    fs.writeFileSync(json, JSON.stringify([{ ...agent, id: 'json-agent' }], null, 2));
    expect(await importAgentsFile(stack.db, json)).toEqual({
      ok: true,
      created: ['json-agent'],
      updated: [],
    });
  });
});
