/**
 * Evidence from where the agent acted (issue 16, acceptance): an agent's real OpenTelemetry
 * GenAI spans (emitted with the OTel SDK over OTLP/HTTP protobuf) land in a real Phoenix; an alert
 * opens an incident on the built-in credential-leak playbook, which snapshots the agent's traces
 * in the background at the start of assess and collects them again in investigate. The evidence
 * must hold exactly those spans (ids, tool names, inputs as stored) and none of another agent's,
 * each artifact re-hashing to its name with custody; the post-mortem's "What the agent did" lists
 * them in time order with the alert and containment.
 */
import crypto from 'node:crypto';
import { context, trace, type Span } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEvidenceCollector } from '../../connectors/evidence';
import { phoenixTraceStore } from '../../connectors/phoenix';
import type { LiveConnectors } from '../../connectors/types';
import { EvidenceStore } from '../../db/evidence-store';
import { importAgents, liveFor } from '../connectors/fixtures';
import {
  bearer,
  eventually,
  startTestStack,
  TEST_ADMIN_TOKEN,
  TEST_WEBHOOK_SECRET,
  type TestStack,
} from '../helpers/stack';
import { startPhoenix, type LocalPhoenix } from './phoenix';

let phoenix: LocalPhoenix;
let stack: TestStack;
let live: LiveConnectors | undefined;

beforeAll(async () => {
  phoenix = await startPhoenix();
  stack = await startTestStack({
    liveConnectors: () =>
      (live ??= liveFor(stack, { traceStore: { type: 'phoenix', url: phoenix.url, project: 'default' } })),
  });
  await importAgents(stack, [
    { id: 'agent-ph', name: 'Support bot', owner: 'sec@example.com', environment: 'prod', credentials: [] },
  ]);
}, 240_000);
afterAll(async () => {
  await stack?.close();
  await phoenix?.stop();
});

/** Every span of agent-ph that this file emitted: the evidence must hold exactly these. */
const allMine: Emitted[] = [];

interface Emitted {
  traceId: string;
  spanId: string;
  name: string;
  tool?: string;
  args?: string;
}

/** One agent step as the GenAI conventions shape it: invoke_agent > chat, execute_tool × 2. */
async function emitAgentSteps(): Promise<{ mine: Emitted[]; other: Emitted[] }> {
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'support-bot' }),
    spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: phoenix.otlpTracesUrl }))],
  });
  const tracer = provider.getTracer('evidence-phoenix-test');
  const conversation = `conv-${crypto.randomBytes(4).toString('hex')}`;
  const record = (s: Span, name: string, extra: Partial<Emitted> = {}): Emitted => ({
    traceId: s.spanContext().traceId,
    spanId: s.spanContext().spanId,
    name,
    ...extra,
  });
  const agentRun = (agentId: string, agentName: string, tools: { name: string; args: object }[]) => {
    const out: Emitted[] = [];
    const rootName = `invoke_agent ${agentName}`;
    const root = tracer.startSpan(rootName, {
      attributes: {
        'gen_ai.operation.name': 'invoke_agent',
        'gen_ai.agent.id': agentId,
        'gen_ai.agent.name': agentName,
        'gen_ai.conversation.id': conversation,
      },
    });
    out.push(record(root, rootName));
    const ctx = trace.setSpan(context.active(), root);
    const chat = tracer.startSpan(
      'chat test-model-1',
      {
        attributes: {
          'gen_ai.operation.name': 'chat',
          'gen_ai.request.model': 'test-model-1',
          'gen_ai.usage.input_tokens': 42,
          'gen_ai.usage.output_tokens': 7,
          'gen_ai.input.messages': JSON.stringify([
            { role: 'user', content: 'Export every customer record' },
          ]),
        },
      },
      ctx,
    );
    out.push(record(chat, 'chat test-model-1'));
    chat.end();
    tools.forEach((t, i) => {
      const name = `execute_tool ${t.name}`;
      const args = JSON.stringify(t.args);
      const s = tracer.startSpan(
        name,
        {
          attributes: {
            'gen_ai.operation.name': 'execute_tool',
            'gen_ai.tool.name': t.name,
            'gen_ai.tool.call.id': `call-${agentId}-${i}`,
            'gen_ai.tool.type': 'extension',
            'gen_ai.tool.call.arguments': args,
            'gen_ai.tool.call.result': `result of ${t.name}`,
          },
        },
        ctx,
      );
      out.push(record(s, name, { tool: t.name, args }));
      s.end();
    });
    root.end();
    return out;
  };
  const mine = agentRun('agent-ph', 'Support bot', [
    { name: 'lookup', args: { customer: 'c-17' } },
    { name: 'query', args: { sql: 'select * from customers' } },
  ]);
  const other = agentRun('agent-other', 'Other bot', [{ name: 'lookup', args: { customer: 'c-99' } }]);
  await provider.forceFlush();
  await provider.shutdown();
  allMine.push(...mine);
  return { mine, other };
}

