/**
 * The gateway's record of the agent's tool calls as evidence (issue 16, acceptance): each example
 * agent (TypeScript, Python; a compromised runtime: it skips its own kill-switch check) calls
 * tools through examples/gateways/opa-mcp-proxy, whose OPA uploads its decision logs to Firebreak with the
 * shipped configuration (examples/gateways/opa-mcp-proxy/opa-decision-logs.yaml), and emits its
 * GenAI spans to a real Phoenix. An alert opens an incident on the built-in credential-leak
 * playbook: the snapshot in assess and the collection in investigate hold the calls OPA had
 * delivered by then (each says up to when), the disable makes OPA refuse the agent's next calls,
 * and a responder's collection once the agent has stopped holds exactly every call it made or
 * attempted (by its call id, in order, allowed and refused) and exactly its spans from Phoenix.
 * Every artifact re-hashes to its name with custody; the post-mortem's "What the agent did"
 * lists the gateway calls in time order with the alert, containment and the first refused call.
 */
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFileConfig } from '../../app/config-file';
import { syncEnforcementPoints } from '../../connectors/enforcement-sync';
import { enforcementPoints } from '../../connectors/registry';
import { actionRunOf } from '../../db/action-runs';
import { EvidenceStore } from '../../db/evidence-store';
import { decisionEventsOf, decisionLogSenders } from '../../db/opa-decision-logs';
import { actionsFor, connectorConfig, importAgents, liveFor, req } from '../connectors/fixtures';
import {
  startExampleAgent,
  type AgentEvent,
  type AgentLanguage,
  type ExampleAgent,
} from '../helpers/example-agents';
import { startExampleMcpServer, type ExampleMcpServer } from '../helpers/mcp-services';
import { startOpa, startOpaProxy, type LocalOpa, type OpaProxy } from '../helpers/opa-server';
import {
  bearer,
  eventually,
  startTestStack,
  TEST_ADMIN_TOKEN,
  TEST_WEBHOOK_SECRET,
  type TestStack,
} from '../helpers/stack';
import { startPhoenix, type LocalPhoenix } from './phoenix';

const RUNTIME_TOKEN = 'runtime-token-gateway-0123456789';
const OPA_TOKEN = 'opa-token-gateway-0123456789';
const DECISION_LOG_TOKEN = 'decision-log-token-gateway-0123456789';
const LANGUAGES: AgentLanguage[] = ['typescript', 'python'];
const agentOf = (l: AgentLanguage) => `${l === 'typescript' ? 'ts' : 'py'}-gw`;
const AGENTS = LANGUAGES.map(agentOf);
const proxyToken = (agentId: string) => `proxy-token-${agentId}-0123456789`;

let stack: TestStack;
let opa: LocalOpa;
let phoenix: LocalPhoenix;
let mcp: ExampleMcpServer;
let proxy: OpaProxy | undefined;
const running: ExampleAgent[] = [];
let connectors: Parameters<typeof liveFor>[1];
let live: ReturnType<typeof liveFor> | undefined;

beforeAll(async () => {
  [stack, phoenix, mcp] = await Promise.all([
    startTestStack({
      fileConfig: parseFileConfig(
        {
          runtimes: { tokens: [{ name: 'example-agent', token_env: 'RT', agents: AGENTS }] },
          opa_decision_logs: { senders: [{ name: 'gateway-opa', token_env: 'DL' }] },
        },
        { RT: RUNTIME_TOKEN, DL: DECISION_LOG_TOKEN },
        'test',
      ),
      liveConnectors: () => (live ??= liveFor(stack, connectors)),
    }),
    startPhoenix(),
    startExampleMcpServer(),
  ]);
  // The OPA in front of the tools uploads its decision logs to this Firebreak.
  opa = await startOpa({
    token: OPA_TOKEN,
    decisionLogs: { firebreakUrl: stack.url, token: DECISION_LOG_TOKEN },
  });
  connectors = {
    opa: { url: opa.url, token: OPA_TOKEN },
    opaDecisionLogs: { senders: ['gateway-opa'] },
    traceStore: { type: 'phoenix', url: phoenix.url, project: 'default' },
  };
  await importAgents(
    stack,
    AGENTS.map((id) => ({ id, name: `Gateway agent ${id}`, owner: 'sec@example.com', environment: 'prod' })),
  );
  proxy = await startOpaProxy({
    upstream: mcp.url,
    opaUrl: opa.url,
    opaToken: OPA_TOKEN,
    agents: Object.fromEntries(AGENTS.map((id) => [proxyToken(id), id])),
  });
  const synced = await syncEnforcementPoints(
    stack.db,
    enforcementPoints({ ...connectorConfig(stack), ...connectors }, stack.db),
  );
  expect(synced.filter((r) => 'error' in r)).toEqual([]);
}, 240_000);

