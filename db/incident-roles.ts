/**
 * Who holds which response role (commander, scribe, …) in an incident; the latest assignment
 * wins, and each assignment is on the timeline and in the audit log with it.
 */
import { eq } from 'drizzle-orm';
import { insertAuditEntry, recordAuditHead } from './audit';
import { auditSignerOf } from './audit-signer';
import { inTransaction, type Db } from './client';
import { incidentRoles } from './schema';
import { insertTimelineEvent, type TimelineEvent } from './timeline';

export type RoleRow = typeof incidentRoles.$inferSelect;

export async function rolesOf(db: Db, incidentId: string): Promise<RoleRow[]> {
  return db.select().from(incidentRoles).where(eq(incidentRoles.incidentId, incidentId));
}

/**
 * Assigns the role and records `event` on the timeline and the assignment in the audit log (by
 * `assignedBy`), in one transaction; a repeated event key (a retried command) changes nothing.
 */
export async function assignRole(db: Db, role: RoleRow, event: TimelineEvent, at: string): Promise<void> {
  const signer = auditSignerOf(db);
  const row = await inTransaction(
    db,
    async (tx) => {
      if (!(await insertTimelineEvent(tx, event, at))) return undefined;
      await tx
        .insert(incidentRoles)
        .values(role)
        .onConflictDoUpdate({
          target: [incidentRoles.incidentId, incidentRoles.role],
          set: { userId: role.userId, assignedBy: role.assignedBy, assignedAt: role.assignedAt },
        });
      return insertAuditEntry(tx, signer, {
        at: role.assignedAt,
        actor: role.assignedBy,
        action: 'role.assign',
        target: `incident:${role.incidentId}/role:${role.role}`,
        incidentId: role.incidentId,
        stepId: null,
        inputs: { role: role.role, user_id: role.userId },
        outcome: 'accepted',
        detail: { event_key: event.eventKey },
        durationMs: 0,
      });
    },
    'immediate',
  );
  if (row) recordAuditHead(db, row);
}
