/**
 * The evidence kinds, defined once: each kind names the sources it is collected from and the
 * setting that configures each source. A kind whose sources are not configured here is recorded
 * as "not available here" with the reason (connectors/evidence.ts); no kind is ever filled with
 * Firebreak's own records under another name: those are the kinds `firebreak_timeline` and
 * `firebreak_audit`. Pure: the action schema, the playbook linter, the drill report and the docs
 * read it.
 */
import { z } from 'zod';

export const EVIDENCE_KINDS = [
  'agent_traces',
  'gateway_tool_calls',
  'access_logs',
  'auth_attempts',
  'infra_changes',
  'data_changes',
  'agent_config',
  'alerts',
  'firebreak_timeline',
  'firebreak_audit',
] as const;
export type EvidenceKind = (typeof EVIDENCE_KINDS)[number];

export function isEvidenceKind(k: string): k is EvidenceKind {
  return (EVIDENCE_KINDS as readonly string[]).includes(k);
}

/** Kind names that no longer exist, with what to use instead. */
export const REMOVED_EVIDENCE_KINDS: Record<string, string> = {
  traces:
    "kind traces was removed: it held Firebreak's own incident timeline, not the agent's traces; " +
    "use agent_traces (the agent's spans from the trace store) or firebreak_timeline (Firebreak's timeline)",
};

/** One place a kind's records come from. */
export interface EvidenceSourceSpec {
  /** The id in artifacts and custody records, e.g. `phoenix` or `postgres:pg_roles`. */
  id: string;
  /** What it holds, for the docs and the drill report. */
  description: string;
  /** What configures it; `always` for records Firebreak holds itself. */
  setting: string;
}

const TRACE_STORE: EvidenceSourceSpec = {
  id: 'trace_store',
  description:
    "The agent's OpenTelemetry spans (invoke_agent, execute_tool, model calls) from the trace store, as stored",
  setting: 'FIREBREAK_PHOENIX_URL or connectors.trace_store',
};
const GATEWAY: EvidenceSourceSpec = {
  id: 'opa_decision_logs',
  description:
    "The gateway's record of the agent's tool calls in the window, refused ones included: the decisions an OPA in front of its tools uploaded as decision logs",
  setting:
    'opa_decision_logs.senders in FIREBREAK_CONFIG (and that OPA configured to upload its decision logs)',
};

/** Why ContextForge is not a gateway-record source, for the reason and the docs. */
export const CONTEXTFORGE_GATEWAY_RECORD =
  "ContextForge 1.0.7's observability API records requests by token user and URL rather than by agent, without tool arguments, and a call refused at authentication without its tool";
const PG =
  'FIREBREAK_PG_ADMIN_URL or connectors.postgres.admin_url (and a postgres credential in the inventory)';
const AWS =
  'FIREBREAK_AWS_ENDPOINT / FIREBREAK_AWS_REGION or connectors.aws (and an aws_iam credential in the inventory)';

export const EVIDENCE_KIND_SOURCES: Record<
  EvidenceKind,
  { sources: EvidenceSourceSpec[]; unsupported?: string }
> = {
  agent_traces: { sources: [TRACE_STORE] },
  gateway_tool_calls: { sources: [GATEWAY] },
  access_logs: {
    sources: [
      {
        id: 'postgres:pg_stat_activity',
        description: "Sessions of the agent's PostgreSQL roles at collection time",
        setting: PG,
      },
    ],
  },
  auth_attempts: {
    sources: [
      {
        id: 'postgres:pg_roles',
        description: "State of the agent's PostgreSQL roles (can log in, valid until)",
        setting: PG,
      },
      {
        id: 'aws:iam_access_keys',
        description: "Status and last use of the agent's AWS access keys",
        setting: AWS,
      },
    ],
  },
  infra_changes: {
    sources: [],
    unsupported:
      'no infrastructure change log (e.g. AWS CloudTrail) is supported as a source yet: upload one with POST /v1/incidents/:id/evidence',
  },
  data_changes: {
    sources: [],
    unsupported:
      'no data change log (e.g. pgaudit) is supported as a source yet: upload one with POST /v1/incidents/:id/evidence',
  },
  agent_config: {
    sources: [
      {
        id: 'firebreak:inventory',
        description: "The agent's inventory record (tools, permissions, credentials by reference)",
        setting: 'always',
      },
    ],
  },
  alerts: {
    sources: [
      {
        id: 'firebreak:alerts',
        description: 'The alerts about the agent and incident, as the monitors sent them',
        setting: 'always',
      },
    ],
  },
  firebreak_timeline: {
    sources: [
      { id: 'firebreak:timeline', description: "Firebreak's own incident timeline", setting: 'always' },
    ],
  },
  firebreak_audit: {
    sources: [
      {
        id: 'firebreak:audit_log',
        description: "Firebreak's own audit log entries about the agent in the window",
        setting: 'always',
      },
    ],
  },
};

/** The kind param of evidence.collect: a removed kind is refused saying what to use instead. */
export const EvidenceKindParam = z.enum(EVIDENCE_KINDS, {
  error: (issue) => {
    const removed = typeof issue.input === 'string' ? REMOVED_EVIDENCE_KINDS[issue.input] : undefined;
    return removed ?? `unknown evidence kind (known: ${EVIDENCE_KINDS.join(', ')})`;
  },
});
