/**
 * evidence.collect: gathers one evidence kind for an agent and incident from the sources that
 * kind names (domain/evidence-kinds.ts): the agent's spans from the trace store, the MCP
 * gateway's record of its tool calls, PostgreSQL sessions and role state, AWS access-key status
 * and last use, the inventory, the alerts, and Firebreak's own timeline and audit log as kinds of
 * their own. A source that is not configured here is recorded as not available with the reason;
 * a kind with no available source is stored as such, never filled with other records. Each
 * artifact is stored content-addressed with a custody record; a large result is stored in parts.
 * The output carries only hashes, so workflow history never holds the data itself. Records read
 * from the agent's systems are kept as those systems returned them; Firebreak's own records are
 * redacted as everywhere else.
 */
import { agentCredentialsOf, getAgent } from '../db/agents';
import { auditEntriesForAgent } from '../db/audit';
import type { BlobStore } from '../db/blob-store';
import type { Db } from '../db/client';
import { EvidenceStore } from '../db/evidence-store';
import { alertsForEvidence } from '../db/incident-alerts';
import { incidentTimeline } from '../db/timeline';
import { genAiSummary } from '../domain/agent-activity';
import {
  CONTEXTFORGE_GATEWAY_RECORD,
  EVIDENCE_KIND_SOURCES,
  type EvidenceKind,
} from '../domain/evidence-kinds';
import type { GatewayLog } from './gateway-log';
import { agentView } from './inventory';
import { redactValue } from './redact';
import { agentSpans, type TraceStore } from './trace-store';
import { ConnectorError, handler, type ActionHandler } from './types';

export type { EvidenceKind } from '../domain/evidence-kinds';

/** The live sources configured here; an absent one makes its kinds "not available here". */
export interface EvidenceSources {
  postgres?: { sessions(roles: string[]): Promise<unknown[]>; roles(roles: string[]): Promise<unknown[]> };
  aws?: { describeKeys(references: string[]): Promise<unknown[]> };
  traceStore?: TraceStore;
  gateway?: GatewayLog;
}

export interface EvidenceDeps {
  db: Db;
  /** Where artifacts go (default: DATA_DIR/evidence beside the database). */
  blobs?: BlobStore;
  sources?: EvidenceSources;
  now?: () => Date;
  /** Spans per stored part of an agent_traces artifact. */
  spansPerPart?: number;
}

export type EvidenceStatus = 'collected' | 'partial' | 'not_available';

export interface NotAvailable {
  source: string;
  reason: string;
}

/** What one kind gathered: each part becomes one artifact. */
interface Gathered {
  parts: Record<string, unknown>[];
  /** Whether the part holds records of the agent's systems (kept as returned) or Firebreak's. */
  external: boolean;
  notAvailable: NotAvailable[];
  /** Appended to the custody source: how far a batched source's record reaches. */
  custodyNote?: string;
}

const DEFAULT_SPANS_PER_PART = 1000;

function setting(kind: EvidenceKind, id: string): string {
  return EVIDENCE_KIND_SOURCES[kind].sources.find((s) => s.id === id)?.setting ?? 'a source';
}

