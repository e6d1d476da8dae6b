/**
 * alert → stop: from `POST /v1/alerts` (critical, built-in credential-leak playbook, live) to the
 * example agent's last successful tool call as the tool server counted it, per enforcement path:
 *
 * - `change_notification`: the agent follows the OFREP event stream;
 * - `polling`: the agent polls OFREP (BENCH_STOP_POLL_MS, default 1000 ms);
 * - `opa`: the agent skips its own check (KILL_SWITCH_MODE=none) and calls its tools through
 *   examples/gateways/opa-mcp-proxy, which asks a real OPA server (started here, with
 *   policies/firebreak.rego) that the OPA connector writes the agents' state into;
 * - `gateway`: the agent skips its own check and calls its tools through a real ContextForge (the
 *   MCP gateway connector deactivates its user there), on a virtual server of its own fronting a
 *   tool server of its own, since ContextForge does not forward X-Agent-Id.
 *
 * Both connectors are configured for every path, as in a deployment that has them all. Each run
 * starts the TypeScript example agent (examples/agents/typescript, a separate process, one tool
 * call every 100 ms on the in-process MCP tool server) as a fresh agent, waits for three
 * successful calls, sends the alert, waits for the agent to stop (it sees the disable itself, or
 * it is refused a call and stops for that) and for the disable step to finish verified.
 * ContextForge starts once per bench, with its rate limiting off. Baseline, same incidents:
 * alert → containment (the disable step's activity starting, as `bench containment` measures
 * it). Targets: with change notification p50 < 1 s, p99 < 2 s; with polling, bounded by the poll
 * interval plus the containment latency.
 *
 * BENCH_STOP_RUNS (default 20) runs per path; BENCH_STOP_PATHS (comma-separated, default all)
 * picks paths for a quick try.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { syncEnforcementPoints } from '../connectors/enforcement-sync';
import { enforcementPoints } from '../connectors/registry';
import { actionRunOf } from '../db/action-runs';
import type { Db } from '../db/client';
import { startToolServer, type ToolCall, type ToolServer } from '../examples/agents/typescript/tool-server';
import { startExampleAgent } from '../test/helpers/example-agents';
import {
  gatewayAgent,
  mcpGatewayConfig,
  startContextForge,
  type ContextForge,
  type GatewayAgent,
} from '../test/helpers/mcp-services';
import { startOpa, startOpaProxy, type LocalOpa, type OpaProxy } from '../test/helpers/opa-server';
import { BENCH_ADMIN_TOKEN, percentile, postAlert, report, startBenchStack } from './lib/stack';

const RUNS = Number(process.env.BENCH_STOP_RUNS ?? 20);
const POLL_MS = Number(process.env.BENCH_STOP_POLL_MS ?? 1000);
const TOKEN = crypto.randomBytes(24).toString('hex');
const OPA_TOKEN = crypto.randomBytes(24).toString('hex');
const proxyToken = (agentId: string) => `proxy-${agentId}-${OPA_TOKEN}`;

type PathName = 'change_notification' | 'polling' | 'opa' | 'gateway';
const ALL: PathName[] = ['change_notification', 'polling', 'opa', 'gateway'];

interface Services {
  tools: ToolServer;
  opa?: LocalOpa;
  proxy?: OpaProxy;
  cf?: ContextForge;
  /** The gateway path's agents, each with its own tool server behind ContextForge. */
  gateway: Map<string, { tools: ToolServer; agent: GatewayAgent }>;
}

interface StopPath {
  name: PathName;
  /** The agent's environment: how it learns of the disable, where its tool calls go. */
  env(s: Services, agentId: string): Record<string, string>;
  /** The agent's successful tool calls, as its tool server counted them. */
  calls(s: Services, agentId: string): ToolCall[];
  /** Why the agent stops: it sees the disable, or the enforcement point refuses it a call. */
  reason: 'disabled' | 'refused';
  target: string;
}

const own = (s: Services, agentId: string) => s.tools.calls().filter((c) => c.caller === agentId);
const PATHS: StopPath[] = [
  {
    name: 'change_notification',
    env: (s) => ({ KILL_SWITCH_MODE: 'events', MCP_URL: s.tools.url }),
    calls: own,
    reason: 'disabled',
    target: '< 2000 (p50 < 1000)',
  },
  {
    name: 'polling',
    env: (s) => ({ KILL_SWITCH_MODE: 'polling', POLL_INTERVAL_MS: String(POLL_MS), MCP_URL: s.tools.url }),
    calls: own,
    reason: 'disabled',
    target: '<= poll interval + containment',
  },
  {
    name: 'opa',
    // The proxy forwards X-Agent-Id (which the agent's proxy token allows) to the tool server.
    env: (s, agentId) => ({
      KILL_SWITCH_MODE: 'none',
      MCP_URL: s.proxy!.url,
      MCP_AUTHORIZATION: `Bearer ${proxyToken(agentId)}`,
    }),
    calls: own,
    reason: 'refused',
    target: 'containment + OPA write',
  },
  {
    name: 'gateway',
    env: (s, agentId) => ({ KILL_SWITCH_MODE: 'none', ...s.gateway.get(agentId)!.agent.env }),
    calls: (s, agentId) => s.gateway.get(agentId)!.tools.calls(),
    reason: 'refused',
    target: 'containment + user deactivation',
  },
];

