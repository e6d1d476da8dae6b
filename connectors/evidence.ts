/**
 * evidence.collect: gathers what Firebreak can read locally for an agent and incident — alerts
 * and the timeline from the DB, the agent's inventory config, audit entries about it, and (when
 * configured) PostgreSQL pg_stat_activity and role state, and AWS access key status and last use —
 * into one JSON artifact per call, stored content-addressed with a custody record. The agent must
 * be in the inventory: an unknown id is refused rather than collected as an empty artifact. The
 * output carries only hashes, so workflow history never holds the data itself.
 */
import { agentCredentialsOf, getAgent } from '../db/agents';
import { auditEntriesForAgent } from '../db/audit';
import type { BlobStore } from '../db/blob-store';
import type { Db } from '../db/client';
import { EvidenceStore } from '../db/evidence-store';
import { alertsForEvidence } from '../db/incident-alerts';
import { incidentTimeline } from '../db/timeline';
import { agentView } from './inventory';
import { redactValue } from './redact';
import { ConnectorError, handler, type ActionHandler } from './types';

export type EvidenceKind =
  'access_logs' | 'auth_attempts' | 'infra_changes' | 'data_changes' | 'agent_config' | 'traces' | 'alerts';

/** Optional live sources; absent ones are simply not part of the artifact. */
export interface EvidenceSources {
  postgres?: { sessions(roles: string[]): Promise<unknown[]>; roles(roles: string[]): Promise<unknown[]> };
  aws?: { describeKeys(references: string[]): Promise<unknown[]> };
}

export interface EvidenceDeps {
  db: Db;
  /** Where artifacts go (default: DATA_DIR/evidence beside the database). */
  blobs?: BlobStore;
  sources?: EvidenceSources;
  now?: () => Date;
}

export function createEvidenceCollector(deps: EvidenceDeps) {
  const store = new EvidenceStore(deps.db, deps.blobs);
  const now = () => deps.now?.() ?? new Date();

  async function gather(kind: EvidenceKind, agentId: string, incidentId: string, windowMinutes: number) {
    const since = new Date(now().getTime() - windowMinutes * 60_000).toISOString();
    const db = deps.db;
    const agent = await getAgent(db, agentId);
    if (!agent)
      throw new ConnectorError(`no agent ${agentId} in the inventory: import it first (agents import)`);
    const creds = await agentCredentialsOf(db, [agentId]);
    const pgRoles = creds.filter((c) => c.provider === 'postgres').map((c) => c.reference);
    const awsKeys = creds.filter((c) => c.provider === 'aws_iam').map((c) => c.reference);
    const aws = deps.sources?.aws;
    const audit = () => auditEntriesForAgent(db, agentId, since);
    const tl = () => incidentTimeline(db, incidentId);
    const pg = deps.sources?.postgres;
    const data: Record<string, unknown> = {};
    const sources: string[] = [];
    const add = (name: string, value: unknown) => {
      data[name] = value;
      sources.push(name);
    };
    switch (kind) {
      case 'alerts':
        add('db:alerts', await alertsForEvidence(db, incidentId, agentId, since));
        break;
      case 'agent_config':
        add('inventory', agentView(agent, creds));
        break;
      case 'access_logs':
        add('audit_log', await audit());
        if (pg && pgRoles.length) add('postgres:pg_stat_activity', await pg.sessions(pgRoles));
        break;
      case 'auth_attempts':
        add('inventory:credentials', agentView(agent, creds).credentials);
        add(
          'audit_log',
          (await audit()).filter(
            (e) => e.action.startsWith('credentials.') || e.action.startsWith('access.'),
          ),
        );
        if (pg && pgRoles.length) add('postgres:pg_roles', await pg.roles(pgRoles));
        if (aws && awsKeys.length) add('aws:iam_access_keys', await aws.describeKeys(awsKeys));
        break;
      case 'infra_changes':
      case 'data_changes':
        add('audit_log', await audit());
        add('db:timeline', await tl());
        break;
      case 'traces':
        add('db:timeline', await tl());
        break;
    }
    return { data, sources };
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
      const at = now().toISOString();
      const { data, sources } = await gather(p.kind, p.agentId, p.incidentId, p.windowMinutes);
      const doc = {
        kind: p.kind,
        agent_id: p.agentId,
        incident_id: p.incidentId,
        window_minutes: p.windowMinutes,
        collected_at: at,
        sources: data,
      };
      const bytes = Buffer.from(JSON.stringify(redactValue(doc), null, 2) + '\n');
      return store.put(bytes, {
        incidentId: p.incidentId,
        kind: p.kind,
        mediaType: 'application/json',
        source: sources.join(',') || 'none',
        collectedBy: p.collectedBy,
        collectedAt: at,
        agentId: p.agentId,
      });
    },
  };
}

/** The evidence.collect action: collect, then verify by re-hashing the stored artifact. */
export function evidenceCollectHandler(deps: EvidenceDeps): ActionHandler {
  const collector = createEvidenceCollector(deps);
  return handler('evidence.collect', {
    target: (p) => `agent:${p.agent_id}`,
    async act(p, ctx) {
      const art = await collector.collect({
        kind: p.kind,
        agentId: p.agent_id,
        incidentId: ctx.incidentId,
        windowMinutes: p.window_minutes,
        collectedBy: `step:${ctx.stepId}`,
      });
      return {
        summary: `collected ${p.kind} for ${p.agent_id}: ${art.size} bytes, sha256 ${art.sha256}`,
        output: { agent_id: p.agent_id, kind: p.kind, artifacts: [art] },
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