export function createEvidenceCollector(deps: EvidenceDeps) {
  const store = new EvidenceStore(deps.db, deps.blobs);
  const now = () => deps.now?.() ?? new Date();
  const perPart = deps.spansPerPart ?? DEFAULT_SPANS_PER_PART;

  async function gather(
    kind: EvidenceKind,
    agentId: string,
    incidentId: string,
    window: { start: Date; end: Date },
  ): Promise<Gathered> {
    const db = deps.db;
    const since = window.start.toISOString();
    const agent = await getAgent(db, agentId);
    if (!agent)
      throw new ConnectorError(`no agent ${agentId} in the inventory: import it first (agents import)`);
    const creds = await agentCredentialsOf(db, [agentId]);
    const refs = (provider: string) => creds.filter((c) => c.provider === provider).map((c) => c.reference);
    const src = deps.sources ?? {};
    const data: Record<string, unknown> = {};
    const notAvailable: NotAvailable[] = [];
    const missing = (source: string, reason: string) => notAvailable.push({ source, reason });
    const one = (external: boolean): Gathered => ({
      parts: Object.keys(data).length ? [data] : [],
      external,
      notAvailable,
    });
    switch (kind) {
      case 'agent_traces': {
        if (!src.traceStore) {
          missing('trace_store', `no trace store is configured (${setting(kind, 'trace_store')})`);
          return one(true);
        }
        const q = { agentId, agentName: agent.name, ...window };
        const spans = (await agentSpans(src.traceStore, q)).map((s) => ({
          trace_id: s.traceId,
          span_id: s.spanId,
          parent_id: s.parentId,
          name: s.name,
          start_time: s.startTime,
          end_time: s.endTime,
          status: s.status,
          gen_ai: genAiSummary(s.attributes),
          stored: s.raw,
        }));
        const parts: Record<string, unknown>[] = [];
        for (let i = 0; i === 0 || i < spans.length; i += perPart)
          parts.push({ [src.traceStore.source]: { spans: spans.slice(i, i + perPart) } });
        return { parts, external: true, notAvailable };
      }
      case 'gateway_tool_calls': {
        if (!src.gateway) {
          missing(
            'opa_decision_logs',
            `no OPA uploads its decision logs here (${setting(kind, 'opa_decision_logs')}); ` +
              `ContextForge is not a source: ${CONTEXTFORGE_GATEWAY_RECORD} (docs/evidence.md)`,
          );
          return one(true);
        }
        const r = await src.gateway.toolCalls({ agentId, ...window });
        // OPA uploads in batches: say, in the artifact and its custody, up to when the record
        // had arrived, so a reader knows the calls after that may be missing from it.
        data[src.gateway.source] = { tool_calls: r.calls, received: r.coverage };
        const newest = r.coverage.map((c) => c.newest_event_at).sort();
        const custodyNote = newest.length
          ? `decision logs received up to ${newest[0]}${newest.length > 1 ? ` (oldest of ${newest.length} OPAs)` : ''}`
          : 'no decision logs received yet';
        return { ...one(true), custodyNote };
      }
      case 'access_logs': {
        const roles = refs('postgres');
        if (!src.postgres)
          missing(
            'postgres:pg_stat_activity',
            `PostgreSQL is not configured (${setting(kind, 'postgres:pg_stat_activity')})`,
          );
        else if (!roles.length)
          missing(
            'postgres:pg_stat_activity',
            `agent ${agentId} has no postgres credential in the inventory`,
          );
        else data['postgres:pg_stat_activity'] = await src.postgres.sessions(roles);
        return one(true);
      }
      case 'auth_attempts': {
        const roles = refs('postgres');
        const keys = refs('aws_iam');
        if (!src.postgres)
          missing(
            'postgres:pg_roles',
            `PostgreSQL is not configured (${setting(kind, 'postgres:pg_roles')})`,
          );
        else if (!roles.length)
          missing('postgres:pg_roles', `agent ${agentId} has no postgres credential in the inventory`);
        else data['postgres:pg_roles'] = await src.postgres.roles(roles);
        if (!src.aws)
          missing(
            'aws:iam_access_keys',
            `AWS IAM is not configured (${setting(kind, 'aws:iam_access_keys')})`,
          );
        else if (!keys.length)
          missing('aws:iam_access_keys', `agent ${agentId} has no aws_iam credential in the inventory`);
        else data['aws:iam_access_keys'] = await src.aws.describeKeys(keys);
        return one(true);
      }
      case 'infra_changes':
      case 'data_changes':
        missing('none', EVIDENCE_KIND_SOURCES[kind].unsupported ?? 'no source is supported');
        return one(true);
      case 'agent_config':
        data['firebreak:inventory'] = agentView(agent, creds);
        return one(false);
      case 'alerts':
        data['firebreak:alerts'] = await alertsForEvidence(db, incidentId, agentId, since);
        return one(false);
      case 'firebreak_timeline':
        data['firebreak:timeline'] = await incidentTimeline(db, incidentId);
        return one(false);
      case 'firebreak_audit':
        data['firebreak:audit_log'] = await auditEntriesForAgent(db, agentId, since);
        return one(false);
    }
  }

  return {
    store,
    async collect(p: {
      kind: EvidenceKind;
      agentId: string;
      incidentId: string;
      windowMinutes: number;
      collectedBy: string;
    }) {
      const end = now();
      const at = end.toISOString();
      const window = { start: new Date(end.getTime() - p.windowMinutes * 60_000), end };
      const g = await gather(p.kind, p.agentId, p.incidentId, window);
      const status: EvidenceStatus =
        g.parts.length === 0 ? 'not_available' : g.notAvailable.length ? 'partial' : 'collected';
      const parts = g.parts.length ? g.parts : [{}];
      const artifacts = [];
      for (const [i, sources] of parts.entries()) {
        const doc = {
          kind: p.kind,
          agent_id: p.agentId,
          incident_id: p.incidentId,
          window: { start: window.start.toISOString(), end: at },
          window_minutes: p.windowMinutes,
          collected_at: at,
          status,
          ...(parts.length > 1 ? { part: i + 1 } : {}),
          sources: g.external ? sources : redactValue(sources),
          not_available: g.notAvailable,
        };
        const bytes = Buffer.from(JSON.stringify(doc, null, 2) + '\n');
        const names = Object.keys(sources);
        artifacts.push(
          await store.put(bytes, {
            incidentId: p.incidentId,
            kind: p.kind,
            mediaType: 'application/json',
            source: names.length
              ? names.join(',') + (g.custodyNote ? ` (${g.custodyNote})` : '')
              : `not available: ${g.notAvailable.map((n) => n.reason).join('; ')}`,
            collectedBy: p.collectedBy,
            collectedAt: at,
            agentId: p.agentId,
          }),
        );
      }
      return { artifacts, status, notAvailable: g.notAvailable };
    },
  };
}

