/**
 * The MCP test services, each on a free loopback port: the example MCP tool server
 * (examples/mcp-server/server.py, from the venv scripts/provision.d/mcp.sh makes), which logs one
 * JSON line per successful tool call, and IBM ContextForge (scripts/provision.d/contextforge.sh)
 * on SQLite in a temp dir, with its admin configured by environment. `fronting` registers the MCP
 * server in ContextForge as a gateway, so its tools are callable through ContextForge, and
 * `agentAccess` gives an agent its user, virtual server and token there; `gatewayAgent` does both
 * for an agent with an MCP server of its own, and `mcpGatewayConfig` configures the connector for
 * such agents. The integration tests and `npm run bench stop` share them. A missing venv fails
 * saying which script provisions it; nothing here skips.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../app/free-port';
import type { McpGatewayConfig } from '../../connectors/mcp-gateway';
import { projectRoot } from '../../temporal/cli-binary';

const venvBin = (venv: string, bin: string, script: string) => {
  const p = path.join(projectRoot, '.test-services', venv, 'bin', bin);
  if (!fs.existsSync(p))
    throw new Error(
      `${p} not found: run scripts/provision.d/${script} (or scripts/provision-test-services.sh)`,
    );
  return p;
};

interface Proc {
  child: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
}

function start(bin: string, args: string[], env: Record<string, string>, cwd: string): Proc {
  const child = spawn(bin, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  child.stderr!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  const exited = new Promise((r) => child.once('exit', r));
  return {
    child,
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

async function waitUntil(p: Proc, what: string, ready: () => Promise<boolean>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (p.child.exitCode !== null) throw new Error(`${what} exited (${p.child.exitCode}):\n${p.output()}`);
    if (await ready().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what} did not become ready:\n${p.output()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export interface ToolCallRecord {
  tool: string;
  args: Record<string, unknown>;
  time: string;
  caller: string | null;
}

export interface ExampleMcpServer {
  /** Its streamable HTTP endpoint, `http://127.0.0.1:<port>/mcp`. */
  url: string;
  /** The successful calls that reached it, in order. */
  calls(): ToolCallRecord[];
  stop(): Promise<void>;
}

