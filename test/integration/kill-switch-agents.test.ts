/**
 * The kill switch stops real agents: both example agents (examples/agents/typescript and
 * examples/agents/python) run as processes against a real Firebreak and the example MCP server
 * (examples/mcp-server, which logs every successful tool call). A critical alert runs the built-in
 * credential-leak playbook, whose first containment step disables the agent; the test then counts
 * the tool calls that reached the MCP server. After the disable is verified, none succeeds beyond
 * the one in flight, and on a polling path none later than one poll interval after it.
 *
 * One table row per enforcement path: how each agent is configured to learn of the disable and
 * where it sends its tool calls. On the OPA and gateway paths the agent skips its own check
 * (KILL_SWITCH_MODE=none, a compromised runtime): there, a real OPA behind
 * examples/gateways/opa-mcp-proxy, or a real ContextForge with the MCP gateway connector, refuses
 * its calls, and nothing the agent does gets a call through. The agent treats the refusal as a stop,
 * as a real runtime would: it logs the refused step, prints `stopped` (reason `refused`) and exits;
 * the refusal itself is what the test waits for. Also: a blocked tool is skipped and a disabled agent idles until
 * enabled again; each agent's GenAI spans reach an OTLP/HTTP collector; and an "enabled" answer
 * forged with the webhook secret stops both agents before their first tool call.
 */
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFileConfig } from '../../app/config-file';
import { syncEnforcementPoints } from '../../connectors/enforcement-sync';
import { enforcementPoints } from '../../connectors/registry';
import { STATUS_JWS_TYPE } from '../../connectors/status-document';
import { actionRunOf } from '../../db/action-runs';
import {
  actionsFor,
  connectorConfig,
  importAgents,
  liveFor,
  localServer,
  readBody,
  req,
} from '../connectors/fixtures';
import {
  startExampleAgent,
  type AgentEvent,
  type AgentLanguage,
  type ExampleAgent,
} from '../helpers/example-agents';
import {
  gatewayAgent,
  mcpGatewayConfig,
  startContextForge,
  startExampleMcpServer,
  type ContextForge,
  type ExampleMcpServer,
  type GatewayAgent,
  type ToolCallRecord,
} from '../helpers/mcp-services';
import { startOpa, startOpaProxy, type LocalOpa, type OpaProxy } from '../helpers/opa-server';
import { startTestStack, TEST_WEBHOOK_SECRET, type TestStack } from '../helpers/stack';

const TOKEN = 'runtime-token-agents-0123456789';
const OPA_TOKEN = 'opa-token-agents-0123456789';
const POLL_MS = 1000;
const LANGUAGES: AgentLanguage[] = ['typescript', 'python'];

interface PathContext {
  stack: TestStack;
  mcp: ExampleMcpServer;
  agentId: string;
}

/** The OPA-checking proxy's bearer token of an agent. */
const proxyToken = (agentId: string) => `proxy-token-${agentId}`;

interface EnforcementPath {
  name: string;
  slug: string;
  /** The agent's environment on this path: how it learns of the disable, where its tool calls go. */
  agentEnv(ctx: PathContext): Record<string, string>;
  /** How long after the verified disable a tool call may still start (a poll interval). */
  graceMs: number;
  /**
   * false: the agent skips its own check (KILL_SWITCH_MODE=none), so only the enforcement point
   * in front of the MCP server can stop it.
   */
  selfCheck: boolean;
  /** The agent's successful tool calls, as the MCP server logged them. */
  calls(agentId: string): ToolCallRecord[];
}

const callsOf = (agentId: string) => mcp.calls().filter((c) => c.caller === agentId);

