/**
 * The MCP gateway enforcement point of the kill switch, for agents that reach their tools through
 * IBM ContextForge. Each such agent is, in ContextForge, a user (the principal its API tokens
 * belong to) and a virtual server (the tools it may call). `agent.disable` deactivates that user,
 * which refuses every token of the agent on every endpoint at once; `agent.tools.block` takes the
 * tools out of the agent's virtual server. Every change is recorded (db/mcp-gateway-changes.ts)
 * before it is made, and undo reverts only recorded changes: a user an operator deactivated stays
 * so, a tool an operator removed is not added back. Verification makes real MCP tool calls
 * through the gateway with the agent's own token (connectors/mcp-tool-call.ts) and requires them
 * refused, on the agent's server endpoint and on the global `/mcp`, or served again after undo.
 */
import { z } from 'zod';
import { getAgent } from '../db/agents';
import type { Db } from '../db/client';
import { forgetGatewayChange, gatewayChangesOf, recordGatewayChange } from '../db/mcp-gateway-changes';
import { contextForgeClient, type GatewayTool } from './contextforge';
import type { AgentKillSwitchState, EnforcementPoint, Expectation } from './enforcement-point';
import { mcpToolCall, type ToolCallOutcome } from './mcp-tool-call';
import { registerSecret } from './redact';

export const McpGatewayAgent = z.strictObject({
  agent_id: z.string().min(1),
  /** The ContextForge user the agent's tokens belong to (deactivated on agent.disable). */
  user_email: z.email(),
  /** The agent's virtual server (agent.tools.block takes tools out of it). */
  server_id: z.string().min(1),
  /** The agent's own ContextForge token, for verification's tool calls (or token_env). */
  token: z.string().min(1).optional(),
  token_env: z.string().min(1).optional(),
  /** A harmless tool of the agent (Firebreak's name for it) that verification calls. */
  probe_tool: z.string().min(1),
  probe_arguments: z.record(z.string(), z.unknown()).default({}),
});

export const McpGatewayConfig = z.strictObject({
  url: z.url(),
  /** A ContextForge admin API token (or token_env). */
  token: z.string().min(1).optional(),
  token_env: z.string().min(1).optional(),
  timeout_ms: z.number().int().positive().default(5000),
  agents: z.array(McpGatewayAgent).default([]),
});
export type McpGatewayConfig = z.input<typeof McpGatewayConfig>;

type AgentCfg = z.output<typeof McpGatewayAgent> & { token: string };

