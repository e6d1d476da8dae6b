/**
 * The NUL character (U+0000) in a request body or URL: PostgreSQL cannot store or compare it in
 * text, so every store refuses it the same way, 400 naming the field, before anything is written
 * or looked up (schemathesis found POST /v1/agents, and later GET /ofrep/v1/event-stream?agent=,
 * answering 500 on PostgreSQL). Checked on a PostgreSQL store and on the
 * run's store (SQLite, or PostgreSQL with FIREBREAK_TEST_DATABASE=postgres).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countAlerts } from '../../db/incident-alerts';
import {
  bearer,
  startTestStack,
  TEST_ADMIN_TOKEN,
  TEST_WEBHOOK_SECRET,
  type TestStack,
} from '../helpers/stack';
import { startPostgres, type LocalPostgres } from './services';

let cluster: LocalPostgres;
const stacks: { name: string; stack: TestStack }[] = [];
beforeAll(async () => {
  cluster = await startPostgres();
  stacks.push({ name: 'postgres', stack: await startTestStack({ postgresAdminUrl: cluster.adminUrl }) });
  stacks.push({ name: 'the run store', stack: await startTestStack() });
});
afterAll(async () => {
  for (const { stack } of stacks) await stack.close();
  await cluster?.stop();
});

async function post(stack: TestStack, path: string, token: string, body: unknown) {
  const res = await fetch(`${stack.url}${path}`, {
    method: 'POST',
    headers: bearer(token),
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { error?: { code: string; field?: string } } };
}

describe('the NUL character in a request body', () => {
  it('is refused with 400 naming the field, on PostgreSQL and on the run store', async () => {
    for (const { name, stack } of stacks) {
      const agent = { id: 'agent-nul', name: 'Nul', owner: 'sec@example.com', environment: 'prod' };
      const owner = await post(stack, '/v1/agents', TEST_ADMIN_TOKEN, {
        agents: [agent, { ...agent, id: 'agent-nul-2', owner: 'a\u0000b' }],
      });
      expect(owner, name).toMatchObject({
        status: 400,
        body: { error: { code: 'invalid_text', field: 'agents.1.owner' } },
      });
      const tool = await post(stack, '/v1/agents', TEST_ADMIN_TOKEN, {
        agents: [{ ...agent, tools: [{ name: 'ok', description: '\u0000' }] }],
      });
      expect(tool.body.error?.field, name).toBe('agents.0.tools.0.description');

      const alert = { title: 'Agent token seen', severity: 'high', source: 'siem', agent_id: 'agent-nul' };
      const title = await post(stack, '/v1/alerts', TEST_WEBHOOK_SECRET, { ...alert, title: 'x\u0000' });
      expect(title, name).toMatchObject({ status: 400, body: { error: { field: 'title' } } });
      const label = await post(stack, '/v1/alerts', TEST_WEBHOOK_SECRET, {
        ...alert,
        labels: { 'k\u0000': 'v' },
      });
      expect(label.body.error?.field, name).toBe('labels.k\u0000');
      expect(await countAlerts(stack.db), name).toBe(0);

      // The same bodies without the NUL are taken.
      expect((await post(stack, '/v1/agents', TEST_ADMIN_TOKEN, { agents: [agent] })).status, name).toBe(200);
      expect((await post(stack, '/v1/alerts', TEST_WEBHOOK_SECRET, alert)).status, name).toBe(202);
    }
  });

  it('in a query parameter or a path segment is refused with 400 naming it', async () => {
    for (const { name, stack } of stacks) {
      const get = async (path: string, token = TEST_ADMIN_TOKEN) => {
        const res = await fetch(`${stack.url}${path}`, { headers: bearer(token) });
        return {
          status: res.status,
          body: (await res.json()) as { error?: { code: string; field?: string } },
        };
      };
      // A runtime's event stream names its agents in the query (looked up before the token's scope).
      const stream = await get('/ofrep/v1/event-stream?agent=a%00b');
      expect(stream, name).toMatchObject({
        status: 400,
        body: { error: { code: 'invalid_text', field: 'query.agent' } },
      });
      const path = await get('/v1/incidents/inc%00x');
      expect(path, name).toMatchObject({ status: 400, body: { error: { field: '(path)' } } });
      expect((await get('/v1/incidents/inc-none')).status, name).toBe(404);
      // The status document's path names the agent (documented as a 400 in the OpenAPI document).
      const status = await get('/v1/agents/a%00b/status');
      expect(status, name).toMatchObject({ status: 400, body: { error: { field: '(path)' } } });
    }
  });
});
