/**
 * The OPA enforcement point against a real OPA server (test/helpers/opa-server.ts, the binary
 * scripts/provision.d/opa.sh builds) with policies/firebreak.rego loaded and token authentication
 * on: the policy's own `opa test` suite; the kill-switch actions writing each agent's state and
 * verifying through the decision, version included; fail closed when OPA is down (the incident
 * needs attention) or has the wrong token; and examples/gateways/opa-mcp-proxy in front of a real
 * MCP server (the SDK's streamable HTTP transport), refusing tool calls once the agent is disabled.
 */
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { syncEnforcementPoints } from '../../connectors/enforcement-sync';
import { opaClient } from '../../connectors/opa';
import { enforcementPoints } from '../../connectors/registry';
import type { LiveConnectors } from '../../connectors/types';
import { actionRunsOf } from '../../db/action-runs';
import { getAgent } from '../../db/agents';
import { auditEntries } from '../../db/audit';
import { getIncident } from '../../db/incidents';
import { createProxy, REFUSED } from '../../examples/gateways/opa-mcp-proxy/proxy';
import { actionsFor, connectorConfig, importAgents, liveFor, req } from '../connectors/fixtures';
import { opaBinary, POLICY_DIR, startOpa, type LocalOpa } from '../helpers/opa-server';
import { pinYaml, startIncident } from '../helpers/playbooks';
import { eventually, startTestStack, type TestStack } from '../helpers/stack';

const OPA_TOKEN = 'opa-token-for-firebreak-0123456789';

let stack: TestStack;
let opa: LocalOpa;
let live: LiveConnectors | undefined;

const agent = (id: string) => ({ id, name: id, owner: 'sec@example.com', environment: 'prod' });

beforeAll(async () => {
  opa = await startOpa({ token: OPA_TOKEN });
  stack = await startTestStack({
    liveConnectors: () => (live ??= liveFor(stack, { opa: { url: opa.url, token: OPA_TOKEN } })),
  });
  await importAgents(
    stack,
    ['agent-opa', 'agent-tools', 'agent-stale', 'agent-down', 'agent-proxy', 'agent-drill'].map(agent),
  );
});
afterAll(async () => {
  await stack?.close();
  await opa?.close();
});

const opaLive = () => liveFor(stack, { opa: { url: opa.url, token: OPA_TOKEN } });
const client = () => opaClient({ url: opa.url, token: OPA_TOKEN });
const decide = (agent_id: string, tool?: string) =>
  client().decision({ agent_id, ...(tool ? { tool } : {}) });

describe('policies/firebreak.rego', () => {
  it('passes its own opa test suite in the real binary', () => {
    const out = execFileSync(opaBinary(), ['test', POLICY_DIR, '--format', 'json'], { encoding: 'utf8' });
    const results = JSON.parse(out) as { name: string; fail?: boolean; error?: unknown }[];
    expect(results.length).toBeGreaterThanOrEqual(10);
    expect(results.filter((r) => r.fail || r.error).map((r) => r.name)).toEqual([]);
  });

  it('denies an agent OPA holds no state for (fail closed)', async () => {
    expect(await decide('agent-opa', 'search')).toMatchObject({
      allow: false,
      version: null,
      reasons: ['unknown agent'],
    });
  });

  it('refuses a Data API request without the token', async () => {
    const res = await fetch(`${opa.url}/v1/data/firebreak/authz/decision`, {
      method: 'POST',
      body: JSON.stringify({ input: { agent_id: 'agent-opa' } }),
    });
    expect(res.status).toBe(401);
  });
});

