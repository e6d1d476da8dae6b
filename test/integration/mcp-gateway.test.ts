/**
 * The MCP gateway connector against a real IBM ContextForge fronting the example MCP server
 * (test/helpers/mcp-services.ts). The agent is an MCP client (@modelcontextprotocol/sdk) that
 * calls tools through its ContextForge virtual server with its own token; the MCP server's call
 * log says which calls reached it.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { McpGatewayConfig } from '../../connectors/mcp-gateway';
import { getAgent } from '../../db/agents';
import { auditEntries } from '../../db/audit';
import { gatewayChangesOf } from '../../db/mcp-gateway-changes';
import { actionsFor, importAgents, liveFor, req, storedContaining } from '../connectors/fixtures';
import {
  adminApiToken,
  agentAccess,
  fronting,
  startContextForge,
  startExampleMcpServer,
  type AgentAccess,
  type ContextForge,
  type ExampleMcpServer,
  type FrontedTools,
} from '../helpers/mcp-services';
import { startTestStack, type TestStack } from '../helpers/stack';

let stack: TestStack;
let mcp: ExampleMcpServer;
let cf: ContextForge;
let tools: FrontedTools;
let agent: AgentAccess;
let other: AgentAccess;
let gateway: McpGatewayConfig;

beforeAll(async () => {
  [mcp, cf, stack] = await Promise.all([
    startExampleMcpServer(),
    startContextForge(),
    startTestStack({ withWorker: false }),
  ]);
  tools = await fronting(cf, mcp);
  const all = Object.values(tools.toolIds);
  agent = await agentAccess(cf, 'support-bot', all);
  other = await agentAccess(cf, 'billing-bot', all);
  await importAgents(stack, [
    { id: 'support-bot', name: 'Support bot', owner: 'sec@example.com', environment: 'prod' },
    { id: 'billing-bot', name: 'Billing bot', owner: 'sec@example.com', environment: 'prod' },
  ]);
  const mapping = (id: string, a: AgentAccess) => ({
    agent_id: id,
    user_email: a.userEmail,
    server_id: a.serverId,
    token: a.token,
    probe_tool: 'lookup',
    probe_arguments: { name: 'faq' },
  });
  gateway = {
    url: cf.url,
    token: await adminApiToken(cf),
    // Generous: a just-restarted ContextForge on two shared cores answers its first calls slowly.
    timeout_ms: 30_000,
    agents: [mapping('support-bot', agent), mapping('billing-bot', other)],
  };
});
afterAll(async () => {
  await stack?.close();
  await cf?.stop();
  await mcp?.stop();
});

const acts = () => actionsFor(stack, () => liveFor(stack, { mcpGateway: gateway }));

/** One tool call as the agent's MCP client makes it, through its virtual server. */
async function agentCall(a: AgentAccess, tool: string, args: Record<string, unknown>) {
  const client = new Client({ name: 'test-agent', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(`${cf.url}/servers/${a.serverId}/mcp`), {
    requestInit: { headers: { authorization: `Bearer ${a.token}` } },
  });
  try {
    await client.connect(transport);
    const r = await client.callTool({ name: tools.toolNames[tool]!, arguments: args });
    const text = (r.content as { text?: string }[]).map((c) => c.text ?? '').join(' ');
    return { served: !r.isError, text };
  } catch (err) {
    return { served: false, text: (err as Error).message };
  } finally {
    await client.close().catch(() => undefined);
  }
}

const userActive = async (email: string) =>
  (await cf.api<{ is_active: boolean }>('GET', `/auth/email/admin/users/${encodeURIComponent(email)}`))
    .is_active;
const serverToolIds = async (id: string) =>
  (await cf.api<{ id: string }[]>('GET', `/servers/${id}/tools`)).map((t) => t.id).sort();

describe('MCP gateway connector against ContextForge', () => {
  it('in a drill, disable changes nothing in ContextForge', async () => {
    const drill = { mode: 'drill' as const, incidentId: 'drill-1' };
    const r = await acts().executeAction(req('agent.disable', { agent_id: 'support-bot' }, drill));
    expect(r).toMatchObject({ ok: true, simulated: true });
    expect(await userActive(agent.userEmail)).toBe(true);
    expect(await gatewayChangesOf(stack.db, 'support-bot', cf.url)).toEqual([]);
    expect(await agentCall(agent, 'lookup', { name: 'faq' })).toMatchObject({ served: true });
  });

  it('disable refuses the agent at the gateway (no call reaches the server), enable restores it', async () => {
    const before = await agentCall(agent, 'query', { customer: 'alice' });
    expect(before).toMatchObject({ served: true });
    expect(mcp.calls().at(-1)).toMatchObject({ tool: 'query', args: { customer: 'alice' } });

    const r = req('agent.disable', { agent_id: 'support-bot' });
    const disabled = await acts().executeAction(r);
    expect(disabled).toMatchObject({ ok: true, verified: true, replayed: false });
    // Audited with what verification saw: the user inactive and the agent's probe call refused.
    const entry = (await auditEntries(stack.db)).findLast((e) => e.stepId === r.stepId);
    expect(entry).toMatchObject({ action: 'agent.disable', outcome: 'succeeded' });
    const seen = JSON.stringify(entry?.detail);
    expect(seen).toMatch(/user support-bot@agents\.example\.com inactive/);
    expect(seen).toMatch(/example-tools-lookup on \/mcp refused \(HTTP 401/);
    expect(await userActive(agent.userEmail)).toBe(false);

    const reached = mcp.calls().length;
    const after = await agentCall(agent, 'query', { customer: 'alice' });
    expect(after.served).toBe(false);
    expect(mcp.calls()).toHaveLength(reached);
    // Only this agent: the other one behind the same gateway still works.
    expect(await agentCall(other, 'lookup', { name: 'runbook' })).toMatchObject({ served: true });

    // The same step replays; a second disable changes nothing and still verifies.
    expect(await acts().executeAction(r)).toMatchObject({ ok: true, replayed: true });
    const again = await acts().executeAction(req('agent.disable', { agent_id: 'support-bot' }));
    expect(again).toMatchObject({ ok: true, verified: true });
    expect(await gatewayChangesOf(stack.db, 'support-bot', cf.url)).toHaveLength(1);

    const enabled = await acts().executeAction(req('agent.enable', { agent_id: 'support-bot' }));
    expect(enabled).toMatchObject({ ok: true, verified: true });
    expect(await userActive(agent.userEmail)).toBe(true);
    expect(await agentCall(agent, 'query', { customer: 'bob' })).toMatchObject({ served: true });
    expect(mcp.calls().at(-1)).toMatchObject({ tool: 'query', args: { customer: 'bob' } });
    expect(await gatewayChangesOf(stack.db, 'support-bot', cf.url)).toEqual([]);
    // Neither the agent's token nor the admin token is stored anywhere in Firebreak's data.
    expect(await storedContaining(stack, agent.token)).toEqual([]);
    expect(await storedContaining(stack, gateway.token!)).toEqual([]);
  });

  it('enable reactivates only a user Firebreak deactivated', async () => {
    await cf.api('PATCH', `/auth/email/admin/users/${encodeURIComponent(other.userEmail)}`, {
      is_active: false,
    });
    const d = await acts().executeAction(req('agent.disable', { agent_id: 'billing-bot' }));
    expect(d).toMatchObject({ ok: true, verified: true });
    expect(await gatewayChangesOf(stack.db, 'billing-bot', cf.url)).toEqual([]);
    const e = await acts().executeAction(req('agent.enable', { agent_id: 'billing-bot' }));
    // The operator's deactivation stands, so the enable cannot verify: it says why.
    expect(e).toMatchObject({ ok: false, verified: false });
    expect(e.summary).toMatch(/user billing-bot@agents\.example\.com inactive/);
    expect(await userActive(other.userEmail)).toBe(false);
    await cf.api('PATCH', `/auth/email/admin/users/${encodeURIComponent(other.userEmail)}`, {
      is_active: true,
    });
  });

  it('block refuses only that tool on the agent server, and allow restores exactly what it removed', async () => {
    // An operator had already taken `notify` from the agent: allow must not give it back.
    const withoutNotify = Object.entries(tools.toolIds)
      .filter(([n]) => n !== 'notify')
      .map(([, id]) => id);
    await cf.api('PUT', `/servers/${agent.serverId}`, { associated_tools: withoutNotify });

    const blocked = await acts().executeAction(
      req('agent.tools.block', { agent_id: 'support-bot', tools: ['query', 'notify'] }),
    );
    expect(await serverToolIds(agent.serverId)).toEqual([tools.toolIds.lookup]);
    const changes = await gatewayChangesOf(stack.db, 'support-bot', cf.url);
    expect(changes.map((c) => [c.kind, c.tool])).toEqual([['tool_removed', 'query']]);

    const reached = mcp.calls().length;
    expect(await agentCall(agent, 'query', { customer: 'alice' })).toMatchObject({ served: false });
    expect(await agentCall(agent, 'lookup', { name: 'faq' })).toMatchObject({ served: true });
    expect(
      mcp
        .calls()
        .slice(reached)
        .map((c) => c.tool),
    ).toEqual(['lookup']);
    // ContextForge 1.0.7 still serves the tool to the same token on its global /mcp endpoint:
    // verification calls it there too and reports it instead of claiming the block holds.
    expect(blocked).toMatchObject({ verified: false });
    expect(blocked.summary).toMatch(/example-tools-query on \/servers\/[^ ]+\/mcp refused/);
    expect(blocked.summary).toMatch(/example-tools-query on \/mcp served/);

    const allowed = await acts().executeAction(
      req('agent.tools.allow', { agent_id: 'support-bot', tools: ['query', 'notify'] }),
    );
    expect(await serverToolIds(agent.serverId)).toEqual([tools.toolIds.lookup, tools.toolIds.query].sort());
    expect(await gatewayChangesOf(stack.db, 'support-bot', cf.url)).toEqual([]);
    expect(await agentCall(agent, 'query', { customer: 'bob' })).toMatchObject({ served: true });
    // `notify` stays off the server, as the operator left it, so its allow does not verify.
    expect(allowed).toMatchObject({ verified: false });
    expect(allowed.summary).toMatch(/example-tools-query on \/servers\/[^ ]+\/mcp served/);
    expect(allowed.summary).toMatch(/example-tools-notify on \/servers\/[^ ]+\/mcp refused/);
    await cf.api('PUT', `/servers/${agent.serverId}`, { associated_tools: Object.values(tools.toolIds) });
  });

  it(
    'with the gateway down, disable still stops the agent at Firebreak and is not verified',
    { timeout: 300_000 },
    async () => {
      await cf.kill();
      const r = await acts().executeAction(req('agent.disable', { agent_id: 'support-bot' }));
      expect(r).toMatchObject({ ok: false, verified: false });
      expect(r.summary).toMatch(/mcp-gateway .* not updated: ContextForge at .* unreachable/);
      expect((await getAgent(stack.db, 'support-bot'))?.status).toBe('disabled');

      // Once the gateway is back, running the step again applies and verifies it there.
      await cf.restart();
      const retry = await acts().executeAction(req('agent.disable', { agent_id: 'support-bot' }));
      expect(retry, retry.summary).toMatchObject({ ok: true, verified: true });
      expect(await agentCall(agent, 'lookup', { name: 'faq' })).toMatchObject({ served: false });
    },
  );
});
