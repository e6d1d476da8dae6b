/**
 * OPA decision log events, as OPA's `decision_logs` plugin uploads them (a JSON array per request,
 * one event per policy decision: `decision_id`, `path`, `input`, `result`, `timestamp`, `labels`
 * naming the OPA instance, ...), and what Firebreak reads from one: whether it is a gateway's
 * decision about an agent's tool call (input `agent_id`, `tool` and the call's `tool_call`
 * description, the contract docs/evidence.md states for gateways), and its outcome. Timestamps
 * are normalized to UTC with nine fractional digits so that stored times compare as text. Pure.
 */
import { z } from 'zod';

/** One event: the fields Firebreak reads are checked, the rest is kept as OPA sent it. */
export const OpaDecisionEvent = z.looseObject({
  decision_id: z.string().min(1).max(200),
  timestamp: z.string().refine((s) => normalizeOpaTime(s) !== undefined, 'an RFC 3339 date-time'),
  path: z.string().max(1000).optional(),
  input: z.unknown().optional(),
  result: z.unknown().optional(),
  labels: z.looseObject({ id: z.string().max(200).optional() }).optional(),
});
export type OpaDecisionEvent = z.infer<typeof OpaDecisionEvent>;

/** An upload: OPA always sends an array, one element per decision. */
export const OpaDecisionUpload = z.array(OpaDecisionEvent).max(10_000);

const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/i;

/**
 * `2026-12-02T05:50:23.1234Z` → `2026-12-02T05:50:23.123400000Z`: UTC, nine fractional digits
 * (OPA writes Go's RFC3339Nano, which trims trailing zeros). undefined: not an RFC 3339 time.
 */
export function normalizeOpaTime(s: string): string | undefined {
  const m = RFC3339.exec(s);
  if (!m) return undefined;
  const frac = (m[2] ?? '').padEnd(9, '0');
  const whole = Date.parse(`${m[1]}${m[3]!.toUpperCase()}`);
  if (Number.isNaN(whole)) return undefined;
  return `${new Date(whole).toISOString().slice(0, 19)}.${frac}Z`;
}

/** A JavaScript Date in the stored form, for window bounds: an `end` bound takes its whole millisecond. */
export function opaTimeOf(d: Date, bound: 'start' | 'end' = 'start'): string {
  return `${d.toISOString().slice(0, 23)}${bound === 'end' ? '999999' : '000000'}Z`;
}

/** The call a gateway described in its input (`tool_call`), as far as it said. */
const ToolCallInput = z.looseObject({
  agent_id: z.string().min(1).max(200),
  tool: z.string().min(1).max(500),
  tool_call: z.looseObject({
    id: z.string().max(200).nullable().optional(),
    arguments_sha256: z.string().max(100).nullable().optional(),
  }),
});

export type GatewayOutcome = 'allowed' | 'refused';

export interface ToolCallDecision {
  agentId: string;
  tool: string;
  callId: string | null;
  outcome: GatewayOutcome;
  reasons: string[];
}

/**
 * The tool call this event decided, or undefined when it is another query (Firebreak's own
 * verification, a data read). Allowed only when the result says `allow: true`: a deny, an error
 * or an undefined result refuses the call at a fail-closed gateway.
 */
export function toolCallDecision(e: OpaDecisionEvent): ToolCallDecision | undefined {
  const input = ToolCallInput.safeParse(e.input);
  if (!input.success) return undefined;
  // `.../allow` answers a boolean, `.../decision` an object with `allow` and `reasons`.
  const r = e.result;
  const obj = typeof r === 'object' && r !== null ? (r as { allow?: unknown; reasons?: unknown }) : {};
  const allowed = (r === true || obj.allow === true) && !('error' in e);
  const reasons = Array.isArray(obj.reasons) ? obj.reasons.filter((x) => typeof x === 'string') : [];
  return {
    agentId: input.data.agent_id,
    tool: input.data.tool,
    callId: input.data.tool_call.id ?? null,
    outcome: allowed ? 'allowed' : 'refused',
    reasons,
  };
}