describe('the kill switch with OPA as an enforcement point', () => {
  it('agent.disable writes the state, verifies by the decision, and agent.enable restores it', async () => {
    const acts = actionsFor(stack, opaLive);
    const r = req('agent.disable', { agent_id: 'agent-opa', reason: 'exfil' }, { incidentId: 'inc-opa-1' });
    const disabled = await acts.executeAction(r);
    expect(disabled).toMatchObject({
      ok: true,
      verified: true,
      output: { agent_id: 'agent-opa', status: 'disabled', version: 2 },
    });
    expect(disabled.summary).toMatch(new RegExp(`opa ${opa.url} updated`));
    expect(await decide('agent-opa', 'search')).toMatchObject({
      allow: false,
      version: 2,
      incident: 'inc-opa-1',
      reasons: ['agent is disabled'],
    });
    expect(await client().agentDocument('agent-opa')).toEqual({
      status: 'disabled',
      blocked_tools: [],
      version: 2,
      incident: 'inc-opa-1',
    });
    const audit = (await auditEntries(stack.db)).filter((e) => e.stepId === r.stepId);
    expect(audit.map((e) => [e.action, e.outcome])).toEqual([
      ['inventory.status', 'changed'],
      ['agent.disable', 'succeeded'],
    ]);
    expect(audit[1]!.detail).toMatchObject({
      verified: true,
      detail: expect.stringMatching(/opa .*: deny for agent agent-opa \(version 2: agent is disabled\)/),
    });

    // Another step disabling again changes nothing, in Firebreak or in OPA.
    const again = await acts.executeAction(req('agent.disable', { agent_id: 'agent-opa' }));
    expect(again).toMatchObject({ ok: true, verified: true, output: { version: 2 } });
    expect(again.summary).toMatch(/was already disabled; opa .* already current/);

    const enabled = await acts.executeAction(req('agent.enable', { agent_id: 'agent-opa' }));
    expect(enabled).toMatchObject({ ok: true, verified: true, output: { status: 'enabled', version: 3 } });
    expect(await decide('agent-opa', 'search')).toMatchObject({ allow: true, version: 3, reasons: [] });
  });

  it('agent.tools.block denies only that tool; agent.tools.allow restores it', async () => {
    const acts = actionsFor(stack, opaLive);
    const blocked = await acts.executeAction(
      req('agent.tools.block', { agent_id: 'agent-tools', tools: ['shell'] }, { incidentId: 'inc-opa-2' }),
    );
    expect(blocked).toMatchObject({
      ok: true,
      verified: true,
      output: { blocked_tools: ['shell'], version: 2 },
    });
    expect(await decide('agent-tools', 'shell')).toMatchObject({
      allow: false,
      tool_blocked: true,
      reasons: ['tool shell is blocked'],
    });
    expect(await decide('agent-tools', 'search')).toMatchObject({ allow: true, version: 2 });

    const allowed = await acts.executeAction(
      req('agent.tools.allow', { agent_id: 'agent-tools', tools: ['shell'] }),
    );
    expect(allowed).toMatchObject({ ok: true, verified: true, output: { blocked_tools: [], version: 3 } });
    expect(await decide('agent-tools', 'shell')).toMatchObject({ allow: true, version: 3 });
  });

  it('does not verify while OPA holds an older version, even one that answers deny; acting again repairs it', async () => {
    const acts = actionsFor(stack, opaLive);
    const params = { agent_id: 'agent-stale', tools: ['shell'] };
    const blocked = await acts.executeAction(req('agent.tools.block', params));
    expect(blocked).toMatchObject({ ok: true, verified: true, output: { version: 2 } });
    // A stale replica or a restored snapshot: the tool is still denied, but from version 1.
    await client().putAgentDocument({
      agent_id: 'agent-stale',
      status: 'enabled',
      blocked_tools: ['shell'],
      version: 1,
      incident: null,
    });
    expect(await decide('agent-stale', 'shell')).toMatchObject({ allow: false, version: 1 });
    const check = await opaLive()['agent.tools.block']!.verify!(params, blocked.output);
    expect(check).toMatchObject({
      verified: false,
      detail: expect.stringMatching(/OPA holds version 1 of agent agent-stale, older than 2/),
    });

    const repaired = await acts.executeAction(req('agent.tools.block', params));
    expect(repaired).toMatchObject({ ok: true, verified: true, output: { version: 2 } });
    expect(repaired.summary).toMatch(/already blocked; opa .* updated/);
    expect(await decide('agent-stale', 'shell')).toMatchObject({ allow: false, version: 2 });
  });

  it('does not verify with the wrong OPA token, and names it', async () => {
    const acts = actionsFor(stack, () =>
      liveFor(stack, { opa: { url: opa.url, token: 'wrong-token-000000' } }),
    );
    const r = await acts.executeAction(
      req('agent.tools.block', { agent_id: 'agent-tools', tools: ['http_post'] }),
    );
    expect(r).toMatchObject({ ok: false, verified: false });
    expect(r.summary).toMatch(/answered 401 \(check the OPA token\)/);
    expect(r.summary).not.toContain('wrong-token-000000');
  });

  it('OPA down: the disable holds in Firebreak, its verification fails, and the incident needs attention', async () => {
    const playbook = pinYaml(`
id: disable-only
version: 1
title: Disable
phases:
  contain:
    - id: disable_agent
      kind: action
      action: agent.disable
      params: { agent_id: '\${{ incident.agent_id }}', reason: test }
      require_verified: true
`);
    await opa.stop();
    try {
      const { incidentId } = await startIncident(stack, {
        playbook,
        mode: 'live',
        severity: 'critical',
        agentId: 'agent-down',
      });
      const row = await eventually(
        async () => {
          const i = await getIncident(stack.db, incidentId);
          return i?.needsAttentionAt ? i : undefined;
        },
        60_000,
        'the incident to need attention',
      );
      expect(row.needsAttentionStep).toBe('disable_agent');
      // Firebreak's own status holds; OPA, which gateways ask, could not be told or asked.
      expect(row.needsAttentionReason).toMatch(
        /containment step disable_agent failed: .*not updated: OPA at .* unreachable.*; verification failed: status endpoint says disabled \(version 2\); OPA at .* unreachable/,
      );
      expect((await getAgent(stack.db, 'agent-down'))?.status).toBe('disabled');
      const step = (await actionRunsOf(stack.db, incidentId)).find((a) => a.stepId === 'disable_agent');
      expect(step).toMatchObject({ status: 'failed' });
      expect(JSON.stringify(step?.result)).toMatch(/OPA at .* unreachable/);
    } finally {
      await opa.start();
    }
    // OPA lost its data with the restart: every agent is unknown there, so every call is denied.
    expect(await decide('agent-opa', 'search')).toMatchObject({ allow: false, reasons: ['unknown agent'] });
  });
});