afterAll(async () => {
  await Promise.all(running.map((a) => a.stop()));
  await Promise.all([proxy?.close(), stack?.close(), opa?.close(), mcp?.stop(), phoenix?.stop()]);
});

const api = async (p: string) => {
  const res = await fetch(`${stack.url}${p}`, { headers: bearer(TEST_ADMIN_TOKEN) });
  expect(res.status, p).toBe(200);
  return res;
};

interface Listed {
  sha256: string;
  kind: string;
  size: number;
  source: string;
  collected_by: string;
  href: string;
}

/** Reads an artifact through the API, re-hashes it and checks its custody; returns the document. */
async function verified(incidentId: string, agentId: string, e: Listed) {
  const bytes = Buffer.from(await (await api(e.href)).arrayBuffer());
  expect(crypto.createHash('sha256').update(bytes).digest('hex')).toBe(e.sha256);
  expect(bytes.length).toBe(e.size);
  const store = new EvidenceStore(stack.db);
  expect(await store.intact(e.sha256, e.size)).toBe(true);
  expect(await store.custody(incidentId, e.sha256)).toMatchObject({
    agentId,
    kind: e.kind,
    size: e.size,
    source: e.source,
  });
  return JSON.parse(bytes.toString('utf8'));
}

/** A tool call the agent made or attempted, from its own log. */
interface AgentCall {
  callId: string;
  tool: string;
  refused: boolean;
  /** The tool answered a result (not an error result, which the MCP server does not log). */
  ok: boolean;
  t: number;
}

const callsOf = (events: AgentEvent[]): AgentCall[] =>
  events
    .filter((e) => e.event === 'step' && typeof e.call_id === 'string')
    .map((e) => ({
      callId: String(e.call_id),
      tool: String(e.tool),
      refused: typeof e.error === 'string' && e.error.includes('tool call refused'),
      ok: e.ok === true,
      t: Date.parse(e.t),
    }));

/**
 * A collection made while the agent ran holds a prefix of its calls: every call the agent had
 * finished before the newest decision OPA had delivered, none it never made, outcomes as the
 * agent saw them.
 */
function expectPrefix(gatewayCalls: any[], doc: any, mine: AgentCall[]) {
  // Complete up to the record's reach, within the collection's window.
  const reach = Math.min(
    Date.parse(doc.sources.opa_decision_logs.received[0].newest_event_at),
    Date.parse(doc.window.end),
  );
  const ids = gatewayCalls.map((c) => c.call_id);
  expect(ids).toEqual(mine.slice(0, ids.length).map((c) => c.callId));
  for (const c of mine.filter((m) => m.t <= reach)) expect(ids).toContain(c.callId);
  for (const [i, c] of gatewayCalls.entries())
    expect(c.outcome).toBe(mine[i]!.refused ? 'refused' : 'allowed');
}

