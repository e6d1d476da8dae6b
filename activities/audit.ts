/**
 * Writing to the audit log: every connector action is appended with its actor, target, inputs
 * and detail redacted here, before they reach storage. The chain itself (hashing, the head file,
 * verification) is db/audit.ts.
 */
import { redactString, redactValue } from '../connectors/redact';
import { appendAuditEntry, type AuditRow } from '../db/audit';
import type { Db } from '../db/client';

export { canonicalJson, GENESIS_HASH, verifyAuditChain, type AuditVerification } from '../db/audit';

export interface AuditEntry {
  at: string;
  actor: string;
  action: string;
  target: string;
  incidentId?: string | null;
  stepId?: string | null;
  inputs: Record<string, unknown>;
  outcome: string;
  detail?: Record<string, unknown>;
  durationMs: number;
}

/** Appends one entry, redacted, to the hash chain (with `alongside` in its transaction). */
export async function appendAudit(
  db: Db,
  e: AuditEntry,
  alongside?: (tx: Db) => Promise<void>,
): Promise<AuditRow> {
  return appendAuditEntry(
    db,
    {
      at: e.at,
      actor: redactString(e.actor),
      action: e.action,
      target: redactString(e.target),
      incidentId: e.incidentId ?? null,
      stepId: e.stepId ?? null,
      inputs: redactValue(e.inputs) as Record<string, unknown>,
      outcome: e.outcome,
      detail: redactValue(e.detail ?? {}) as Record<string, unknown>,
      durationMs: Math.round(e.durationMs),
    },
    alongside,
  );
}
