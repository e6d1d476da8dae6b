/**
 * The AI agent inventory: the zod schema for importing agents (API body and YAML/JSON files), the
 * bulk upsert (stored by db/agents.ts) with its audit entry, and the API view. Credentials are
 * stored by provider reference only; an import that carries something that looks like a secret
 * value is rejected, naming the field. An import never changes the status of an agent or
 * credential that is already stored (that is the kill switch's and the connectors' job, audited
 * as actions) and never moves a credential from one agent to another.
 */
import { z } from 'zod';
import { upsertAgents as storeAgents, type AgentRow, type CredentialRow } from '../db/agents';
import { appendAuditEntry } from '../db/audit';
import type { Db } from '../db/client';
import { redactString } from './redact';

export { CredentialReassignment } from '../db/agents';
export type { AgentRow, CredentialRow, StatusKept } from '../db/agents';

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
    status: z
      .enum(['active', 'inactive'])
      .default('active')
      .describe('For a new credential only: a stored one keeps the status the connectors gave it'),
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
    status: z
      .enum(['enabled', 'disabled'])
      .default('enabled')
      .describe('For a new agent only: a stored agent keeps its status (only the kill switch changes it)'),
    credentials: z.array(CredentialImport).default([]),
    tools: z
      .array(z.object({ name: z.string().min(1), description: z.string().optional() }).strict())
      .default([]),
    permissions: z.array(z.string().min(1)).default([]),
  })
  .strict();

export const AgentsImport = z.object({ agents: z.array(AgentImport).min(1).max(1000) }).strict();
export type AgentImport = z.output<typeof AgentImport>;

/**
 * Bulk upsert in one transaction, then one audit entry naming `actor`; returns ids created and
 * updated, and the agents whose declared status was not applied (`status_kept`). Throws
 * CredentialReassignment, writing nothing, when a credential id is held by another agent.
 */
export async function upsertAgents(db: Db, list: AgentImport[], at: string, actor: string) {
  const t0 = performance.now();
  const r = await storeAgents(
    db,
    list.map((a) => ({
      id: a.id,
      name: a.name,
      owner: a.owner,
      team: a.team ?? null,
      environment: a.environment,
      runtimeRef: a.runtime_ref ?? null,
      status: a.status,
      tools: a.tools,
      permissions: a.permissions,
      credentials: a.credentials.map((c) => ({
        id: c.id,
        agentId: a.id,
        provider: c.provider,
        reference: c.reference,
        scopes: c.scopes,
        status: c.status,
        createdAt: c.created_at ?? at,
        lastUsedAt: c.last_used_at ?? null,
      })),
    })),
    at,
  );
  const result = { created: r.created, updated: r.updated, status_kept: r.statusKept };
  await appendAuditEntry(db, {
    at,
    actor: redactString(actor),
    action: 'inventory.import',
    target: 'inventory',
    incidentId: null,
    stepId: null,
    inputs: { agents: list.map((a) => a.id) },
    outcome: 'ok',
    detail: result,
    durationMs: Math.round(performance.now() - t0),
  });
  return result;
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
