/**
 * An example agent runtime that obeys Firebreak's kill switch: a loop that, before each step,
 * asks OpenFeature whether the agent is enabled and whether the step's tool is allowed
 * (kill-switch.ts, default false), then calls that tool on an MCP server through the MCP client
 * SDK (directly, through an MCP gateway, or through a policy-enforcing proxy: whatever MCP_URL
 * points at). One JSON line per event on stdout. When disabled, or when the MCP endpoint refuses a
 * call (a gateway's 401/403, a policy proxy's refusal), it stops: exits (ON_DISABLE=exit, the
 * default) or idles until enabled again (ON_DISABLE=idle). Run it with
 * `npx tsx examples/agents/typescript/agent.ts`; the variables are in examples/agents/README.md.
 */
import crypto from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { SpanStatusCode } from '@opentelemetry/api';
import { KillSwitch, type Answer } from './kill-switch';
import { startTelemetry } from './telemetry';

interface Settings {
  firebreakUrl: string;
  token: string;
  agentId: string;
  agentName: string;
  mcpUrl: string;
  mcpAuthorization: string | undefined;
  tools: string[] | undefined;
  mode: 'events' | 'polling' | 'none';
  pollIntervalMs: number;
  stepIntervalMs: number;
  onDisable: 'exit' | 'idle';
  maxSteps: number;
}

function settings(env: NodeJS.ProcessEnv): Settings {
  const need = (name: string) => {
    const v = env[name];
    if (!v) throw new Error(`${name} is required (see examples/agents/README.md)`);
    return v;
  };
  const mode = env.KILL_SWITCH_MODE ?? 'events';
  if (mode !== 'events' && mode !== 'polling' && mode !== 'none')
    throw new Error(`KILL_SWITCH_MODE must be events, polling or none, not ${mode}`);
  const onDisable = env.ON_DISABLE ?? 'exit';
  if (onDisable !== 'exit' && onDisable !== 'idle')
    throw new Error(`ON_DISABLE must be exit or idle, not ${onDisable}`);
  const agentId = need('AGENT_ID');
  return {
    firebreakUrl: need('FIREBREAK_URL'),
    token: need('FIREBREAK_RUNTIME_TOKEN'),
    agentId,
    agentName: env.AGENT_NAME ?? agentId,
    mcpUrl: need('MCP_URL'),
    mcpAuthorization: env.MCP_AUTHORIZATION || undefined,
    tools: env.AGENT_TOOLS ? env.AGENT_TOOLS.split(',').map((t) => t.trim()) : undefined,
    mode,
    pollIntervalMs: Number(env.POLL_INTERVAL_MS ?? 1000),
    stepIntervalMs: Number(env.STEP_INTERVAL_MS ?? 250),
    onDisable,
    maxSteps: Number(env.MAX_STEPS ?? 0),
  };
}

const say = (agent: string, e: Record<string, unknown>) =>
  process.stdout.write(`${JSON.stringify({ t: new Date().toISOString(), agent, ...e })}\n`);

/** Arguments for a tool from its input schema: each required property gets a plain sample value. */
function sampleArguments(schema: { properties?: object; required?: string[] }, step: number) {
  const props = (schema.properties ?? {}) as Record<string, { type?: string }>;
  const args: Record<string, unknown> = {};
  for (const name of schema.required ?? []) {
    const type = props[name]?.type;
    args[name] = type === 'number' || type === 'integer' ? step : type === 'boolean' ? true : `step ${step}`;
  }
  return args;
}