describe('keeping OPA in step with the inventory', () => {
  const points = () =>
    enforcementPoints({ ...connectorConfig(stack), opa: { url: opa.url, token: OPA_TOKEN } }, stack.db);

  it('writes every agent, also after OPA restarted empty, and changes nothing on a repeat', async () => {
    await importAgents(stack, [agent('agent-synced')]);
    expect(await decide('agent-synced', 'search')).toMatchObject({
      allow: false,
      reasons: ['unknown agent'],
    });
    const first = await syncEnforcementPoints(stack.db, points());
    expect(first).toEqual([{ point: `opa ${opa.url}`, changed: expect.any(Number) }]);
    expect(first[0]!.changed).toBeGreaterThanOrEqual(1);
    expect(await decide('agent-synced', 'search')).toMatchObject({ allow: true, version: 1 });
    expect(await decide('agent-down')).toMatchObject({ allow: false, reasons: ['agent is disabled'] });
    expect(await syncEnforcementPoints(stack.db, points())).toEqual([
      { point: `opa ${opa.url}`, changed: 0 },
    ]);

    await opa.stop();
    expect(await syncEnforcementPoints(stack.db, points())).toEqual([
      { point: `opa ${opa.url}`, error: expect.stringMatching(/OPA at .* unreachable/) },
    ]);
    await opa.start();
    expect(await decide('agent-synced')).toMatchObject({ allow: false, reasons: ['unknown agent'] });
    await syncEnforcementPoints(stack.db, points());
    expect(await decide('agent-synced')).toMatchObject({ allow: true, version: 1 });
  });

  it('a drill never writes to OPA', async () => {
    const acts = actionsFor(stack, () => {
      throw new Error('live connectors must not be built in drill mode');
    });
    const before = await client().agentDocument('agent-drill');
    const r = await acts.executeAction(
      req('agent.disable', { agent_id: 'agent-drill' }, { mode: 'drill', incidentId: 'drill-opa' }),
    );
    expect(r).toMatchObject({ ok: true, simulated: true });
    expect(await client().agentDocument('agent-drill')).toEqual(before);
    expect((await getAgent(stack.db, 'agent-drill'))?.status).toBe('enabled');
  });
});