describe('the gateway record from OPA decision logs as evidence', () => {
  it.each(LANGUAGES)(
    'holds exactly the calls the %s agent made or attempted, refused ones after containment included',
    async (language) => {
      const AGENT = agentOf(language);
      const a = startExampleAgent(language, {
        FIREBREAK_URL: stack.url,
        FIREBREAK_RUNTIME_TOKEN: RUNTIME_TOKEN,
        AGENT_ID: AGENT,
        AGENT_NAME: `Gateway agent ${AGENT}`,
        // A compromised runtime: it ignores its flag, and after a refusal it tries again.
        KILL_SWITCH_MODE: 'none',
        ON_DISABLE: 'idle',
        POLL_INTERVAL_MS: '250',
        MCP_URL: proxy!.url,
        MCP_AUTHORIZATION: `Bearer ${proxyToken(AGENT)}`,
        STEP_INTERVAL_MS: '250',
        MAX_STEPS: '60',
        OTEL_EXPORTER_OTLP_ENDPOINT: phoenix.url,
      });
      running.push(a);
      await a.waitFor((e) => e.event === 'step' && e.ok === true && e.step === 3, 'third successful step');
      // Preserve first needs the record there: wait until OPA has delivered the first three calls.
      await eventually(
        async () => {
          const stored = await decisionEventsOf(stack.db, { agentId: AGENT, start: '0', end: '9' });
          const ids = new Set(stored.map((r) => r.callId));
          return callsOf(a.events)
            .slice(0, 3)
            .every((c) => ids.has(c.callId));
        },
        30_000,
        'the first three calls in the stored decision log',
      );

      const alert = await fetch(`${stack.url}/v1/alerts`, {
        method: 'POST',
        headers: bearer(TEST_WEBHOOK_SECRET),
        body: JSON.stringify({
          title: 'Gateway agent key seen on paste site',
          severity: 'high',
          source: 'siem',
          dedup_key: `gateway-evidence-${AGENT}`,
          agent_id: AGENT,
          labels: { incident_class: 'credential_leak' },
        }),
      });
      expect(alert.status).toBe(202);
      const { incident_id: incidentId } = (await alert.json()) as { incident_id: string };

      const disabled = await eventually(
        async () => {
          const run = await actionRunOf(stack.db, incidentId, 'disable_agent');
          if (run?.status === 'failed')
            throw new Error(`disable_agent failed: ${JSON.stringify(run.result)}`);
          return run?.status === 'succeeded' && run.finishedAt ? Date.parse(run.finishedAt) : undefined;
        },
        90_000,
        'a verified disable',
      );
      // OPA refuses the agent from now on; it goes on calling until its last step.
      await a.waitFor(
        (e) => callsOf([e]).some((c) => c.refused && c.t > disabled),
        'a refused tool call after the disable',
      );
      expect(await a.exited, a.output()).toBe(0);
      const mine = callsOf(a.events);
      expect(mine.length).toBe(60);
      const firstRefused = mine.findIndex((c) => c.refused);
      expect(firstRefused).toBeGreaterThanOrEqual(3);
      // After the first refusal every call is refused: the disable holds.
      expect(mine.slice(firstRefused).every((c) => c.refused)).toBe(true);

      // The playbook's own collections: the snapshot in assess and the one in investigate.
      const listed = await eventually(
        async () => {
          const body = (await (await api(`/v1/incidents/${incidentId}/evidence`)).json()) as {
            evidence: Listed[];
          };
          const by = new Set(
            body.evidence.filter((e) => e.kind === 'gateway_tool_calls').map((e) => e.collected_by),
          );
          return by.has('step:preserve_gateway_calls') && by.has('step:gateway_calls')
            ? body.evidence
            : undefined;
        },
        90_000,
        'gateway_tool_calls collected by the snapshot and in investigate',
      );
      for (const e of listed.filter((x) => x.kind === 'gateway_tool_calls')) {
        expect(e.source).toMatch(/^opa_decision_logs \(decision logs received up to \d{4}-.*Z\)$/);
        const doc = await verified(incidentId, AGENT, e);
        expect(doc.status).toBe('collected');
        const calls = doc.sources.opa_decision_logs.tool_calls as any[];
        expect(e.source).toContain(doc.sources.opa_decision_logs.received[0].newest_event_at);
        expectPrefix(calls, doc, mine);
        if (e.collected_by === 'step:gateway_calls') {
          // After containment: it waited for OPA's upload past its end, so the record is complete
          // up to then (expectPrefix: every call by then is in it, the refusals after the disable too).
          const reach = Date.parse(doc.sources.opa_decision_logs.received[0].newest_event_at);
          expect(reach).toBeGreaterThanOrEqual(Date.parse(doc.window.end));
        }
        if (e.collected_by === 'step:preserve_gateway_calls') {
          // Before containment: the agent's first calls, all allowed.
          expect(calls.length).toBeGreaterThanOrEqual(3);
          expect(calls.every((c) => c.outcome === 'allowed')).toBe(true);
        }
        for (const c of calls) {
          // OPA's event, as it uploaded it: the proxy's input names the agent, tool and call.
          expect(c.stored).toMatchObject({
            path: 'firebreak/authz/decision',
            input: { agent_id: AGENT, tool: c.tool, tool_call: { id: c.call_id } },
            result: { allow: c.outcome === 'allowed' },
          });
          expect(c.stored.decision_id).toEqual(expect.any(String));
        }
      }

      // Once OPA has delivered the agent's last decision and Phoenix holds its last span, a
      // responder collects both again: exactly every call, and exactly every span of a call.
      const last = mine.at(-1)!;
      await eventually(
        async () => (await decisionLogSenders(stack.db)).some((s) => Date.parse(s.newestAt) >= last.t - 1000),
        30_000,
        'the last decision-log upload',
      );
      const acts = actionsFor(stack, () => (live ??= liveFor(stack, connectors)));
      const collect = async (kind: string, stepId: string) => {
        const r = await acts.executeAction(
          req('evidence.collect', { agent_id: AGENT, kind, window_minutes: 60 }, { incidentId, stepId }),
        );
        expect(r).toMatchObject({ ok: true, verified: true, output: { status: 'collected' } });
        return r;
      };
      const byId = new Map(mine.map((c) => [c.callId, c]));
      const complete = await eventually(
        async () => {
          const r = await collect('gateway_tool_calls', `responder-gateway-${Date.now()}`);
          const art = (r.output.artifacts as { sha256: string }[])[0]!;
          const doc = JSON.parse((await new EvidenceStore(stack.db).read(art.sha256)).toString('utf8'));
          const calls = doc.sources.opa_decision_logs.tool_calls as any[];
          return calls.length >= mine.length ? { art, calls } : undefined;
        },
        30_000,
        'a collection holding every call',
      );
      expect(complete.calls.map((c) => c.call_id)).toEqual(mine.map((c) => c.callId));
      for (const c of complete.calls) {
        const m = byId.get(c.call_id)!;
        expect(c).toMatchObject({ tool: m.tool, outcome: m.refused ? 'refused' : 'allowed' });
        // The decision came before the agent logged the call's end.
        expect(Date.parse(c.at)).toBeLessThanOrEqual(m.t);
      }
      // Only allowed calls reached the MCP server: it logged each one that succeeded there.
      expect(mine.filter((c) => c.ok).every((c) => !c.refused)).toBe(true);
      expect(mcp.calls().filter((c) => c.caller === AGENT).length).toBe(mine.filter((c) => c.ok).length);

      const traces = await eventually(
        async () => {
          const r = await collect('agent_traces', `responder-traces-${Date.now()}`);
          const arts = r.output.artifacts as { sha256: string }[];
          const docs = await Promise.all(
            arts.map(async (x) =>
              JSON.parse((await new EvidenceStore(stack.db).read(x.sha256)).toString('utf8')),
            ),
          );
          const spans = docs.flatMap((d) => d.sources[`phoenix:${phoenix.url}/default`].spans as any[]);
          const tools = spans.filter((s) => s.gen_ai.operation === 'execute_tool');
          return tools.length >= mine.length ? tools : undefined;
        },
        60_000,
        'every execute_tool span in Phoenix',
      );
      // The same calls, matched by the agent's call id: in its spans and in the gateway's record.
      expect(traces.map((s) => s.gen_ai.tool_call_id).sort()).toEqual(mine.map((c) => c.callId).sort());

      // Every artifact of the incident re-hashes to its name, with custody.
      const all = (
        (await (await api(`/v1/incidents/${incidentId}/evidence`)).json()) as { evidence: Listed[] }
      ).evidence.filter((e) => e.kind === 'gateway_tool_calls' || e.kind === 'agent_traces');
      expect(all.map((e) => e.sha256)).toContain(complete.art.sha256);
      for (const e of all) await verified(incidentId, AGENT, e);

      // The post-mortem lists the gateway's calls, merged in time order with the incident's marks.
      const json = (await (await api(`/v1/incidents/${incidentId}/postmortem.json`)).json()) as any;
      const activity = json.agent_activity as any[];
      const gateway = activity.filter((e) => e.what === 'gateway_call');
      expect(gateway.map((e) => e.detail)).toEqual(mine.map((c) => `${c.tool} (call ${c.callId})`));
      expect(gateway.map((e) => e.outcome)).toEqual(mine.map((c) => (c.refused ? 'refused' : 'allowed')));
      const gatewayShas = new Set(all.filter((e) => e.kind === 'gateway_tool_calls').map((e) => e.sha256));
      for (const e of gateway) expect(gatewayShas.has(e.evidence.sha256)).toBe(true);
      const ats = activity.map((e) => Date.parse(e.at));
      expect([...ats].sort((x, y) => x - y)).toEqual(ats);
      const whats = activity.map((e) => e.what);
      expect(whats.indexOf('gateway_call')).toBeLessThan(whats.indexOf('alert'));
      expect(whats.indexOf('alert')).toBeLessThan(whats.indexOf('containment'));
      const refusedMark = activity.find((e) => e.what === 'first_refused_call');
      expect(refusedMark.detail).toBe(
        `First refused call: ${mine[firstRefused]!.tool} (call ${mine[firstRefused]!.callId})`,
      );
      expect(whats.indexOf('alert')).toBeLessThan(whats.indexOf('first_refused_call'));

      const md = await (await api(`/v1/incidents/${incidentId}/postmortem.md`)).text();
      const section = md.slice(md.indexOf('## What the agent did'), md.indexOf('## Evidence'));
      const rows = section.split('\n').filter((l) => l.includes('| gateway call |'));
      expect(rows.length).toBe(mine.length);
      for (const [i, c] of mine.entries()) {
        expect(rows[i]).toContain(`(call ${c.callId})`);
        expect(rows[i]).toContain(c.refused ? '| refused |' : '| allowed |');
      }
      expect(section).toContain(`First refused call: ${mine[firstRefused]!.tool}`);
    },
  );
});