function selectedPaths(): StopPath[] {
  const wanted = process.env.BENCH_STOP_PATHS?.split(',').map((p) => p.trim()) ?? ALL;
  const unknown = wanted.filter((w) => !ALL.includes(w as PathName));
  if (unknown.length)
    throw new Error(`BENCH_STOP_PATHS: unknown ${unknown.join(', ')}; have ${ALL.join(', ')}`);
  return PATHS.filter((p) => wanted.includes(p.name));
}

const agentIdOf = (p: StopPath, i: number) => `stop-${p.name}-${i}`;

/** OPA and its proxy, ContextForge and the gateway agents' tool servers, as the paths need them. */
async function startServices(paths: StopPath[], ids: string[]): Promise<Services> {
  const has = (n: PathName) => paths.some((p) => p.name === n);
  const gatewayPath = paths.find((p) => p.name === 'gateway');
  const gatewayIds = gatewayPath ? Array.from({ length: RUNS }, (_, i) => agentIdOf(gatewayPath, i)) : [];
  const [tools, opa, cf, gatewayTools] = await Promise.all([
    startToolServer(),
    has('opa') ? startOpa({ token: OPA_TOKEN }) : undefined,
    // Rate limiting off: its default MCP tier (100 requests a minute from one address) would
    // refuse the agents' calls, one every 100 ms, and skew the figure.
    has('gateway') ? startContextForge({ env: { RATE_LIMITING_ENABLED: 'false' } }) : undefined,
    Promise.all(gatewayIds.map(() => startToolServer())),
  ]);
  const s: Services = { tools, opa, cf, gateway: new Map() };
  if (opa)
    s.proxy = await startOpaProxy({
      upstream: tools.url,
      opaUrl: opa.url,
      opaToken: OPA_TOKEN,
      agents: Object.fromEntries(ids.map((id) => [proxyToken(id), id])),
    });
  for (const [i, id] of gatewayIds.entries()) {
    const agent = await gatewayAgent(cf!, gatewayTools[i]!, id, {
      tool: 'search',
      arguments: { query: 'firebreak probe' },
    });
    s.gateway.set(id, { tools: gatewayTools[i]!, agent });
  }
  return s;
}

async function stopServices(s: Services) {
  await s.proxy?.close();
  await Promise.all([
    s.tools.close(),
    ...[...s.gateway.values()].map((g) => g.tools.close()),
    s.opa?.close(),
    s.cf?.stop(),
  ]);
}