async function main() {
  const s = settings(process.env);
  const log = (e: Record<string, unknown>) => say(s.agentId, e);
  const telemetry = startTelemetry(s.agentName);
  const conversationId = crypto.randomUUID();
  const gate = s.mode === 'none' ? unchecked : await KillSwitch.open({ ...s, mode: s.mode, onEvent: log });

  const mcp = new Client({ name: s.agentName, version: '1.0.0' });
  // X-Agent-Id names the caller to the MCP server (and gateways that log it); a gateway credential
  // goes in Authorization.
  const headers: Record<string, string> = {
    'x-agent-id': s.agentId,
    ...(s.mcpAuthorization ? { authorization: s.mcpAuthorization } : {}),
  };
  await mcp.connect(new StreamableHTTPClientTransport(new URL(s.mcpUrl), { requestInit: { headers } }));
  const listed = (await mcp.listTools()).tools;
  const tools = (s.tools ?? listed.map((t) => t.name)).map((name) => {
    const t = listed.find((l) => l.name === name);
    if (!t)
      throw new Error(`the MCP server has no tool ${name} (it has ${listed.map((l) => l.name).join(', ')})`);
    return t;
  });
  if (tools.length === 0) throw new Error('the MCP server lists no tools');

  let stopped: Answer | undefined;
  let wake: () => void = () => undefined;
  const stop = (a: Answer, reason = a.error ? 'fail-closed' : 'disabled') => {
    if (stopped) return;
    stopped = a;
    log({ event: 'stopped', reason, ...fields(a) });
    wake();
  };
  // A notification is acted on at once, not at the next step: the agent re-reads its flag now
  // (and an idle agent wakes to see whether it was enabled again).
  gate.listen(() => {
    void gate.agent().then((a) => (a.allowed ? wake() : stop(a)));
  });
  log({
    event: 'ready',
    mode: s.mode,
    mcp_url: s.mcpUrl,
    tools: tools.map((t) => t.name),
    conversation_id: conversationId,
  });

  let step = 0;
  while (s.maxSteps === 0 || step < s.maxSteps) {
    if (stopped) {
      if (s.onDisable === 'exit') break;
      // Idle: wait for a notification (events) or the next poll, and go on once enabled again.
      await sleep(s.mode === 'events' ? 30_000 : Math.max(s.pollIntervalMs, 100), (w) => (wake = w));
      const again = await gate.agent();
      if (!again.allowed) continue;
      stopped = undefined;
      log({ event: 'resumed', ...fields(again) });
    }
    step += 1;
    const tool = tools[(step - 1) % tools.length]!;
    await telemetry.tracer.startActiveSpan(
      `invoke_agent ${s.agentName}`,
      {
        attributes: {
          'gen_ai.operation.name': 'invoke_agent',
          'gen_ai.agent.id': s.agentId,
          'gen_ai.agent.name': s.agentName,
          'gen_ai.conversation.id': conversationId,
        },
      },
      async (span) => {
        try {
          const answer = await gate.tool(tool.name);
          span.setAttributes({ 'firebreak.kill_switch.allowed': answer.allowed });
          if (!answer.allowed) {
            const agent = await gate.agent();
            if (!agent.allowed) return stop(agent);
            return log({ event: 'tool_blocked', step, tool: tool.name, ...fields(answer) });
          }
          const callId = crypto.randomUUID();
          await telemetry.tracer.startActiveSpan(
            `execute_tool ${tool.name}`,
            {
              attributes: {
                'gen_ai.operation.name': 'execute_tool',
                'gen_ai.agent.id': s.agentId,
                'gen_ai.agent.name': s.agentName,
                'gen_ai.conversation.id': conversationId,
                'gen_ai.tool.name': tool.name,
                'gen_ai.tool.call.id': callId,
                'gen_ai.tool.type': 'extension',
              },
            },
            async (toolSpan) => {
              const t0 = performance.now();
              try {
                // The call id travels with the call, so a gateway's record matches this span.
                const r = await mcp.callTool({
                  name: tool.name,
                  arguments: sampleArguments(tool.inputSchema, step),
                  _meta: { 'gen_ai.tool.call.id': callId },
                });
                const ok = r.isError !== true;
                if (!ok)
                  toolSpan.setStatus({ code: SpanStatusCode.ERROR, message: 'tool returned an error' });
                log({
                  event: 'step',
                  step,
                  tool: tool.name,
                  call_id: callId,
                  ok,
                  ms: Math.round(performance.now() - t0),
                });
              } catch (err) {
                toolSpan.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
                const refused = refusal(err);
                log({
                  event: 'step',
                  step,
                  tool: tool.name,
                  call_id: callId,
                  ok: false,
                  error: refused ?? (err as Error).message,
                  ...(refused ? { refused: true } : {}),
                });
                // Refused from outside: stop as on a disable (the agent cannot tell which it was).
                if (refused)
                  stop(
                    { allowed: false, version: undefined, incident: undefined, error: refused },
                    'refused',
                  );
              } finally {
                toolSpan.end();
              }
            },
          );
        } finally {
          span.end();
        }
      },
    );
    if (!stopped) await sleep(s.stepIntervalMs, (w) => (wake = w));
  }
  log({ event: 'exit', steps: step });
  await mcp.close();
  await gate.close();
  await telemetry.shutdown();
}

/** The HTTP status a gateway refuses a credential with, or a policy proxy's JSON-RPC error code. */
const REFUSED_HTTP = new Set([401, 403]);
const REFUSED_JSONRPC = -32001;

/**
 * Why the MCP endpoint refused the call, when it did: the agent's credential was refused (HTTP
 * 401/403, e.g. ContextForge with the agent's user deactivated) or a policy refused the call
 * (JSON-RPC error -32001, examples/gateways/opa-mcp-proxy). Other failures are not refusals.
 */
function refusal(err: unknown): string | undefined {
  if (err instanceof StreamableHTTPError && err.code !== undefined && REFUSED_HTTP.has(err.code))
    return `HTTP ${err.code}: ${err.message}`;
  if (err instanceof McpError && err.code === REFUSED_JSONRPC) return err.message;
  return undefined;
}

/**
 * KILL_SWITCH_MODE=none, for tests only: a compromised runtime that skips its own check and calls
 * every tool, so that only an enforcement point outside it (an OPA-checking proxy, an MCP gateway)
 * can stop it.
 */
const allowed: Answer = { allowed: true, version: undefined, incident: undefined, error: undefined };
const unchecked: Pick<KillSwitch, 'agent' | 'tool' | 'listen' | 'close'> = {
  agent: () => Promise.resolve(allowed),
  tool: () => Promise.resolve(allowed),
  listen: () => undefined,
  close: () => Promise.resolve(),
};

function fields(a: Answer) {
  return { version: a.version ?? null, incident: a.incident ?? null, ...(a.error ? { error: a.error } : {}) };
}

/** Sleeps `ms`, or less when the returned waker is called (a stop cuts the pause short). */
function sleep(ms: number, setWaker: (w: () => void) => void): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    setWaker(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    say(process.env.AGENT_ID ?? '?', { event: 'error', error: (err as Error).message });
    process.exit(1);
  },
);