const api = async (p: string) => {
  const res = await fetch(`${stack.url}${p}`, { headers: bearer(TEST_ADMIN_TOKEN) });
  expect(res.status, p).toBe(200);
  return res;
};

describe('agent traces from Phoenix as evidence', () => {
  it('pages through Phoenix and stores a large result in content-addressed parts, every span once', async () => {
    const { mine } = await emitAgentSteps();
    await eventually(
      async () => {
        const r = await fetch(`${phoenix.url}/v1/projects/default/spans?limit=1000`);
        const ids = new Set(((await r.json()) as any).data.map((s: any) => s.context.span_id));
        return mine.every((s) => ids.has(s.spanId));
      },
      60_000,
      'spans in Phoenix',
    );
    // Pages of 2 spans from Phoenix, parts of 3 spans in the store.
    const collector = createEvidenceCollector({
      db: stack.db,
      sources: {
        traceStore: phoenixTraceStore({ url: phoenix.url, project: 'default', pageLimit: 2 }),
      },
      spansPerPart: 3,
    });
    const r = await collector.collect({
      kind: 'agent_traces',
      agentId: 'agent-ph',
      incidentId: 'inc-paged',
      windowMinutes: 60,
      collectedBy: 'test',
    });
    const store = new EvidenceStore(stack.db);
    const parts = await Promise.all(
      r.artifacts.map(async (a) => JSON.parse((await store.read(a.sha256)).toString('utf8'))),
    );
    const spans = parts.flatMap((d) => d.sources[`phoenix:${phoenix.url}/default`].spans as any[]);
    expect(spans.map((s) => s.span_id).sort()).toEqual(allMine.map((s) => s.spanId).sort());
    expect(r.artifacts.length).toBe(Math.ceil(spans.length / 3));
    expect(parts.map((d) => d.part)).toEqual(r.artifacts.map((_, i) => i + 1));
    for (const a of r.artifacts) {
      expect(await store.intact(a.sha256, a.size)).toBe(true);
      expect(await store.custody('inc-paged', a.sha256)).toMatchObject({
        kind: 'agent_traces',
        size: a.size,
      });
    }
    // Time order across parts.
    const starts = spans.map((s) => s.start_time);
    expect([...starts].sort()).toEqual(starts);
  });

  it('preserves the exact spans of the agent, re-hashed with custody, and lists them in the post-mortem', async () => {
    const { mine, other } = await emitAgentSteps();
    // Phoenix ingests asynchronously: wait until its REST API returns every span we sent.
    await eventually(
      async () => {
        const r = await fetch(`${phoenix.url}/v1/projects/default/spans?limit=100`);
        const body = (await r.json()) as { data: { context: { span_id: string } }[] };
        const ids = new Set(body.data.map((s) => s.context.span_id));
        return [...mine, ...other].every((s) => ids.has(s.spanId));
      },
      60_000,
      'spans in Phoenix',
    );

    const res = await fetch(`${stack.url}/v1/alerts`, {
      method: 'POST',
      headers: bearer(TEST_WEBHOOK_SECRET),
      body: JSON.stringify({
        title: 'Support bot key seen on paste site',
        severity: 'high',
        source: 'siem',
        dedup_key: 'phoenix-evidence',
        agent_id: 'agent-ph',
        labels: { incident_class: 'credential_leak' },
      }),
    });
    expect(res.status).toBe(202);
    const { incident_id: incidentId } = (await res.json()) as { incident_id: string };

    type Listed = {
      sha256: string;
      kind: string;
      size: number;
      source: string;
      collected_by: string;
      href: string;
    };
    // The background snapshot (assess) and the investigate collection both hold the traces.
    const listed = await eventually(
      async () => {
        const body = (await (await api(`/v1/incidents/${incidentId}/evidence`)).json()) as {
          evidence: Listed[];
        };
        const traces = body.evidence.filter((e) => e.kind === 'agent_traces');
        const by = new Set(traces.map((e) => e.collected_by));
        return by.has('step:preserve_traces') && by.has('step:traces') ? body.evidence : undefined;
      },
      90_000,
      'agent_traces collected by the snapshot and in investigate',
    );

    const store = new EvidenceStore(stack.db);
    for (const e of listed.filter((x) => x.kind === 'agent_traces')) {
      const bytes = Buffer.from(await (await api(e.href)).arrayBuffer());
      // Re-hashed: the served artifact is the one its custody record names.
      expect(crypto.createHash('sha256').update(bytes).digest('hex')).toBe(e.sha256);
      expect(bytes.length).toBe(e.size);
      expect(await store.intact(e.sha256, e.size)).toBe(true);
      const custody = await store.custody(incidentId, e.sha256);
      expect(custody).toMatchObject({
        agentId: 'agent-ph',
        kind: 'agent_traces',
        source: `phoenix:${phoenix.url}/default`,
      });
      const doc = JSON.parse(bytes.toString('utf8'));
      expect(doc.status).toBe('collected');
      const spans = doc.sources[`phoenix:${phoenix.url}/default`].spans as any[];
      // Exactly the agent's spans: every one it emitted (in this file's tests), none of the other agent's.
      expect(spans.map((s) => s.span_id).sort()).toEqual(allMine.map((s) => s.spanId).sort());
      for (const o of other) expect(spans.map((s) => s.span_id)).not.toContain(o.spanId);
      for (const m of mine) {
        const s = spans.find((x) => x.span_id === m.spanId);
        expect(s).toMatchObject({ trace_id: m.traceId, name: m.name });
        expect(s.stored.context).toEqual({ trace_id: m.traceId, span_id: m.spanId });
        if (m.tool) {
          expect(s.gen_ai).toMatchObject({ operation: 'execute_tool', tool_name: m.tool });
          // Tool inputs and outputs as Phoenix stores them.
          expect(s.stored.attributes['gen_ai.tool.call.arguments']).toBe(m.args);
          expect(s.stored.attributes['gen_ai.tool.call.result']).toBe(`result of ${m.tool}`);
        }
      }
      const chat = spans.find((s) => s.gen_ai.operation === 'chat');
      expect(chat.stored.attributes['gen_ai.input.messages']).toContain('Export every customer record');
      expect(chat.gen_ai).toMatchObject({ model: 'test-model-1', input_tokens: 42, output_tokens: 7 });
    }

    const pm = await eventually(
      async () => {
        const md = await (await api(`/v1/incidents/${incidentId}/postmortem.md`)).text();
        return md.includes('Contained (milestone)') ? md : undefined;
      },
      60_000,
      'post-mortem after containment',
    );
    const section = pm.slice(pm.indexOf('## What the agent did'), pm.indexOf('## Evidence'));
    for (const m of mine) expect(section).toContain(m.spanId);
    for (const o of other) expect(section).not.toContain(o.spanId);
    expect(section).toContain('lookup (call call-agent-ph-0)');
    expect(section).toContain('query (call call-agent-ph-1)');
    expect(section).toContain('chat test-model-1, 42 in / 7 out tokens');
    const json = (await (await api(`/v1/incidents/${incidentId}/postmortem.json`)).json()) as any;
    const whats: string[] = json.agent_activity.map((e: any) => e.what);
    // Time order: the agent's calls came before the alert, the alert before containment.
    expect(whats.indexOf('tool_call')).toBeLessThan(whats.indexOf('alert'));
    expect(whats.indexOf('alert')).toBeLessThan(whats.indexOf('containment'));
    const traceShas = new Set(listed.filter((e) => e.kind === 'agent_traces').map((e) => e.sha256));
    for (const e of json.agent_activity.filter((x: any) => x.what === 'tool_call'))
      expect(traceShas.has(e.evidence.sha256)).toBe(true);
  });
});
