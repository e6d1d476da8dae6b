/**
 * A real OPA server for the OPA connector's integration tests: the binary that
 * scripts/provision.d/opa.sh builds into .test-services/opa/bin, run as `opa run --server` on a
 * free loopback port with policies/firebreak.rego loaded, ready once `/health` answers. With a
 * token it also requires `Authorization: Bearer <token>` (token authentication with a
 * system.authz policy). With `decisionLogs` it uploads its decision logs to that Firebreak with the
 * shipped configuration (examples/gateways/opa-mcp-proxy/opa-decision-logs.yaml). A missing binary
 * fails saying which script provisions it; it never skips. `startOpaProxy` runs
 * examples/gateways/opa-mcp-proxy in front of an MCP server, asking that OPA.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../app/free-port';
import { createProxy, type ProxyOptions } from '../../examples/gateways/opa-mcp-proxy/proxy';

const ROOT = path.join(import.meta.dirname, '..', '..');
export const OPA_BIN = path.join(ROOT, '.test-services', 'opa', 'bin', 'opa');
export const POLICY_DIR = path.join(ROOT, 'policies');
export const DECISION_LOG_CONFIG = path.join(ROOT, 'examples/gateways/opa-mcp-proxy/opa-decision-logs.yaml');

export function opaBinary(): string {
  if (!fs.existsSync(OPA_BIN)) {
    throw new Error(
      `OPA not found at ${OPA_BIN}: run bash scripts/provision.d/opa.sh (builds open-policy-agent/opa v1.22.3 with go install)`,
    );
  }
  return OPA_BIN;
}

export interface LocalOpa {
  url: string;
  port: number;
  /** Stops the server (idempotent); `start()` runs it again on the same port, with no data. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops it for good and removes its temp dir. */
  close(): Promise<void>;
}

const authzPolicy = (token: string) => `package system.authz

default allow := false

allow if input.path == ["health"]

allow if input.identity == ${JSON.stringify(token)}
`;

export async function startOpa(
  opts: { token?: string; decisionLogs?: { firebreakUrl: string; token: string } } = {},
): Promise<LocalOpa> {
  const bin = opaBinary();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-opa-'));
  const files = [path.join(POLICY_DIR, 'firebreak.rego')];
  const flags: string[] = [];
  if (opts.token) {
    const authz = path.join(dir, 'authz.rego');
    fs.writeFileSync(authz, authzPolicy(opts.token));
    files.push(authz);
    flags.push('--authentication=token', '--authorization=basic');
  }
  const logs = opts.decisionLogs;
  if (logs) flags.push('--config-file', DECISION_LOG_CONFIG);
  const env = logs
    ? { ...process.env, FIREBREAK_URL: logs.firebreakUrl, FIREBREAK_DECISION_LOG_TOKEN: logs.token }
    : process.env;
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let stderr = '';

  async function start() {
    const args = [
      'run',
      '--server',
      '--addr',
      `127.0.0.1:${port}`,
      '--log-level',
      'error',
      ...flags,
      ...files,
    ];
    const c = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'], env });
    child = c;
    c.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (c.exitCode !== null) throw new Error(`opa exited (${c.exitCode}): ${stderr.slice(-500)}`);
      try {
        if ((await fetch(`${url}/health`)).ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`opa did not start on ${url}: ${stderr.slice(-500)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function stop() {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    await exited;
  }

  await start();
  return {
    url,
    port,
    start,
    stop,
    async close() {
      await stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface OpaProxy {
  /** The MCP endpoint agents use, `http://127.0.0.1:<port>/mcp`. */
  url: string;
  close(): Promise<void>;
}

/** examples/gateways/opa-mcp-proxy on a free loopback port, in this process. */
export async function startOpaProxy(o: ProxyOptions): Promise<OpaProxy> {
  const server = createProxy(o);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
