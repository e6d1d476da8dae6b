/**
 * Post-mortems and their action items. `postmortemFacts` reads everything a report is rendered
 * from in one read transaction, so the facts and the timeline id they cover are one snapshot;
 * the stored report is served while no newer timeline event exists, and each save is the next
 * revision. Action items are registered once per (incident, step).
 */
import { asc, eq } from 'drizzle-orm';
import type { ActivityArtifact } from '../domain/agent-activity';
import { actionRunRows, type ActionRunRow } from './action-runs';
import { agentRow, credentialRows, type AgentRow, type CredentialRow } from './agents';
import { incidentAuditRows, type AuditRow } from './audit';
import { inTransaction, lockKeys, repeatableRead, type Db } from './client';
import { custodyRows, type CustodyRow } from './evidence';
import { EvidenceStore } from './evidence-store';
import { incidentAlertRows, type AlertRow } from './incident-alerts';
import type { IncidentRow } from './incidents';
import { actionItems, incidents, playbookSteps, postmortems } from './schema';
import { lastTimelineId, timelineRows, type TimelineRow } from './timeline';

export type PostmortemRow = typeof postmortems.$inferSelect;
export type ActionItemRow = typeof actionItems.$inferSelect;
export type StepRow = typeof playbookSteps.$inferSelect;

/** What an incident's post-mortem is built from, read in one snapshot. */
export interface PostmortemFacts {
  incident: IncidentRow;
  events: TimelineRow[];
  alerts: AlertRow[];
  runs: ActionRunRow[];
  /** The incident's agent and every agent its alerts named, with their credentials. */
  agents: { id: string; agent: AgentRow | undefined; credentials: CredentialRow[] }[];
  evidence: CustodyRow[];
  /** The collected agent_traces and gateway_tool_calls artifacts, parsed (for "What the agent did"). */
  activityArtifacts: ActivityArtifact[];
  audits: AuditRow[];
  actionItems: ActionItemRow[];
  steps: StepRow[];
  /** The newest timeline event these facts include. */
  coversTimelineId: number;
}

async function itemRows(db: Db, incidentId: string): Promise<{ items: ActionItemRow[]; steps: StepRow[] }> {
  return {
    items: await db
      .select()
      .from(actionItems)
      .where(eq(actionItems.incidentId, incidentId))
      .orderBy(asc(actionItems.id)),
    steps: await db.select().from(playbookSteps).where(eq(playbookSteps.incidentId, incidentId)),
  };
}

const ACTIVITY_KINDS = ['agent_traces', 'gateway_tool_calls'];

/** The artifacts "What the agent did" reads; one that no longer hashes to its name is left out. */
async function activityArtifacts(db: Db, rows: CustodyRow[]): Promise<ActivityArtifact[]> {
  const store = new EvidenceStore(db);
  const out: ActivityArtifact[] = [];
  const seen = new Set<string>();
  for (const r of rows) {
    if (!ACTIVITY_KINDS.includes(r.kind) || r.mediaType !== 'application/json' || seen.has(r.sha256))
      continue;
    seen.add(r.sha256);
    try {
      out.push({
        sha256: r.sha256,
        kind: r.kind,
        doc: JSON.parse((await store.read(r.sha256)).toString('utf8')),
      });
    } catch {
      // Corrupt or unreadable: the evidence section shows it; its entries cannot be trusted.
    }
  }
  return out;
}

export async function postmortemFacts(db: Db, incidentId: string): Promise<PostmortemFacts | undefined> {
  const facts = await snapshotFacts(db, incidentId);
  return facts && { ...facts, activityArtifacts: await activityArtifacts(db, facts.evidence) };
}