const PATHS: EnforcementPath[] = [
  {
    name: 'OFREP with change notification',
    slug: 'events',
    agentEnv: ({ mcp }) => ({ KILL_SWITCH_MODE: 'events', MCP_URL: mcp.url }),
    graceMs: 0,
    selfCheck: true,
    calls: callsOf,
  },
  {
    name: 'OFREP polling',
    slug: 'polling',
    agentEnv: ({ mcp }) => ({
      KILL_SWITCH_MODE: 'polling',
      POLL_INTERVAL_MS: String(POLL_MS),
      MCP_URL: mcp.url,
    }),
    graceMs: POLL_MS,
    selfCheck: true,
    calls: callsOf,
  },
  {
    name: 'OPA (the agent skips its own check)',
    slug: 'opa',
    // The proxy forwards X-Agent-Id (which its token allows) to the MCP server, which logs it.
    agentEnv: ({ agentId }) => ({
      KILL_SWITCH_MODE: 'none',
      MCP_URL: proxy!.url,
      MCP_AUTHORIZATION: `Bearer ${proxyToken(agentId)}`,
    }),
    graceMs: 0,
    selfCheck: false,
    calls: callsOf,
  },
  {
    name: 'MCP gateway (the agent skips its own check)',
    slug: 'gateway',
    // ContextForge does not forward X-Agent-Id: each agent's tools are on an MCP server of its own.
    agentEnv: ({ agentId }) => ({ KILL_SWITCH_MODE: 'none', ...gatewayAgents.get(agentId)!.gateway.env }),
    graceMs: 0,
    selfCheck: false,
    calls: (agentId) => gatewayAgents.get(agentId)!.mcp.calls(),
  },
];

/** Gateway agents that idle after a refusal. */
const REFUSED_IDLE = ['ts-gw-idle', 'py-gw-idle'];

const agentIds = (p: EnforcementPath) =>
  LANGUAGES.map((l) => `${l === 'typescript' ? 'ts' : 'py'}-${p.slug}`);

let stack: TestStack;
let mcp: ExampleMcpServer;
let opa: LocalOpa;
let proxy: OpaProxy | undefined;
let cf: ContextForge;
/** The gateway path's agents: each one's MCP server behind ContextForge, and its access there. */
const gatewayAgents = new Map<string, { mcp: ExampleMcpServer; gateway: GatewayAgent }>();
let connectors: Parameters<typeof liveFor>[1];
const running: ExampleAgent[] = [];

beforeAll(async () => {
  const ids = [...PATHS.flatMap(agentIds), ...REFUSED_IDLE, 'ts-idle', 'py-idle', 'ts-traced', 'py-traced'];
  const gatewayIds = [...agentIds(PATHS.find((p) => p.slug === 'gateway')!), ...REFUSED_IDLE];
  let gatewayMcps: ExampleMcpServer[];
  [stack, mcp, opa, cf, gatewayMcps] = await Promise.all([
    startTestStack({
      fileConfig: parseFileConfig(
        { runtimes: { tokens: [{ name: 'example-agents', token_env: 'RT', agents: ids }] } },
        { RT: TOKEN },
        'test',
      ),
      liveConnectors: () => (live ??= liveFor(stack, connectors)),
    }),
    startExampleMcpServer(),
    startOpa({ token: OPA_TOKEN }),
    startContextForge(),
    Promise.all(gatewayIds.map(() => startExampleMcpServer())),
  ]);
  await importAgents(
    stack,
    ids.map((id) => ({ id, name: `Example agent ${id}`, owner: 'sec@example.com', environment: 'prod' })),
  );

  // The OPA path: examples/gateways/opa-mcp-proxy asks OPA about every tool call.
  proxy = await startOpaProxy({
    upstream: mcp.url,
    opaUrl: opa.url,
    opaToken: OPA_TOKEN,
    agents: Object.fromEntries(ids.map((id) => [proxyToken(id), id])),
  });

  // The gateway path: each agent's own MCP server fronted by ContextForge, with its user, virtual
  // server and token there, as an operator sets it up.
  for (const [i, id] of gatewayIds.entries()) {
    const gateway = await gatewayAgent(cf, gatewayMcps[i]!, id, {
      tool: 'lookup',
      arguments: { name: 'faq' },
    });
    gatewayAgents.set(id, { mcp: gatewayMcps[i]!, gateway });
  }
  const gateway = await mcpGatewayConfig(
    cf,
    [...gatewayAgents.values()].map((g) => g.gateway),
  );
  connectors = { opa: { url: opa.url, token: OPA_TOKEN }, mcpGateway: gateway };
  // OPA starts empty (every agent unknown, so denied): write the inventory there, as the worker does.
  const synced = await syncEnforcementPoints(
    stack.db,
    enforcementPoints({ ...connectorConfig(stack), ...connectors }, stack.db),
  );
  expect(synced.filter((r) => 'error' in r)).toEqual([]);
});
let live: ReturnType<typeof liveFor> | undefined;
afterAll(async () => {
  await Promise.all(running.map((a) => a.stop()));
  await proxy?.close();
  await Promise.all([mcp?.stop(), ...[...gatewayAgents.values()].map((g) => g.mcp.stop())]);
  await Promise.all([stack?.close(), opa?.close(), cf?.stop()]);
});

