/**
 * The AI agent inventory and its credentials (by provider reference only, never a secret): the
 * bulk import (which never changes a stored status nor moves a credential between agents),
 * reads, the kill-switch status (its version only grows; each change audited with its actor),
 * and credential state as the connectors change it.
 */
import { and, asc, desc, eq, inArray } from 'drizzle-orm';
import { insertAuditEntry, recordAuditHead } from './audit';
import { auditSignerOf } from './audit-signer';
import { inTransaction, lockKeys, type Db } from './client';
import { agentCredentials, agents, auditLog, incidents } from './schema';

export type AgentRow = typeof agents.$inferSelect;
export type CredentialRow = typeof agentCredentials.$inferSelect;

/** An agent as imported: the status bookkeeping and timestamps are the store's. */
export type AgentInput = Omit<
  AgentRow,
  'statusVersion' | 'statusChangedAt' | 'statusIncident' | 'blockedTools' | 'createdAt' | 'updatedAt'
> & {
  credentials: CredentialRow[];
};

/** An existing agent whose stored status the import declared otherwise (and left as it was). */
export interface StatusKept {
  id: string;
  status: AgentRow['status'];
  declared: AgentRow['status'];
}

/**
 * An import that would move a credential from the agent holding it to another one. `at` locates
 * the claiming credential in the import: [agent index, credential index].
 */
export class CredentialReassignment extends Error {
  constructor(
    readonly credentialId: string,
    readonly holder: string,
    readonly claimant: string,
    readonly at: [number, number],
  ) {
    super(
      `credential ${credentialId} belongs to agent ${holder}; the import gives it to agent ${claimant}. ` +
        'Credentials are never moved between agents by an import: give it a new id, or remove it from one of them',
    );
    this.name = 'CredentialReassignment';
  }
}

/**
 * Bulk upsert in one transaction; returns ids created and updated. A new agent (or credential)
 * is stored with the status the import gives; an existing one keeps its stored status, because
 * status changes belong to the kill switch and the connectors, which audit them with their
 * actor. A credential id already held by another agent (stored, or earlier in this import)
 * throws CredentialReassignment and nothing is written.
 */
export async function upsertAgents(
  db: Db,
  list: AgentInput[],
  at: string,
): Promise<{ created: string[]; updated: string[]; statusKept: StatusKept[] }> {
  const created: string[] = [];
  const updated: string[] = [];
  const statusKept: StatusKept[] = [];
  await inTransaction(db, async (tx) => {
    for (const [i, { credentials, ...a }] of list.entries()) {
      const prior = await agentRow(tx, a.id);
      if (prior && prior.status !== a.status)
        statusKept.push({ id: a.id, status: prior.status, declared: a.status });
      const row: AgentRow = {
        ...a,
        status: prior?.status ?? a.status,
        statusVersion: prior?.statusVersion ?? 1,
        statusChangedAt: prior?.statusChangedAt ?? at,
        statusIncident: prior?.statusIncident ?? null,
        blockedTools: prior?.blockedTools ?? [],
        createdAt: prior?.createdAt ?? at,
        updatedAt: at,
      };
      await tx.insert(agents).values(row).onConflictDoUpdate({ target: agents.id, set: row });
      for (const [j, cred] of credentials.entries()) {
        const [held] = await tx.select().from(agentCredentials).where(eq(agentCredentials.id, cred.id));
        if (held && held.agentId !== a.id)
          throw new CredentialReassignment(cred.id, held.agentId, a.id, [i, j]);
        const value: CredentialRow = { ...cred, status: held?.status ?? cred.status };
        await tx
          .insert(agentCredentials)
          .values(value)
          .onConflictDoUpdate({ target: agentCredentials.id, set: value });
      }
      (prior ? updated : created).push(a.id);
    }
  });
  return { created, updated, statusKept };
}

/** One agent (also inside a db/ transaction). */
export async function agentRow(db: Db, agentId: string): Promise<AgentRow | undefined> {
  const [row] = await db.select().from(agents).where(eq(agents.id, agentId));
  return row;
}

export async function getAgent(db: Db, agentId: string): Promise<AgentRow | undefined> {
  return agentRow(db, agentId);
}

export async function listAgents(db: Db): Promise<AgentRow[]> {
  return db.select().from(agents).orderBy(asc(agents.id));
}

/** The credentials of these agents (also inside a db/ transaction). */
export async function credentialRows(db: Db, agentIds: string[]): Promise<CredentialRow[]> {
  if (agentIds.length === 0) return [];
  return db.select().from(agentCredentials).where(inArray(agentCredentials.agentId, agentIds));
}

export async function agentCredentialsOf(db: Db, agentIds: string[]): Promise<CredentialRow[]> {
  return credentialRows(db, agentIds);
}

/** The kill-switch state after a change, and whether anything changed (a repeat is a no-op). */
export interface KillSwitchState {
  agent_id: string;
  status: AgentRow['status'];
  version: number;
  blocked_tools: string[];
  changed: boolean;
}

function stateOf(a: AgentRow, changed: boolean): KillSwitchState {
  return {
    agent_id: a.id,
    status: a.status,
    version: a.statusVersion,
    blocked_tools: a.blockedTools,
    changed,
  };
}