/** The evidence.collect action: collect, then verify by re-hashing the stored artifacts. */
export function evidenceCollectHandler(deps: EvidenceDeps): ActionHandler {
  const collector = createEvidenceCollector(deps);
  return handler('evidence.collect', {
    target: (p) => `agent:${p.agent_id}`,
    async act(p, ctx) {
      const r = await collector.collect({
        kind: p.kind,
        agentId: p.agent_id,
        incidentId: ctx.incidentId,
        windowMinutes: p.window_minutes,
        collectedBy: `step:${ctx.stepId}`,
      });
      const size = r.artifacts.reduce((n, a) => n + a.size, 0);
      const hashes = r.artifacts.map((a) => a.sha256.slice(0, 12)).join(', ');
      const missing = r.notAvailable.map((n) => `${n.source}: ${n.reason}`).join('; ');
      const summary =
        r.status === 'not_available'
          ? `${p.kind} for ${p.agent_id} not available here: ${missing}`
          : `collected ${p.kind} for ${p.agent_id}: ${r.artifacts.length} artifact(s), ${size} bytes, sha256 ${hashes}` +
            (missing ? `; not available: ${missing}` : '');
      return {
        summary,
        output: { agent_id: p.agent_id, kind: p.kind, status: r.status, artifacts: r.artifacts },
      };
    },
    async verify(_p, out) {
      const arts = out?.artifacts ?? [];
      const intact = await Promise.all(arts.map((a) => collector.store.intact(a.sha256, a.size)));
      const bad = arts.filter((_a, i) => !intact[i]);
      return {
        verified: arts.length > 0 && bad.length === 0,
        detail: bad.length ? `corrupt: ${bad.map((a) => a.sha256).join(', ')}` : 're-hashed',
      };
    },
  });
}
