import fs from 'node:fs';
import path from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importAgentsFile } from '../../cli/agents';
import { setCredentialStatus } from '../../db/agents';
import { verifyAuditChain } from '../../db/audit';
import { auditEntries } from '../../db/audit';
import { bearer, startTestStack, TEST_ADMIN_TOKEN, type TestStack } from '../helpers/stack';
import { actionsFor, liveFor, req } from './fixtures';

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
    expect(await (await post({ agents: [agent] })).json()).toEqual({
      created: ['agent-1'],
      updated: [],
      status_kept: [],
    });
    expect(await (await post([{ ...agent, owner: 'bob@example.com' }])).json()).toEqual({
      created: [],
      updated: ['agent-1'],
      status_kept: [],
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
    expect(await importAgentsFile(stack.db, file)).toEqual({
      ok: true,
      created: ['cli-agent'],
      updated: [],
      status_kept: [],
    });
    const json = path.join(stack.dataDir, 'agents.json');
    fs.writeFileSync(
      json,
      JSON.stringify(
        [{ ...agent, id: 'json-agent', credentials: [{ ...agent.credentials[0], id: 'json-agent-db' }] }],
        null,
        2,
      ),
    );
    expect(await importAgentsFile(stack.db, json)).toEqual({
      ok: true,
      created: ['json-agent'],
      updated: [],
      status_kept: [],
    });
  });
});

async function getAgentView(id: string) {
  return (await (
    await fetch(`${stack.url}/v1/agents/${id}`, { headers: bearer(TEST_ADMIN_TOKEN) })
  ).json()) as any;
}

/** The claims of the agent's status document, read with a read-scope token. */
async function killSwitchStatus(id: string) {
  const res = await fetch(`${stack.url}/v1/agents/${id}/status`, { headers: bearer(TEST_ADMIN_TOKEN) });
  return decodeJwt(await res.text()) as any;
}

describe('an inventory import never changes a stored status', () => {
  const contained = {
    ...agent,
    id: 'contained-1',
    credentials: [{ id: 'contained-1-key', provider: 'aws_iam', reference: 'bot/AKIA0000000000000001' }],
  };

  it('leaves an agent disabled by the kill switch disabled, over the API and the CLI, and audits each import', async () => {
    expect((await post({ agents: [contained] })).status).toBe(200);
    const acts = actionsFor(stack, () => liveFor(stack));
    const disabled = await acts.executeAction(
      req('agent.disable', { agent_id: 'contained-1', reason: 'key on a paste site' }),
    );
    expect(disabled).toMatchObject({ ok: true, output: { status: 'disabled', version: 2 } });
    await setCredentialStatus(stack.db, 'contained-1-key', 'inactive');

    // The routine sync: the same file again, with and without an explicit `status: enabled`.
    const res = await post({ agents: [{ ...contained, owner: 'carol@example.com' }] });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      created: [],
      updated: ['contained-1'],
      status_kept: [{ id: 'contained-1', status: 'disabled', declared: 'enabled' }],
    });
    const file = path.join(stack.dataDir, 'sync.yaml');
    fs.writeFileSync(
      file,
      [
        'agents:',
        '  - id: contained-1',
        '    name: Support bot',
        '    owner: dave@example.com',
        '    environment: prod',
        '    status: enabled',
        '    credentials:',
        '      - id: contained-1-key',
        '        provider: aws_iam',
        '        reference: bot/AKIA0000000000000001',
        '        status: active',
        '',
      ].join('\n'),
    );
    expect(await importAgentsFile(stack.db, file, undefined, 'cli:ops')).toEqual({
      ok: true,
      created: [],
      updated: ['contained-1'],
      status_kept: [{ id: 'contained-1', status: 'disabled', declared: 'enabled' }],
    });

    const view = await getAgentView('contained-1');
    expect(view).toMatchObject({ owner: 'dave@example.com', status: 'disabled', status_version: 2 });
    expect(view.credentials).toEqual([
      expect.objectContaining({ id: 'contained-1-key', status: 'inactive' }),
    ]);
    expect(await killSwitchStatus('contained-1')).toMatchObject({ status: 'disabled', version: 2 });

    const entries = await auditEntries(stack.db);
    // The kill switch's change (and the action that made it); the imports changed no status.
    expect(entries.filter((e) => e.target === 'agent:contained-1').map((e) => e.action)).toEqual([
      'inventory.status',
      'agent.disable',
    ]);
    const imports = entries.filter(
      (e) => e.action === 'inventory.import' && (e.inputs.agents as string[]).includes('contained-1'),
    );
    expect(imports.map((e) => e.actor)).toEqual(['admin', 'admin', 'cli:ops']);
    expect(imports[2]!.detail).toMatchObject({
      status_kept: [{ id: 'contained-1', status: 'disabled', declared: 'enabled' }],
    });
    expect(await verifyAuditChain(stack.db, { key: stack.auditKey })).toMatchObject({ ok: true });
  });

  it('creates a new agent with the status it declares', async () => {
    expect(
      await (
        await post({ agents: [{ ...agent, id: 'born-off', credentials: [], status: 'disabled' }] })
      ).json(),
    ).toEqual({ created: ['born-off'], updated: [], status_kept: [] });
    expect(await killSwitchStatus('born-off')).toMatchObject({ status: 'disabled', version: 1 });
  });
});

