/**
 * The MCP test services, each on a free loopback port: the example MCP tool server
 * (examples/mcp-server/server.py, from the venv scripts/provision.d/mcp.sh makes), which logs one
 * JSON line per successful tool call, and IBM ContextForge (scripts/provision.d/contextforge.sh)
 * on SQLite in a temp dir, with its admin configured by environment. `fronting` registers the MCP
 * server in ContextForge as a gateway, so its tools are callable through ContextForge. A missing
 * venv fails saying which script provisions it; nothing here skips.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../app/free-port';
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

export async function startContextForge(): Promise<ContextForge> {
  const bin = venvBin('contextforge-venv', 'mcpgateway', 'contextforge.sh');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-contextforge-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const adminEmail = 'admin@example.com';
  const adminPassword = `Fb-${crypto.randomBytes(12).toString('hex')}!`;
  const env = contextForgeEnv(dir, port, adminEmail, adminPassword);
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

/** Registers the MCP server in ContextForge as a gateway (streamable HTTP); its tools follow. */
export async function fronting(cf: ContextForge, mcp: ExampleMcpServer, name = 'example-tools') {
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
  serverId: string;
  tokenId: string;
  token: string;
}

/** An agent's access as an operator would set it up: a virtual server with tools, a token scoped to it. */
export async function agentAccess(cf: ContextForge, agent: string, toolIds: string[]): Promise<AgentAccess> {
  const s = await cf.api<{ id: string }>('POST', '/servers', {
    server: { name: `agent-${agent}`, associated_tools: toolIds },
  });
  const t = await cf.api<{ token: { id: string }; access_token: string }>('POST', '/tokens', {
    name: `agent-${agent}`,
    expires_in_days: 1,
    scope: { server_id: s.id, permissions: ['tools.read', 'tools.execute'] },
  });
  return { serverId: s.id, tokenId: t.token.id, token: t.access_token };
}