export async function startExampleMcpServer(): Promise<ExampleMcpServer> {
  const python = venvBin('mcp-venv', 'python', 'mcp.sh');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-mcp-'));
  const callLog = path.join(dir, 'calls.jsonl');
  const port = await freePort();
  const script = path.join(projectRoot, 'examples', 'mcp-server', 'server.py');
  const p = start(python, [script, '--port', String(port), '--call-log', callLog], {}, dir);
  await waitUntil(p, 'example MCP server', async () => /mcp-server listening/.test(p.output()), 30_000);
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    calls: () =>
      fs.existsSync(callLog)
        ? fs
            .readFileSync(callLog, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l) as ToolCallRecord)
        : [],
    async stop() {
      await p.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A random password ContextForge's policy accepts: mixed case, digit and symbol, and no run of
 * sequential or repeated characters in any case (it refuses "too many sequential characters").
 */
function password(): string {
  const alphabet = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  let out = 'Fb7!';
  while (out.length < 24) {
    const c = alphabet[crypto.randomInt(alphabet.length)]!;
    // ContextForge compares letters case-insensitively ("aBc" is a sequential run), so do the
    // same: no two neighbours adjacent in the character order, nor equal, ignoring case.
    const last = out.at(-1)!.toLowerCase().charCodeAt(0);
    if (Math.abs(c.toLowerCase().charCodeAt(0) - last) > 1) out += c;
  }
  return out;
}

export interface ContextForge {
  url: string;
  adminEmail: string;
  adminPassword: string;
  /** A fresh admin session token (email login). */
  adminToken(): Promise<string>;
  /** An admin API call; throws with the body on a non-2xx answer. */
  api<T = unknown>(method: string, route: string, body?: unknown): Promise<T>;
  /** Stops the process (the data dir stays until `stop`); `restart` starts it again on it. */
  kill(): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * ContextForge's settings for a test: loopback, SQLite, no UI, the admin from env without a forced
 * password change, loopback upstreams allowed (SSRF protection blocks them by default), and an
 * in-process cache instead of Redis.
 */
function contextForgeEnv(dir: string, port: number, adminEmail: string, adminPassword: string) {
  return {
    HOST: '127.0.0.1',
    PORT: String(port),
    DATABASE_URL: `sqlite:///${path.join(dir, 'contextforge.db')}`,
    JWT_SECRET_KEY: crypto.randomBytes(32).toString('hex'),
    AUTH_ENCRYPTION_SECRET: crypto.randomBytes(32).toString('hex'),
    BASIC_AUTH_USER: 'admin',
    BASIC_AUTH_PASSWORD: crypto.randomBytes(16).toString('hex'),
    PLATFORM_ADMIN_EMAIL: adminEmail,
    PLATFORM_ADMIN_PASSWORD: adminPassword,
    ADMIN_REQUIRE_PASSWORD_CHANGE_ON_BOOTSTRAP: 'false',
    PASSWORD_CHANGE_ENFORCEMENT_ENABLED: 'false',
    MCPGATEWAY_UI_ENABLED: 'false',
    MCPGATEWAY_ADMIN_API_ENABLED: 'true',
    SSRF_ALLOW_LOCALHOST: 'true',
    CACHE_TYPE: 'memory',
    PLUGINS_ENABLED: 'false',
    LOG_LEVEL: 'WARNING',
  };
}

/**
 * `env` adds or overrides settings: `npm run bench stop` turns ContextForge's rate limiting off
 * (`RATE_LIMITING_ENABLED=false`), since its default tiers (30 token requests and 100 MCP requests
 * a minute, from one loopback address) would refuse the bench's own set-up and agents.
 */
export async function startContextForge(opts: { env?: Record<string, string> } = {}): Promise<ContextForge> {
  const bin = venvBin('contextforge-venv', 'mcpgateway', 'contextforge.sh');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-contextforge-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const adminEmail = 'admin@example.com';
  const adminPassword = password();
  const env = { ...contextForgeEnv(dir, port, adminEmail, adminPassword), ...opts.env };
  let p: Proc;
  const launch = async () => {
    p = start(bin, ['--host', '127.0.0.1', '--port', String(port)], env, dir);
    // The first start migrates a fresh database: about a minute on two busy cores.
    await waitUntil(p, 'ContextForge', async () => (await fetch(`${url}/health`)).ok, 180_000);
  };
  await launch();

  const adminToken = async () => {
    const r = await fetch(`${url}/auth/email/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: adminEmail, password: adminPassword }),
    });
    if (!r.ok) throw new Error(`ContextForge admin login answered ${r.status}: ${await r.text()}`);
    return ((await r.json()) as { access_token: string }).access_token;
  };
  let token: string | undefined;
  const api = async <T>(method: string, route: string, body?: unknown): Promise<T> => {
    token ??= await adminToken();
    const r = await fetch(`${url}${route}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`ContextForge ${method} ${route} answered ${r.status}: ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };
  return {
    url,
    adminEmail,
    adminPassword,
    adminToken,
    api,
    kill: () => p.stop(),
    restart: launch,
    async stop() {
      await p.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface FrontedTools {
  gatewayId: string;
  /** ContextForge's tool id by the MCP server's own tool name (lookup, notify, query). */
  toolIds: Record<string, string>;
  /** The name an MCP client calls through ContextForge (`<gateway slug>-<tool>`). */
  toolNames: Record<string, string>;
}

/**
 * Registers an MCP server (any streamable HTTP endpoint: the example MCP server, the TypeScript
 * tool server) in ContextForge as a gateway; its tools follow.
 */
export async function fronting(cf: ContextForge, mcp: { url: string }, name = 'example-tools') {
  const g = await cf.api<{ id: string }>('POST', '/gateways', {
    name,
    url: mcp.url,
    transport: 'STREAMABLEHTTP',
  });
  const tools = await cf.api<{ id: string; originalName: string; name: string; gatewayId: string }[]>(
    'GET',
    '/tools',
  );
  const mine = tools.filter((t) => t.gatewayId === g.id);
  if (!mine.length) throw new Error(`ContextForge registered gateway ${name} but lists none of its tools`);
  return {
    gatewayId: g.id,
    toolIds: Object.fromEntries(mine.map((t) => [t.originalName, t.id])),
    toolNames: Object.fromEntries(mine.map((t) => [t.originalName, t.name])),
  } satisfies FrontedTools;
}

export interface AgentAccess {
  userEmail: string;
  serverId: string;
  tokenId: string;
  token: string;
}

const roleIds = new WeakMap<ContextForge, Promise<string>>();

/** A global role with what an agent's MCP client needs: use servers, list and call tools. */
function agentRole(cf: ContextForge): Promise<string> {
  let id = roleIds.get(cf);
  if (!id) {
    id = cf
      .api<{ id: string }>('POST', '/rbac/roles', {
        name: 'mcp-agent',
        description: 'AI agents calling tools through their virtual server',
        scope: 'global',
        permissions: ['servers.use', 'tools.read', 'tools.execute'],
      })
      .then((r) => r.id);
    roleIds.set(cf, id);
  }
  return id;
}

/**
 * An agent's access as an operator sets it up: a ContextForge user for the agent with the agent
 * role, a virtual server with its tools, and an API token of that user scoped to that server.
 */
export async function agentAccess(cf: ContextForge, agent: string, toolIds: string[]): Promise<AgentAccess> {
  const userEmail = `${agent}@agents.example.com`;
  await cf.api('POST', '/auth/email/admin/users', {
    email: userEmail,
    password: password(),
    full_name: `AI agent ${agent}`,
    is_admin: false,
  });
  await cf.api('POST', `/rbac/users/${encodeURIComponent(userEmail)}/roles`, {
    role_id: await agentRole(cf),
    scope: 'global',
  });
  const s = await cf.api<{ id: string }>('POST', '/servers', {
    server: { name: `agent-${agent}`, associated_tools: toolIds },
  });
  const t = await cf.api<{ token: { id: string }; access_token: string }>('POST', '/tokens', {
    name: `agent-${agent}`,
    user_email: userEmail,
    expires_in_days: 1,
    scope: { server_id: s.id, permissions: ['tools.read', 'tools.execute'] },
  });
  return { userEmail, serverId: s.id, tokenId: t.token.id, token: t.access_token };
}

/** An admin API token (what Firebreak is configured with), valid for a day. */
export async function adminApiToken(cf: ContextForge): Promise<string> {
  const t = await cf.api<{ access_token: string }>('POST', '/tokens', {
    name: `firebreak-${crypto.randomBytes(4).toString('hex')}`,
    expires_in_days: 1,
  });
  return t.access_token;
}

type GatewayAgentConfig = NonNullable<McpGatewayConfig['agents']>[number];

export interface GatewayAgent {
  agentId: string;
  access: AgentAccess;
  /** The agent's entry in the MCP gateway connector's config. */
  config: GatewayAgentConfig;
  /** The example agent's MCP settings: its virtual server's endpoint and its token. */
  env: { MCP_URL: string; MCP_AUTHORIZATION: string };
}

/**
 * An agent that reaches its own MCP server only through ContextForge: the server fronted as a
 * gateway, and the agent's user, virtual server (with all of that server's tools) and token. Its
 * own server, because ContextForge does not forward X-Agent-Id: the calls that reach that server
 * are this agent's. `probe` is the harmless tool (the MCP server's name for it) verification calls.
 */
export async function gatewayAgent(
  cf: ContextForge,
  mcp: { url: string },
  agentId: string,
  probe: { tool: string; arguments: Record<string, unknown> },
): Promise<GatewayAgent> {
  const fronted = await fronting(cf, mcp, `tools-${agentId}`);
  const access = await agentAccess(cf, agentId, Object.values(fronted.toolIds));
  return {
    agentId,
    access,
    config: {
      agent_id: agentId,
      user_email: access.userEmail,
      server_id: access.serverId,
      token: access.token,
      probe_tool: probe.tool,
      probe_arguments: probe.arguments,
    },
    env: {
      MCP_URL: `${cf.url}/servers/${access.serverId}/mcp`,
      MCP_AUTHORIZATION: `Bearer ${access.token}`,
    },
  };
}

/** The MCP gateway connector's config for these agents, with a fresh admin API token. */
export async function mcpGatewayConfig(cf: ContextForge, agents: GatewayAgent[]): Promise<McpGatewayConfig> {
  return {
    url: cf.url,
    token: await adminApiToken(cf),
    timeout_ms: 30_000,
    agents: agents.map((a) => a.config),
  };
}
