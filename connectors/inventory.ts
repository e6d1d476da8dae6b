/**
 * The AI agent inventory: the zod schema for importing agents (API body and YAML/JSON files), the
 * bulk upsert, and reads. Credentials are stored by provider reference only; an import that
 * carries something that looks like a secret value is rejected, naming the field.
 */
import { eq, inArray } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../db/client';
import { agentCredentials, agents } from '../db/schema';

const id = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, 'letters, digits, . _ : - (max 128)');

export const CredentialImport = z
  .object({
    id,
    provider: z.enum(['aws_iam', 'postgres', 'firebreak', 'http']),
    reference: z
      .string()
      .min(1)
      .max(512)
      .describe('Provider id: `<user>/<access key id>`, role name, token id'),
    scopes: z.array(z.string().min(1)).default([]),
    status: z.enum(['active', 'inactive']).default('active'),
    created_at: z.iso.datetime({ offset: true }).optional(),
    last_used_at: z.iso.datetime({ offset: true }).nullable().optional(),
  })
  .strict();

export const AgentImport = z
  .object({
    id,
    name: z.string().min(1).max(200),
    owner: z.string().min(1).max(200),
    team: z.string().min(1).max(200).optional(),
    environment: z.string().min(1).max(64),
    runtime_ref: z.string().min(1).max(500).optional(),
    status: z.enum(['enabled', 'disabled']).default('enabled'),
    credentials: z.array(CredentialImport).default([]),
    tools: z
      .array(z.object({ name: z.string().min(1), description: z.string().optional() }).strict())
      .default([]),
    permissions: z.array(z.string().min(1)).default([]),
  })
  .strict();

export const AgentsImport = z.object({ agents: z.array(AgentImport).min(1).max(1000) }).strict();
export type AgentImport = z.output<typeof AgentImport>;

/** Bulk upsert in one transaction; returns ids created and updated. */
export function upsertAgents(db: Db, list: AgentImport[], at: string) {
  const created: string[] = [];
  const updated: string[] = [];
  db.transaction((tx) => {
    for (const a of list) {
      const prior = tx.select().from(agents).where(eq(agents.id, a.id)).get();
      const statusChanged = prior && prior.status !== a.status;
      const row = {
        id: a.id,
        name: a.name,
        owner: a.owner,
        team: a.team ?? null,
        environment: a.environment,
        runtimeRef: a.runtime_ref ?? null,
        status: a.status,
        statusVersion: prior ? prior.statusVersion + (statusChanged ? 1 : 0) : 1,
        statusChangedAt: statusChanged || !prior ? at : prior.statusChangedAt,
        tools: a.tools,
        permissions: a.permissions,
        createdAt: prior?.createdAt ?? at,
        updatedAt: at,
      };
      tx.insert(agents).values(row).onConflictDoUpdate({ target: agents.id, set: row }).run();
      for (const c of a.credentials) {
        const cred = {
          id: c.id,
          agentId: a.id,
          provider: c.provider,
          reference: c.reference,
          scopes: c.scopes,
          status: c.status,
          createdAt: c.created_at ?? at,
          lastUsedAt: c.last_used_at ?? null,
        };
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

export type AgentRow = typeof agents.$inferSelect;
export type CredentialRow = typeof agentCredentials.$inferSelect;

export function getAgent(db: Db, agentId: string): AgentRow | undefined {
  return db.select().from(agents).where(eq(agents.id, agentId)).get();
}

export function agentCredentialsOf(db: Db, agentIds: string[]): CredentialRow[] {
  if (agentIds.length === 0) return [];
  return db.select().from(agentCredentials).where(inArray(agentCredentials.agentId, agentIds)).all();
}

/** The API/JSON view of an agent with its credentials (references only). */
export function agentView(a: AgentRow, creds: CredentialRow[]) {
  return {
    id: a.id,
    name: a.name,
    owner: a.owner,
    team: a.team,
    environment: a.environment,
    runtime_ref: a.runtimeRef,
    status: a.status,
    status_version: a.statusVersion,
    status_changed_at: a.statusChangedAt,
    tools: a.tools,
    permissions: a.permissions,
    credentials: creds
      .filter((c) => c.agentId === a.id)
      .map((c) => ({
        id: c.id,
        provider: c.provider,
        reference: c.reference,
        scopes: c.scopes,
        status: c.status,
        created_at: c.createdAt,
        last_used_at: c.lastUsedAt,
      })),
    created_at: a.createdAt,
    updated_at: a.updatedAt,
  };
}

export function setCredentialStatus(db: Db, credentialId: string, status: 'active' | 'inactive'): void {
  db.update(agentCredentials).set({ status }).where(eq(agentCredentials.id, credentialId)).run();
}
