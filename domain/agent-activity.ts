/**
 * "What the agent did": the agent's tool calls and model calls from the collected trace and
 * gateway artifacts (the evidence documents connectors/evidence.ts writes), merged in time order
 * with the incident's own marks (the alert, containment, the first refused call), each entry
 * linked to the artifact it came from. Also the small GenAI summary the collector stores beside
 * each span it keeps verbatim. Pure: no I/O.
 */
import { z } from 'zod';

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
const num = (v: unknown) => (typeof v === 'number' ? v : undefined);

/** The OpenTelemetry GenAI attributes of one span that the post-mortem reads. */
export function genAiSummary(a: Record<string, unknown>) {
  return {
    operation: str(a['gen_ai.operation.name']) ?? null,
    agent_id: str(a['gen_ai.agent.id']) ?? null,
    agent_name: str(a['gen_ai.agent.name']) ?? null,
    conversation_id: str(a['gen_ai.conversation.id']) ?? null,
    tool_name: str(a['gen_ai.tool.name']) ?? null,
    tool_call_id: str(a['gen_ai.tool.call.id']) ?? null,
    model: str(a['gen_ai.request.model']) ?? str(a['gen_ai.response.model']) ?? null,
    input_tokens: num(a['gen_ai.usage.input_tokens']) ?? null,
    output_tokens: num(a['gen_ai.usage.output_tokens']) ?? null,
  };
}
export type GenAiSummary = ReturnType<typeof genAiSummary>;

export const AgentActivityEntry = z.object({
  at: z.string(),
  what: z.enum([
    'agent',
    'tool_call',
    'model_call',
    'gateway_call',
    'alert',
    'containment',
    'first_refused_call',
  ]),
  detail: z.string(),
  outcome: z.string().nullable(),
  trace_id: z.string().nullable(),
  span_id: z.string().nullable(),
  evidence: z.object({ sha256: z.string(), kind: z.string() }).nullable(),
});
export type AgentActivityEntry = z.infer<typeof AgentActivityEntry>;

/** One stored artifact of kind agent_traces or gateway_tool_calls, parsed. */
export interface ActivityArtifact {
  sha256: string;
  kind: string;
  doc: unknown;
}

const Span = z.object({
  trace_id: z.string(),
  span_id: z.string(),
  name: z.string(),
  start_time: z.string(),
  status: z.string().optional(),
  gen_ai: z.record(z.string(), z.unknown()).optional(),
});
const GatewayCall = z.object({
  at: z.string(),
  tool: z.string(),
  outcome: z.string(),
  call_id: z.string().nullable().optional(),
});
const Doc = z.object({ sources: z.record(z.string(), z.unknown()) });

const MODEL_OPS = ['chat', 'text_completion', 'generate_content', 'embeddings'];

function fromSpan(raw: unknown, ref: { sha256: string; kind: string }): AgentActivityEntry | undefined {
  const s = Span.safeParse(raw);
  if (!s.success) return undefined;
  const g = (s.data.gen_ai ?? {}) as Partial<GenAiSummary>;
  const op = g.operation ?? s.data.name.split(' ')[0] ?? '';
  const base = {
    at: s.data.start_time,
    outcome: s.data.status ?? null,
    trace_id: s.data.trace_id,
    span_id: s.data.span_id,
    evidence: ref,
  };
  if (op === 'execute_tool')
    return {
      ...base,
      what: 'tool_call',
      detail: `${g.tool_name ?? s.data.name}${g.tool_call_id ? ` (call ${g.tool_call_id})` : ''}`,
    };
  if (MODEL_OPS.includes(op)) {
    const tokens =
      g.input_tokens != null || g.output_tokens != null
        ? `, ${g.input_tokens ?? '?'} in / ${g.output_tokens ?? '?'} out tokens`
        : '';
    return { ...base, what: 'model_call', detail: `${op} ${g.model ?? ''}`.trim() + tokens };
  }
  if (op === 'invoke_agent')
    return {
      ...base,
      what: 'agent',
      detail: `${s.data.name}${g.conversation_id ? ` (conversation ${g.conversation_id})` : ''}`,
    };
  return undefined;
}

/** The entries of one artifact: its spans (agent_traces) or gateway calls (gateway_tool_calls). */
function entriesOf(a: ActivityArtifact): AgentActivityEntry[] {
  const doc = Doc.safeParse(a.doc);
  if (!doc.success) return [];
  const ref = { sha256: a.sha256, kind: a.kind };
  const out: AgentActivityEntry[] = [];
  for (const value of Object.values(doc.data.sources)) {
    const v = (value ?? {}) as { spans?: unknown[]; tool_calls?: unknown[] };
    for (const s of v.spans ?? []) {
      const e = fromSpan(s, ref);
      if (e) out.push(e);
    }
    for (const c of v.tool_calls ?? []) {
      const g = GatewayCall.safeParse(c);
      if (g.success)
        out.push({
          at: g.data.at,
          what: 'gateway_call',
          detail: `${g.data.tool}${g.data.call_id ? ` (call ${g.data.call_id})` : ''}`,
          outcome: g.data.outcome,
          trace_id: null,
          span_id: null,
          evidence: ref,
        });
    }
  }
  return out;
}

const key = (e: AgentActivityEntry) => `${e.what}|${e.trace_id ?? ''}|${e.span_id ?? ''}|${e.at}|${e.detail}`;

/**
 * The agent's activity from every collected artifact (the same span collected twice, e.g. by the
 * snapshot and again in investigate, is listed once, linked to the first artifact that held it),
 * with the incident's marks, in time order.
 */
export function agentActivity(
  artifacts: ActivityArtifact[],
  marks: { alertAt: string | null; containedAt: string | null },
): AgentActivityEntry[] {
  const seen = new Map<string, AgentActivityEntry>();
  for (const a of artifacts) for (const e of entriesOf(a)) if (!seen.has(key(e))) seen.set(key(e), e);
  const entries = [...seen.values()];
  const mark = (what: AgentActivityEntry['what'], at: string, detail: string): AgentActivityEntry => ({
    at,
    what,
    detail,
    outcome: null,
    trace_id: null,
    span_id: null,
    evidence: null,
  });
  if (marks.alertAt) entries.push(mark('alert', marks.alertAt, 'First alert received; incident opened'));
  if (marks.containedAt) entries.push(mark('containment', marks.containedAt, 'Contained (milestone)'));
  const refused = entries
    .filter((e) => e.what === 'gateway_call' && e.outcome === 'refused')
    .sort((a, b) => Date.parse(a.at) - Date.parse(b.at))[0];
  if (refused)
    entries.push({
      ...mark('first_refused_call', refused.at, `First refused call: ${refused.detail}`),
      evidence: refused.evidence,
    });
  const rank = (e: AgentActivityEntry) => (e.what === 'first_refused_call' ? 1 : 0);
  return entries.sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || rank(a) - rank(b));
}