describe('an inventory import never moves a credential between agents', () => {
  const holder = {
    ...agent,
    id: 'holder-1',
    credentials: [{ id: 'holder-1-db', provider: 'postgres', reference: 'holder_rw' }],
  };

  it('refuses over the API with 400 naming both agents, and writes nothing', async () => {
    expect((await post({ agents: [holder] })).status).toBe(200);
    const res = await post({
      agents: [
        { ...agent, id: 'fresh-1', credentials: [] },
        { ...agent, id: 'thief-1', credentials: [{ ...holder.credentials[0], reference: 'thief_rw' }] },
      ],
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as any;
    expect(body.error).toMatchObject({ code: 'credential_reassigned', field: 'agents.1.credentials.0.id' });
    expect(body.error.message).toMatch(/holder-1-db belongs to agent holder-1.*to agent thief-1/);
    for (const id of ['fresh-1', 'thief-1']) {
      expect(
        (await fetch(`${stack.url}/v1/agents/${id}`, { headers: bearer(TEST_ADMIN_TOKEN) })).status,
      ).toBe(404);
    }
    expect((await getAgentView('holder-1')).credentials).toEqual([
      expect.objectContaining({ id: 'holder-1-db', reference: 'holder_rw' }),
    ]);
  });

  it('refuses two agents of one import claiming the same credential id', async () => {
    const cred = { id: 'twice-db', provider: 'postgres', reference: 'twice_rw' };
    const res = await post({
      agents: [
        { ...agent, id: 'twin-a', credentials: [cred] },
        { ...agent, id: 'twin-b', credentials: [cred] },
      ],
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.message).toMatch(
      /twice-db belongs to agent twin-a.*to agent twin-b/,
    );
    expect((await fetch(`${stack.url}/v1/agents/twin-a`, { headers: bearer(TEST_ADMIN_TOKEN) })).status).toBe(
      404,
    );
  });

  it('refuses from the CLI with file:line:column naming both agents', async () => {
    const file = path.join(stack.dataDir, 'steal.yaml');
    fs.writeFileSync(
      file,
      [
        'agents:',
        '  - id: thief-2',
        '    name: Thief',
        '    owner: mallory',
        '    environment: prod',
        '    credentials:',
        '      - id: holder-1-db',
        '        provider: postgres',
        '        reference: holder_rw',
        '',
      ].join('\n'),
    );
    const r = await importAgentsFile(stack.db, file);
    expect(r).toEqual({
      ok: false,
      errors: [
        expect.stringMatching(
          new RegExp(
            `^${file}:7:13: agents\\.0\\.credentials\\.0\\.id: credential holder-1-db belongs to agent holder-1; the import gives it to agent thief-2`,
          ),
        ),
      ],
    });
    expect(
      (await fetch(`${stack.url}/v1/agents/thief-2`, { headers: bearer(TEST_ADMIN_TOKEN) })).status,
    ).toBe(404);
  });
});