/** The disable step's run once it finished verified (the next run must not overlap it). */
async function verifiedDisable(db: Db, incidentId: string) {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const run = await actionRunOf(db, incidentId, 'disable_agent');
    if (run?.status === 'succeeded') {
      if ((run.result as { verified?: unknown } | null)?.verified !== true)
        throw new Error(`${incidentId}: disable_agent not verified: ${JSON.stringify(run.result)}`);
      return run;
    }
    if (run?.status === 'failed')
      throw new Error(`${incidentId}: disable_agent failed: ${JSON.stringify(run.result)}`);
    if (Date.now() > deadline) throw new Error(`${incidentId}: no verified disable in 120 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function benchStop() {
  const paths = selectedPaths();
  const ids = paths.flatMap((p) => Array.from({ length: RUNS }, (_, i) => agentIdOf(p, i)));
  const services = await startServices(paths, ids);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-bench-stop-'));
  const configFile = path.join(dir, 'firebreak.yaml');
  const connectors = {
    ...(services.opa ? { opa: { url: services.opa.url, token: OPA_TOKEN } } : {}),
    ...(services.cf
      ? {
          mcp_gateway: await mcpGatewayConfig(
            services.cf,
            [...services.gateway.values()].map((g) => g.agent),
          ),
        }
      : {}),
  };
  // The file holds the bench's own short-lived tokens; only this user may read it.
  fs.writeFileSync(
    configFile,
    YAML.stringify({
      default_rate_limit: { per_second: 1000000, burst: 1000000 },
      runtimes: {
        tokens: [
          {
            name: 'bench-agents',
            token_sha256: crypto.createHash('sha256').update(TOKEN).digest('hex'),
            agents: ids,
          },
        ],
      },
      connectors,
    }),
    { mode: 0o600 },
  );
  let stack: Awaited<ReturnType<typeof startBenchStack>> | undefined;
  try {
    stack = await startBenchStack({ env: { FIREBREAK_CONFIG: configFile } });
    const db = stack.services.db;
    const imported = await fetch(`${stack.api.url}/v1/agents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${BENCH_ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        agents: ids.map((id) => ({ id, name: id, owner: 'bench@example.com', environment: 'bench' })),
      }),
    });
    if (!imported.ok) throw new Error(`agent import: HTTP ${imported.status} ${await imported.text()}`);
    // OPA denies agents it holds no state for: write the inventory there now, as the worker does
    // at start and every interval.
    const synced = await syncEnforcementPoints(db, enforcementPoints(stack.config.connectors, db));
    const failed = synced.filter((r) => r.error);
    if (failed.length) throw new Error(`enforcement sync: ${JSON.stringify(failed)}`);

    const allContain: number[] = [];
    for (const p of paths) {
      const stop: number[] = [];
      const learned: number[] = [];
      const contain: number[] = [];
      /** stop − containment of the same run: what the enforcement path itself adds. */
      const lag: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const agentId = agentIdOf(p, i);
        const agent = startExampleAgent('typescript', {
          FIREBREAK_URL: stack.api.url,
          FIREBREAK_RUNTIME_TOKEN: TOKEN,
          AGENT_ID: agentId,
          STEP_INTERVAL_MS: '100',
          ON_DISABLE: 'exit',
          ...p.env(services, agentId),
        });
        try {
          await agent.waitFor((e) => e.event === 'step' && e.ok === true && e.step === 3, 'third step');
          // The previous incident's investigate phase would otherwise share the worker with this one.
          await new Promise((r) => setTimeout(r, 1000));
          const t0 = Date.now();
          const incidentId = await postAlert(stack.api.url, {
            title: 'Agent key seen on paste site',
            severity: 'critical',
            source: 'bench',
            dedup_key: `stop-${agentId}`,
            agent_id: agentId,
            labels: { incident_class: 'credential_leak' },
          });
          const stopped = await agent.waitFor((e) => e.event === 'stopped', 'stop', 120_000);
          if (stopped.reason !== p.reason)
            throw new Error(`${agentId} stopped (want ${p.reason}): ${JSON.stringify(stopped)}`);
          if ((await agent.exited) !== 0) throw new Error(`${agentId} failed:\n${agent.output()}`);
          const run = await verifiedDisable(db, incidentId);
          const times = p.calls(services, agentId).map((c) => Date.parse(c.time));
          if (times.length < 3) throw new Error(`${agentId}: its tool server counted ${times.length} calls`);
          stop.push(Math.max(...times) - t0);
          learned.push(Date.parse(stopped.t) - t0);
          contain.push(Date.parse(run.startedAt) - t0);
          lag.push(stop.at(-1)! - contain.at(-1)!);
        } finally {
          await agent.stop();
        }
      }
      allContain.push(...contain);
      for (const xs of [stop, learned, contain, lag]) xs.sort((a, b) => a - b);
      const extra = p.name === 'polling' ? { poll_interval_ms: POLL_MS } : {};
      report('stop', `${p.name}_alert_to_last_tool_call_p50`, percentile(stop, 50), 'ms', {
        runs: RUNS,
        ...extra,
      });
      report('stop', `${p.name}_alert_to_last_tool_call_p99`, percentile(stop, 99), 'ms', {
        target: p.target,
      });
      report('stop', `${p.name}_alert_to_agent_stopped_p50`, percentile(learned, 50), 'ms', {
        stopped_by: p.reason,
      });
      report('stop', `${p.name}_baseline_alert_to_containment_p50`, percentile(contain, 50), 'ms');
      report('stop', `${p.name}_baseline_alert_to_containment_p99`, percentile(contain, 99), 'ms');
      report(
        'stop',
        `${p.name}_p50_ratio_vs_containment`,
        percentile(stop, 50) / percentile(contain, 50),
        'x',
      );
      report(
        'stop',
        `${p.name}_p99_ratio_vs_containment`,
        percentile(stop, 99) / percentile(contain, 99),
        'x',
      );
      report('stop', `${p.name}_stop_minus_containment_p50`, percentile(lag, 50), 'ms');
      report('stop', `${p.name}_stop_minus_containment_p99`, percentile(lag, 99), 'ms', extra);
    }
    allContain.sort((a, b) => a - b);
    report('stop', 'baseline_alert_to_containment_p50', percentile(allContain, 50), 'ms', {
      runs: allContain.length,
      loadavg_1m: Number(os.loadavg()[0]!.toFixed(1)),
    });
  } finally {
    await stack?.close();
    await stopServices(services);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