/** A tiny MCP server (streamable HTTP, stateless) whose `echo` and `shell` tools count their calls. */
async function mcpServer() {
  const calls: string[] = [];
  const server = http.createServer(async (req, res) => {
    const mcp = new McpServer({ name: 'opa-test-tools', version: '1.0.0' });
    for (const name of ['echo', 'shell']) {
      mcp.registerTool(name, { description: name, inputSchema: { text: z.string() } }, ({ text }) => {
        calls.push(`${name}:${text}`);
        return { content: [{ type: 'text', text }] };
      });
    }
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    res.on('close', () => void transport.close());
    await mcp.connect(transport);
    await transport.handleRequest(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    calls,
    close: () => closeServer(server),
  };
}

/** Closes a server with its open streams (a client's GET event stream stays open otherwise). */
function closeServer(server: http.Server) {
  const closed = new Promise<void>((r) => server.close(() => r()));
  server.closeAllConnections();
  return closed;
}

async function listen(server: http.Server) {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function mcpClient(url: string, token: string, agentId?: string) {
  const c = new Client({ name: 'agent-proxy-runtime', version: '1.0.0' });
  const named: Record<string, string> = agentId ? { 'x-agent-id': agentId } : {};
  await c.connect(
    new StreamableHTTPClientTransport(new URL(url), {
      requestInit: { headers: { authorization: `Bearer ${token}`, ...named } },
    }),
  );
  return c;
}

describe('examples/gateways/opa-mcp-proxy in front of a real MCP server', () => {
  it('forwards allowed tool calls and refuses every call after the disable, and a blocked tool', async () => {
    const upstream = await mcpServer();
    const proxy = createProxy({
      upstream: upstream.url,
      opaUrl: opa.url,
      opaToken: OPA_TOKEN,
      agents: {
        'proxy-token-agent-proxy': 'agent-proxy',
        'proxy-token-shared': ['agent-proxy', 'agent-opa'],
      },
    });
    const proxyUrl = await listen(proxy);
    const acts = actionsFor(stack, opaLive);
    try {
      // OPA knows the agent once Firebreak has written it (here by a block of another tool).
      await acts.executeAction(req('agent.tools.block', { agent_id: 'agent-proxy', tools: ['shell'] }));
      const c = await mcpClient(`${proxyUrl}/mcp`, 'proxy-token-agent-proxy');
      expect((await c.listTools()).tools.map((t) => t.name).sort()).toEqual(['echo', 'shell']);
      expect(await c.callTool({ name: 'echo', arguments: { text: 'one' } })).toMatchObject({
        content: [{ type: 'text', text: 'one' }],
      });
      await expect(c.callTool({ name: 'shell', arguments: { text: 'rm' } })).rejects.toMatchObject({
        code: REFUSED,
        message: expect.stringMatching(/tool call refused: denied by policy: tool shell is blocked/),
      });
      expect(upstream.calls).toEqual(['echo:one']);

      const disabled = await acts.executeAction(req('agent.disable', { agent_id: 'agent-proxy' }));
      expect(disabled).toMatchObject({ ok: true, verified: true });
      await expect(c.callTool({ name: 'echo', arguments: { text: 'two' } })).rejects.toMatchObject({
        code: REFUSED,
        message: expect.stringMatching(/agent is disabled/),
      });
      expect(upstream.calls).toEqual(['echo:one']);

      // An unknown token is not an agent; OPA down refuses too (fail closed).
      await expect(mcpClient(`${proxyUrl}/mcp`, 'not-a-token')).rejects.toThrow(/unknown agent token/);
      // A shared token speaks only for the agents it lists, each naming itself in X-Agent-Id.
      const shared = await mcpClient(`${proxyUrl}/mcp`, 'proxy-token-shared', 'agent-proxy');
      await expect(shared.callTool({ name: 'echo', arguments: { text: 'shared' } })).rejects.toMatchObject({
        code: REFUSED,
        message: expect.stringMatching(/agent is disabled/),
      });
      await shared.close();
      await expect(mcpClient(`${proxyUrl}/mcp`, 'proxy-token-shared', 'agent-tools')).rejects.toThrow(
        /unknown agent token/,
      );
      await expect(mcpClient(`${proxyUrl}/mcp`, 'proxy-token-agent-proxy', 'agent-opa')).rejects.toThrow(
        /unknown agent token/,
      );
      await acts.executeAction(req('agent.enable', { agent_id: 'agent-proxy' }));
      expect(await c.callTool({ name: 'echo', arguments: { text: 'three' } })).toMatchObject({
        content: [{ text: 'three' }],
      });
      await opa.stop();
      try {
        await expect(c.callTool({ name: 'echo', arguments: { text: 'four' } })).rejects.toMatchObject({
          code: REFUSED,
          message: expect.stringMatching(/policy unavailable/),
        });
      } finally {
        await opa.start();
      }
      expect(upstream.calls).toEqual(['echo:one', 'echo:three']);
      await c.close();
    } finally {
      await closeServer(proxy);
      await upstream.close();
    }
  });
});