async function snapshotFacts(
  db: Db,
  incidentId: string,
): Promise<Omit<PostmortemFacts, 'activityArtifacts'> | undefined> {
  return inTransaction(db, async (tx) => {
    // One snapshot on PostgreSQL too (READ COMMITTED would let each read see newer commits).
    await repeatableRead(tx);
    const [incident] = await tx.select().from(incidents).where(eq(incidents.id, incidentId));
    if (!incident) return undefined;
    const coversTimelineId = await lastTimelineId(tx, incidentId);
    const alerts = await incidentAlertRows(tx, incidentId);
    const agentIds = [
      ...new Set([incident.agentId, ...alerts.map((a) => a.agentId)].filter((x): x is string => !!x)),
    ];
    const { items, steps } = await itemRows(tx, incidentId);
    const agents = [];
    for (const id of agentIds)
      agents.push({ id, agent: await agentRow(tx, id), credentials: await credentialRows(tx, [id]) });
    return {
      incident,
      events: await timelineRows(tx, incidentId),
      alerts,
      runs: await actionRunRows(tx, incidentId),
      agents,
      evidence: await custodyRows(tx, incidentId),
      audits: await incidentAuditRows(tx, incidentId),
      actionItems: items,
      steps,
      coversTimelineId,
    };
  });
}

/** The incident's tracked action items and its step rows (an item's status is its step's). */
export async function actionItemsOf(
  db: Db,
  incidentId: string,
): Promise<{ items: ActionItemRow[]; steps: StepRow[] }> {
  return inTransaction(db, (tx) => itemRows(tx, incidentId));
}

/** The stored report as last saved, stale or not. */
export async function storedPostmortem(db: Db, incidentId: string): Promise<PostmortemRow | undefined> {
  const [row] = await db.select().from(postmortems).where(eq(postmortems.incidentId, incidentId));
  return row;
}

/** The stored report, while no timeline event came after the ones it covers. */
export async function freshPostmortem(db: Db, incidentId: string): Promise<PostmortemRow | undefined> {
  return inTransaction(db, async (tx) => {
    await repeatableRead(tx);
    const [stored] = await tx.select().from(postmortems).where(eq(postmortems.incidentId, incidentId));
    return stored && stored.coversTimelineId >= (await lastTimelineId(tx, incidentId)) ? stored : undefined;
  });
}

/** Stores a rendered report as the incident's next revision and returns the stored row. */
export async function savePostmortem(db: Db, pm: Omit<PostmortemRow, 'revision'>): Promise<PostmortemRow> {
  return inTransaction(
    db,
    async (tx) => {
      // Concurrent saves (two worker processes) each get their own revision.
      await lockKeys(tx, [`postmortem:${pm.incidentId}`]);
      const [prev] = await tx
        .select({ revision: postmortems.revision })
        .from(postmortems)
        .where(eq(postmortems.incidentId, pm.incidentId));
      const row = { ...pm, revision: (prev?.revision ?? 0) + 1 };
      await tx
        .insert(postmortems)
        .values(row)
        .onConflictDoUpdate({ target: postmortems.incidentId, set: row });
      return row;
    },
    'immediate',
  );
}

/** Adds the declared items once; the owner is the assignee, else the agent's owner. */
export async function registerActionItems(
  db: Db,
  incidentId: string,
  items: { stepId: string; phase: string; title: string; assignee?: string; checklist?: string[] }[],
  at: string,
): Promise<void> {
  if (items.length === 0) return;
  await inTransaction(db, async (tx) => {
    const [inc] = await tx.select().from(incidents).where(eq(incidents.id, incidentId));
    const agent = inc?.agentId ? await agentRow(tx, inc.agentId) : undefined;
    for (const item of items) {
      await tx
        .insert(actionItems)
        .values({
          incidentId,
          stepId: item.stepId,
          phase: item.phase,
          title: item.title,
          owner: item.assignee ?? agent?.owner ?? 'unassigned',
          checklist: item.checklist ?? [],
          createdAt: at,
        })
        .onConflictDoNothing({ target: [actionItems.incidentId, actionItems.stepId] });
    }
  });
}
