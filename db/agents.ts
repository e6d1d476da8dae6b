/**
 * The AI agent inventory and its credentials (by provider reference only, never a secret): the
 * bulk import, reads, the kill-switch status (its version only grows), and credential state as
 * the connectors change it.
 */
import { asc, eq, inArray } from 'drizzle-orm';
import { inTransaction, type Db } from './client';
import { agentCredentials, agents } from './schema';

export type AgentRow = typeof agents.$inferSelect;
export type CredentialRow = typeof agentCredentials.$inferSelect;

/** An agent as imported: the status bookkeeping and timestamps are the store's. */
export type AgentInput = Omit<AgentRow, 'statusVersion' | 'statusChangedAt' | 'createdAt' | 'updatedAt'> & {
  credentials: CredentialRow[];
};

/**
 * Bulk upsert in one transaction; returns ids created and updated. A changed status bumps its
 * version, so runtimes holding the old one see the change.
 */
export async function upsertAgents(
  db: Db,
  list: AgentInput[],
  at: string,
): Promise<{ created: string[]; updated: string[] }> {
  const created: string[] = [];
  const updated: string[] = [];
  inTransaction(db, (tx) => {
    for (const { credentials, ...a } of list) {
      const prior = tx.select().from(agents).where(eq(agents.id, a.id)).get();
      const statusChanged = prior && prior.status !== a.status;
      const row: AgentRow = {
        ...a,
        statusVersion: prior ? prior.statusVersion + (statusChanged ? 1 : 0) : 1,
        statusChangedAt: statusChanged || !prior ? at : prior.statusChangedAt,
        createdAt: prior?.createdAt ?? at,
        updatedAt: at,
      };
      tx.insert(agents).values(row).onConflictDoUpdate({ target: agents.id, set: row }).run();
      for (const cred of credentials) {
        tx.insert(agentCredentials)
          .values(cred)
          .onConflictDoUpdate({ target: agentCredentials.id, set: cred })
          .run();
      }
      (prior ? updated : created).push(a.id);
    }
  });
  return { created, updated };
}

/** Inside a db/ transaction: one agent. */
export function agentRow(db: Db, agentId: string): AgentRow | undefined {
  return db.select().from(agents).where(eq(agents.id, agentId)).get();
}

export async function getAgent(db: Db, agentId: string): Promise<AgentRow | undefined> {
  return agentRow(db, agentId);
}

export async function listAgents(db: Db): Promise<AgentRow[]> {
  return db.select().from(agents).orderBy(asc(agents.id)).all();
}

/** Inside a db/ transaction: the credentials of these agents. */
export function credentialRows(db: Db, agentIds: string[]): CredentialRow[] {
  if (agentIds.length === 0) return [];
  return db.select().from(agentCredentials).where(inArray(agentCredentials.agentId, agentIds)).all();
}

export async function agentCredentialsOf(db: Db, agentIds: string[]): Promise<CredentialRow[]> {
  return credentialRows(db, agentIds);
}

/**
 * Sets the kill-switch status; the version grows only when it actually changes (a repeat is a
 * no-op). Undefined when the agent is not in the inventory.
 */
export async function setAgentStatus(
  db: Db,
  agentId: string,
  status: AgentRow['status'],
  at: string,
): Promise<{ agent_id: string; status: AgentRow['status']; version: number; changed: boolean } | undefined> {
  return inTransaction(db, (tx) => {
    const a = agentRow(tx, agentId);
    if (!a) return undefined;
    if (a.status === status) return { agent_id: a.id, status, version: a.statusVersion, changed: false };
    const version = a.statusVersion + 1;
    tx.update(agents)
      .set({ status, statusVersion: version, statusChangedAt: at, updatedAt: at })
      .where(eq(agents.id, agentId))
      .run();
    return { agent_id: a.id, status, version, changed: true };
  });
}

export async function setCredentialStatus(
  db: Db,
  credentialId: string,
  status: CredentialRow['status'],
): Promise<void> {
  db.update(agentCredentials).set({ status }).where(eq(agentCredentials.id, credentialId)).run();
}

/** A rotation: the replacement is stored active (once) and the old credential set inactive. */
export async function recordRotation(db: Db, oldId: string, replacement: CredentialRow): Promise<void> {
  inTransaction(db, (tx) => {
    tx.insert(agentCredentials).values(replacement).onConflictDoNothing().run();
    tx.update(agentCredentials).set({ status: 'inactive' }).where(eq(agentCredentials.id, oldId)).run();
  });
}