/** Who changes an agent's kill-switch state, and for which incident step (for the audit log). */
export interface StatusChange {
  actor: string;
  incidentId?: string;
  stepId?: string;
}

/**
 * Changes the kill-switch state with `change` (status, blocked tools); the version grows, and the
 * incident is recorded, only when the state actually changes. Undefined when the agent is not in
 * the inventory.
 */
async function changeKillSwitch(
  db: Db,
  agentId: string,
  change: (a: AgentRow) => Pick<AgentRow, 'status' | 'blockedTools'>,
  by: StatusChange,
  at: string,
): Promise<KillSwitchState | undefined> {
  const signer = auditSignerOf(db);
  const r = await inTransaction(
    db,
    async (tx) => {
      // Two processes changing one agent take turns: each reads the state the other left.
      await lockKeys(tx, [`agent:${agentId}`]);
      const a = await agentRow(tx, agentId);
      if (!a) return undefined;
      const next = change(a);
      const same =
        next.status === a.status &&
        next.blockedTools.length === a.blockedTools.length &&
        next.blockedTools.every((t, i) => t === a.blockedTools[i]);
      if (same) return { state: stateOf(a, false) };
      const set = {
        ...next,
        statusVersion: a.statusVersion + 1,
        statusIncident: by.incidentId ?? null,
        statusChangedAt: at,
      };
      await tx
        .update(agents)
        .set({ ...set, updatedAt: at })
        .where(eq(agents.id, agentId));
      const audit = await insertAuditEntry(tx, signer, {
        at,
        actor: by.actor,
        action: next.status === a.status ? 'inventory.tools' : 'inventory.status',
        target: `agent:${agentId}`,
        incidentId: by.incidentId ?? null,
        stepId: by.stepId ?? null,
        inputs: { agent_id: agentId, status: next.status, blocked_tools: next.blockedTools },
        outcome: 'changed',
        detail:
          next.status === a.status
            ? { from: a.blockedTools, to: next.blockedTools, version: set.statusVersion }
            : { from: a.status, to: next.status, version: set.statusVersion },
        durationMs: 0,
      });
      return { state: stateOf({ ...a, ...set }, true), audit };
    },
    'immediate',
  );
  if (r?.audit) recordAuditHead(db, r.audit);
  return r?.state;
}

/** Sets the kill-switch status (`by.incidentId`: what caused the change, carried in status documents). */
export async function setAgentStatus(
  db: Db,
  agentId: string,
  status: AgentRow['status'],
  at: string,
  by: StatusChange,
): Promise<KillSwitchState | undefined> {
  return changeKillSwitch(db, agentId, (a) => ({ status, blockedTools: a.blockedTools }), by, at);
}

/** Blocks (or allows again) these tools of the agent; the list is kept sorted and unique. */
export async function setToolsBlocked(
  db: Db,
  agentId: string,
  tools: string[],
  blocked: boolean,
  at: string,
  by: StatusChange,
): Promise<KillSwitchState | undefined> {
  return changeKillSwitch(
    db,
    agentId,
    (a) => {
      const set = new Set(a.blockedTools);
      for (const t of tools) {
        if (blocked) set.add(t);
        else set.delete(t);
      }
      return { status: a.status, blockedTools: [...set].sort() };
    },
    by,
    at,
  );
}

/** Every agent's kill-switch version: what the OFREP event stream watches for changes. */
export async function killSwitchVersions(db: Db): Promise<Map<string, number>> {
  const rows = await db.select({ id: agents.id, v: agents.statusVersion }).from(agents);
  return new Map(rows.map((r) => [r.id, r.v]));
}

export async function setCredentialStatus(
  db: Db,
  credentialId: string,
  status: CredentialRow['status'],
): Promise<void> {
  await inTransaction(db, async (tx) => {
    await tx.update(agentCredentials).set({ status }).where(eq(agentCredentials.id, credentialId));
  });
}

/** A rotation: the replacement is stored active (once) and the old credential set inactive. */
export async function recordRotation(db: Db, oldId: string, replacement: CredentialRow): Promise<void> {
  await inTransaction(db, async (tx) => {
    await tx.insert(agentCredentials).values(replacement).onConflictDoNothing();
    await tx.update(agentCredentials).set({ status: 'inactive' }).where(eq(agentCredentials.id, oldId));
  });
}

/**
 * The incident, still open, whose action disabled this (now disabled) agent: the last
 * `inventory.status` change in the audit log names it. Only that incident's release may enable
 * the agent again (connectors/kill-switch.ts).
 */
export async function openDisablingIncident(db: Db, agentId: string): Promise<string | undefined> {
  const a = await agentRow(db, agentId);
  if (a?.status !== 'disabled') return undefined;
  const [last] = await db
    .select({ incidentId: auditLog.incidentId })
    .from(auditLog)
    .where(and(eq(auditLog.action, 'inventory.status'), eq(auditLog.target, `agent:${agentId}`)))
    .orderBy(desc(auditLog.seq))
    .limit(1);
  if (!last?.incidentId) return undefined;
  const [inc] = await db
    .select({ status: incidents.status })
    .from(incidents)
    .where(eq(incidents.id, last.incidentId));
  return inc && inc.status !== 'closed' ? last.incidentId : undefined;
}