async function sendCriticalAlert(agentId: string): Promise<string> {
  const res = await fetch(`${stack.url}/v1/alerts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_WEBHOOK_SECRET}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      title: `Key of ${agentId} seen on paste site`,
      severity: 'critical',
      source: 'siem',
      dedup_key: `leak-${agentId}`,
      agent_id: agentId,
      labels: { incident_class: 'credential_leak' },
    }),
  });
  expect(res.status).toBe(202);
  return ((await res.json()) as { incident_id: string }).incident_id;
}

/** When the playbook's disable step finished verified (the row Firebreak's own check wrote). */
async function disableVerifiedAt(incidentId: string): Promise<number> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const run = await actionRunOf(stack.db, incidentId, 'disable_agent');
    if (run?.status === 'succeeded' && run.finishedAt) {
      expect(run.result).toMatchObject({ verified: true });
      return Date.parse(run.finishedAt);
    }
    if (run?.status === 'failed') throw new Error(`disable_agent failed: ${JSON.stringify(run.result)}`);
    if (Date.now() > deadline) throw new Error(`incident ${incidentId}: no verified disable in 60 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('a critical alert stops the example agents', () => {
  it.each(PATHS)('$name', async (path) => {
    const agents = LANGUAGES.map((language, i) => {
      const agentId = agentIds(path)[i]!;
      const a = startExampleAgent(language, {
        FIREBREAK_URL: stack.url,
        FIREBREAK_RUNTIME_TOKEN: TOKEN,
        AGENT_ID: agentId,
        STEP_INTERVAL_MS: '100',
        ON_DISABLE: 'exit',
        ...path.agentEnv({ stack, mcp, agentId }),
      });
      running.push(a);
      return a;
    });
    // Each agent is working: three tool calls of its own reached the MCP server.
    for (const a of agents) {
      await a.waitFor((e) => e.event === 'step' && e.ok === true && e.step === 3, 'third successful step');
    }

    const incidents = await Promise.all(agents.map((a) => sendCriticalAlert(a.id)));
    const verified = await Promise.all(incidents.map(disableVerifiedAt));

    for (const [i, a] of agents.entries()) {
      const at = (e: { t?: unknown }) => Date.parse(String(e.t));
      let stopped;
      if (path.selfCheck) {
        stopped = await a.waitFor((e) => e.event === 'stopped', 'stop');
        expect(stopped).toMatchObject({ reason: 'disabled', incident: incidents[i] });
        expect(await a.exited).toBe(0);
      } else {
        // The agent never learns of the disable and goes on calling; the enforcement point in
        // front of the MCP server refuses it: the OPA proxy with JSON-RPC error -32001, ContextForge
        // with HTTP 401 (the agent's user deactivated), which may come before the verification has
        // finished. Not a tool's error result (lookup answers one for an unknown document). The
        // agent logs the refused step, stops for that reason and exits, as on a disable.
        stopped = await a.waitFor((e) => e.event === 'stopped', 'stop after a refused call');
        expect(stopped, a.output()).toMatchObject({ reason: 'refused', version: null, incident: null });
        const steps = a.events.filter((e) => e.event === 'step');
        const refusal = steps.at(-1)!;
        expect(refusal, a.output()).toMatchObject({ ok: false, refused: true });
        expect(String(refusal.error)).toMatch(path.slug === 'opa' ? /-32001.*refused/ : /HTTP 401/);
        expect(stopped.error).toBe(refusal.error);
        expect(a.events.indexOf(refusal)).toBeLessThan(a.events.indexOf(stopped));
        expect(await a.exited, a.output()).toBe(0);
        expect(a.events.some((e) => e.event === 'error')).toBe(false);
        // Only that one call was refused (lookup's error results for unknown documents are not).
        expect(steps.filter((e) => e.refused === true)).toEqual([refusal]);
        const served = steps.filter((e) => e.ok === true && at(e) > verified[i]!);
        expect(served.length, `served after the disable: ${JSON.stringify(served)}`).toBeLessThanOrEqual(1);
      }
      const calls = path.calls(a.id);
      // The agent was working: its successful steps (step 3 and one before it) reached the server.
      expect(calls.length).toBeGreaterThanOrEqual(2);
      const late = calls.filter((c) => Date.parse(c.time) > verified[i]! + path.graceMs);
      expect(
        late.length,
        `${a.language} calls after the verified disable: ${JSON.stringify(late)}`,
      ).toBeLessThanOrEqual(1);
      // The agent's own view: once it saw the disable (or the refusal) it started no step; one in
      // flight may end.
      const after = a.events.slice(a.events.indexOf(stopped) + 1).filter((e) => e.event === 'step');
      expect(after.length).toBeLessThanOrEqual(1);
    }
  });
});

describe('a blocked tool and an idle agent', () => {
  it.each(LANGUAGES)(
    'the %s agent skips a blocked tool, idles while disabled and resumes when enabled',
    async (language) => {
      const agentId = `${language === 'typescript' ? 'ts' : 'py'}-idle`;
      const acts = actionsFor(stack, () => (live ??= liveFor(stack, connectors)));
      const a = startExampleAgent(language, {
        FIREBREAK_URL: stack.url,
        FIREBREAK_RUNTIME_TOKEN: TOKEN,
        AGENT_ID: agentId,
        KILL_SWITCH_MODE: 'events',
        MCP_URL: mcp.url,
        AGENT_TOOLS: 'query,notify',
        STEP_INTERVAL_MS: '100',
        ON_DISABLE: 'idle',
      });
      running.push(a);
      await a.waitFor((e) => e.event === 'step' && e.ok === true && e.tool === 'notify', 'a notify call');

      const block = req(
        'agent.tools.block',
        { agent_id: agentId, tools: ['notify'] },
        { incidentId: `inc-${agentId}` },
      );
      expect(await acts.executeAction(block)).toMatchObject({ ok: true, verified: true });
      const blocked = await a.waitFor((e) => e.event === 'tool_blocked', 'tool_blocked');
      expect(blocked).toMatchObject({ tool: 'notify', incident: `inc-${agentId}` });
      const queryAfter = a.events.length;
      await a.waitFor(
        (e) => a.events.indexOf(e) > queryAfter && e.event === 'step' && e.ok === true,
        'a query call',
      );
      expect(
        a.events.slice(a.events.indexOf(blocked)).filter((e) => e.event === 'step' && e.tool === 'notify')
          .length,
      ).toBeLessThanOrEqual(1);

      const disable = req('agent.disable', { agent_id: agentId }, { incidentId: `inc-${agentId}` });
      expect(await acts.executeAction(disable)).toMatchObject({ ok: true, verified: true });
      await a.waitFor((e) => e.event === 'stopped', 'stop');
      const enable = req('agent.enable', { agent_id: agentId }, { incidentId: `inc-${agentId}` });
      expect(await acts.executeAction(enable)).toMatchObject({ ok: true, verified: true });
      const resumed = await a.waitFor((e) => e.event === 'resumed', 'resume');
      await a.waitFor(
        (e) => a.events.indexOf(e) > a.events.indexOf(resumed) && e.event === 'step' && e.ok === true,
        'a step after resuming',
      );
      expect(a.alive()).toBe(true);
      await a.stop();
    },
  );
});

describe('an agent the gateway refuses, with ON_DISABLE=idle', () => {
  it.each(LANGUAGES)(
    'the %s agent idles, tries again each interval without a call getting through, and resumes when enabled',
    async (language) => {
      const agentId = `${language === 'typescript' ? 'ts' : 'py'}-gw-idle`;
      const { mcp: own, gateway } = gatewayAgents.get(agentId)!;
      const acts = actionsFor(stack, () => (live ??= liveFor(stack, connectors)));
      // KILL_SWITCH_MODE=none: only the gateway stops it; idle, it tries again each 300 ms.
      const a = startExampleAgent(language, {
        FIREBREAK_URL: stack.url,
        FIREBREAK_RUNTIME_TOKEN: TOKEN,
        AGENT_ID: agentId,
        KILL_SWITCH_MODE: 'none',
        POLL_INTERVAL_MS: '300',
        STEP_INTERVAL_MS: '100',
        ON_DISABLE: 'idle',
        ...gateway.env,
      });
      running.push(a);
      await a.waitFor((e) => e.event === 'step' && e.ok === true && e.step === 3, 'third successful step');

      const disable = req('agent.disable', { agent_id: agentId }, { incidentId: `inc-${agentId}` });
      expect(await acts.executeAction(disable)).toMatchObject({ ok: true, verified: true });
      const verifiedAt = Date.now();
      const first = await a.waitFor((e) => e.event === 'stopped', 'stop after a refused call');
      expect(first).toMatchObject({ reason: 'refused' });
      expect(String(first.error)).toMatch(/HTTP 401/);
      // Idle, it tries again (resumed: its own check allows it) and is refused again: stopped again.
      const later = (than: AgentEvent) => (e: AgentEvent) => a.events.indexOf(e) > a.events.indexOf(than);
      const retried = await a.waitFor((e) => e.event === 'resumed' && later(first)(e), 'a retry');
      const again = await a.waitFor(
        (e) => e.event === 'stopped' && later(retried)(e),
        'a second stop after the retry',
      );
      expect(again).toMatchObject({ reason: 'refused' });
      expect(a.alive()).toBe(true);
      const late = own.calls().filter((c) => Date.parse(c.time) > verifiedAt);
      expect(late.length, `calls after the verified disable: ${JSON.stringify(late)}`).toBeLessThanOrEqual(1);

      const enable = req('agent.enable', { agent_id: agentId }, { incidentId: `inc-${agentId}` });
      expect(await acts.executeAction(enable)).toMatchObject({ ok: true, verified: true });
      const enabledAt = a.events.length;
      await a.waitFor(
        (e) => a.events.indexOf(e) >= enabledAt && e.event === 'step' && e.ok === true,
        'a served step after the enable',
      );
      expect(
        a.events.some((e) => e.event === 'error'),
        a.output(),
      ).toBe(false);
      expect(a.alive()).toBe(true);
      await a.stop();
    },
  );
});

describe('OpenTelemetry', () => {
  it.each(LANGUAGES)('the %s agent exports GenAI spans over OTLP/HTTP', async (language) => {
    const agentId = `${language === 'typescript' ? 'ts' : 'py'}-traced`;
    const bodies: Buffer[] = [];
    // A collector's OTLP/HTTP endpoint; protobuf carries strings verbatim, so they can be searched.
    const collector = await localServer((q, r) => {
      const chunks: Buffer[] = [];
      q.on('data', (c: Buffer) => chunks.push(c));
      q.on('end', () => {
        if (q.url === '/v1/traces') bodies.push(Buffer.concat(chunks));
        r.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      });
    });
    try {
      const a = startExampleAgent(language, {
        FIREBREAK_URL: stack.url,
        FIREBREAK_RUNTIME_TOKEN: TOKEN,
        AGENT_ID: agentId,
        AGENT_NAME: `Traced ${language} agent`,
        MCP_URL: mcp.url,
        AGENT_TOOLS: 'query',
        MAX_STEPS: '2',
        STEP_INTERVAL_MS: '50',
        OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      });
      running.push(a);
      expect(await a.exited, a.output()).toBe(0);
      const ready = a.events.find((e) => e.event === 'ready')!;
      const steps = a.events.filter((e) => e.event === 'step' && e.ok === true);
      expect(steps).toHaveLength(2);
      const sent = Buffer.concat(bodies).toString('latin1');
      for (const s of [
        `invoke_agent Traced ${language} agent`,
        'execute_tool query',
        'gen_ai.operation.name',
        'gen_ai.agent.id',
        agentId,
        'gen_ai.agent.name',
        'gen_ai.conversation.id',
        String(ready.conversation_id),
        'gen_ai.tool.name',
        'gen_ai.tool.call.id',
        ...steps.map((e) => String(e.call_id)),
      ])
        expect(sent, `spans carry ${s}`).toContain(s);
    } finally {
      await collector.close();
    }
  });
});

describe('an answer forged with the webhook secret', () => {
  it.each(LANGUAGES)('stops the %s agent before any tool call', async (language) => {
    const agentId = `${language === 'typescript' ? 'ts' : 'py'}-forged`;
    const jwks = await (await fetch(`${stack.url}/.well-known/jwks.json`)).text();
    // A fake Firebreak that knows the real public key and the webhook secret, not the status key.
    const forged = await new SignJWT({
      agent_id: agentId,
      status: 'enabled',
      version: 99,
      incident: null,
      blocked_tools: [],
    })
      .setProtectedHeader({ alg: 'HS256', kid: stack.statusKey.kid, typ: STATUS_JWS_TYPE })
      .setIssuedAt()
      .setExpirationTime('1m')
      .sign(new TextEncoder().encode(TEST_WEBHOOK_SECRET));
    const fake = await localServer((q, r) => {
      void readBody(q).then(() => {
        if (q.url === '/.well-known/jwks.json') {
          r.writeHead(200, { 'content-type': 'application/json' }).end(jwks);
          return;
        }
        const key = q.url?.split('/').pop() ?? '';
        r.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            key,
            value: true,
            variant: 'enabled',
            reason: 'STATIC',
            metadata: { status_version: 99, status_jws: forged },
          }),
        );
      });
    });
    try {
      const a = startExampleAgent(language, {
        FIREBREAK_URL: fake.url,
        FIREBREAK_RUNTIME_TOKEN: TOKEN,
        AGENT_ID: agentId,
        KILL_SWITCH_MODE: 'polling',
        MCP_URL: mcp.url,
        ON_DISABLE: 'exit',
      });
      running.push(a);
      const stopped = await a.waitFor((e) => e.event === 'stopped', 'stop');
      expect(stopped).toMatchObject({ reason: 'fail-closed' });
      expect(String(stopped.error)).toMatch(/HS256|alg/);
      expect(await a.exited).toBe(0);
      expect(a.events.filter((e) => e.event === 'step')).toHaveLength(0);
      expect(mcp.calls().filter((c) => c.caller === agentId)).toHaveLength(0);
    } finally {
      await fake.close();
    }
  });
});