export function mcpGatewayEnforcementPoint(db: Db, input: McpGatewayConfig): EnforcementPoint {
  const cfg = McpGatewayConfig.parse(input);
  const base = cfg.url.replace(/\/$/, '');
  const name = `mcp-gateway ${base}`;
  if (!cfg.token) throw new Error(`${name}: give the ContextForge admin token (token or token_env)`);
  registerSecret(cfg.token);
  const cf = contextForgeClient({ url: base, token: cfg.token, timeoutMs: cfg.timeout_ms });
  const agents = new Map<string, AgentCfg>();
  for (const a of cfg.agents) {
    if (!a.token) throw new Error(`${name}: agent ${a.agent_id} needs its token (token or token_env)`);
    registerSecret(a.token);
    agents.set(a.agent_id, { ...a, token: a.token });
  }
  const at = () => new Date().toISOString();

  /** The agent's tools on its server now, and those this connector took out of it. */
  async function toolsOf(a: AgentCfg) {
    const [onServer, changes] = await Promise.all([
      cf.serverTools(a.server_id),
      gatewayChangesOf(db, a.agent_id, base),
    ]);
    return { onServer, changes };
  }

  async function applyStatus(a: AgentCfg, state: AgentKillSwitchState): Promise<boolean> {
    const key = { agentId: a.agent_id, gateway: base, kind: 'user_deactivated' as const, ref: a.user_email };
    const recorded = (await gatewayChangesOf(db, a.agent_id, base)).some((c) => c.kind === key.kind);
    const active = await cf.userActive(a.user_email);
    if (state.status === 'disabled') {
      if (!active) return false;
      await recordGatewayChange(db, { ...key, tool: null, version: state.version, at: at() });
      await cf.setUserActive(a.user_email, false);
      return true;
    }
    if (!recorded) return false;
    if (!active) await cf.setUserActive(a.user_email, true);
    await forgetGatewayChange(db, key);
    return !active;
  }

  async function applyTools(a: AgentCfg, state: AgentKillSwitchState): Promise<boolean> {
    const { onServer, changes } = await toolsOf(a);
    const blocked = new Set(state.blocked_tools);
    const remove = onServer.filter((t) => blocked.has(firebreakName(t)));
    const restore = changes.filter((c) => c.kind === 'tool_removed' && !blocked.has(c.tool ?? ''));
    if (!remove.length && !restore.length) return false;
    for (const t of remove)
      await recordGatewayChange(db, {
        agentId: a.agent_id,
        gateway: base,
        kind: 'tool_removed',
        ref: t.id,
        tool: firebreakName(t),
        version: state.version,
        at: at(),
      });
    const removed = new Set(remove.map((t) => t.id));
    const ids = [
      ...new Set([
        ...onServer.map((t) => t.id).filter((id) => !removed.has(id)),
        ...restore.map((c) => c.ref),
      ]),
    ];
    await cf.setServerTools(a.server_id, ids);
    for (const c of restore) await forgetGatewayChange(db, c);
    return true;
  }

  /** ContextForge's name for a Firebreak tool of this agent, on its server or taken out of it. */
  async function gatewayToolName(a: AgentCfg, tool: string): Promise<string | undefined> {
    const { onServer, changes } = await toolsOf(a);
    const here = onServer.find((t) => firebreakName(t) === tool);
    if (here) return here.name;
    const removed = changes.find((c) => c.kind === 'tool_removed' && c.tool === tool);
    return removed ? (await cf.tool(removed.ref))?.name : (await cf.findTool(tool))?.name;
  }

  const call = (a: AgentCfg, path: string, tool: string, args: Record<string, unknown>) =>
    mcpToolCall({ url: `${base}${path}`, token: a.token, tool, args, timeoutMs: cfg.timeout_ms });
  const endpoints = (a: AgentCfg) => [`/servers/${encodeURIComponent(a.server_id)}/mcp`, '/mcp'];
  const say = (path: string, tool: string, o: ToolCallOutcome) =>
    `${tool} on ${path} ${o.refused ? 'refused' : 'served'} (${o.detail})`;

  async function checkStatus(a: AgentCfg, status: 'enabled' | 'disabled') {
    const tool = await gatewayToolName(a, a.probe_tool);
    if (!tool)
      return {
        ok: false,
        detail: `${name}: no tool ${a.probe_tool} (probe_tool of ${a.agent_id}) in ContextForge`,
      };
    const paths = status === 'disabled' ? endpoints(a) : endpoints(a).slice(0, 1);
    const [active, ...outcomes] = await Promise.all([
      cf.userActive(a.user_email),
      ...paths.map((p) => call(a, p, tool, a.probe_arguments)),
    ]);
    // The user's state, read with the admin token, keeps a wrong URL or an expired agent token
    // (refused for another reason) from passing for a disabled agent.
    const ok =
      active === (status === 'enabled') && outcomes.every((o) => o.refused === (status === 'disabled'));
    const calls = outcomes.map((o, i) => say(paths[i]!, tool, o as ToolCallOutcome));
    return {
      ok,
      detail: `${name}: user ${a.user_email} ${active ? 'active' : 'inactive'}; ${calls.join('; ')}`,
    };
  }

  async function checkTools(a: AgentCfg, tools: string[], blocked: boolean) {
    const details: string[] = [];
    let ok = true;
    const disabled = (await getAgent(db, a.agent_id))?.status === 'disabled';
    for (const t of tools) {
      const tool = await gatewayToolName(a, t);
      if (!tool) {
        // A tool ContextForge does not have cannot be called through it.
        ok &&= blocked;
        details.push(`no tool ${t} in ContextForge`);
        continue;
      }
      const args = t === a.probe_tool ? a.probe_arguments : {};
      if (!blocked && disabled) {
        // The disabled agent is refused everything: check the tool is back on its server instead.
        const back = (await cf.serverTools(a.server_id)).some((x) => x.name === tool);
        ok &&= back;
        details.push(`${tool} ${back ? 'back on' : 'missing from'} server ${a.server_id} (agent disabled)`);
        continue;
      }
      const paths = blocked ? endpoints(a) : endpoints(a).slice(0, 1);
      const outcomes = await Promise.all(paths.map((p) => call(a, p, tool, args)));
      ok &&= outcomes.every((o) => o.refused === blocked);
      details.push(...outcomes.map((o, i) => say(paths[i]!, tool, o)));
    }
    return { ok, detail: `${name}: ${details.join('; ')}` };
  }

  return {
    name,
    async apply(state) {
      const a = agents.get(state.agent_id);
      if (!a) return { changed: false };
      const status = await applyStatus(a, state);
      const tools = await applyTools(a, state);
      return { changed: status || tools };
    },
    async check(want: Expectation) {
      const a = agents.get(want.agentId);
      if (!a) return { ok: true, detail: `${name}: agent ${want.agentId} does not use this gateway` };
      try {
        return 'status' in want
          ? await checkStatus(a, want.status)
          : await checkTools(a, want.tools, want.blocked);
      } catch (err) {
        return { ok: false, detail: `${name}: ${(err as Error).message}` };
      }
    },
  };
}

/** The MCP server's own name for a tool, which Firebreak's inventory and playbooks use. */
function firebreakName(t: GatewayTool): string {
  return t.originalName;
}
