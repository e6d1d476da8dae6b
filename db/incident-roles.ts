/**
 * Who holds which response role (commander, scribe, …) in an incident; the latest assignment
 * wins, and each assignment is on the timeline with it.
 */
import { eq } from 'drizzle-orm';
import { inTransaction, type Db } from './client';
import { incidentRoles } from './schema';
import { insertTimelineEvent, type TimelineEvent } from './timeline';

export type RoleRow = typeof incidentRoles.$inferSelect;

export async function rolesOf(db: Db, incidentId: string): Promise<RoleRow[]> {
  return db.select().from(incidentRoles).where(eq(incidentRoles.incidentId, incidentId)).all();
}

/** Assigns the role and records `event` on the timeline, in one transaction. */
export async function assignRole(db: Db, role: RoleRow, event: TimelineEvent, at: string): Promise<void> {
  inTransaction(db, (tx) => {
    tx.insert(incidentRoles)
      .values(role)
      .onConflictDoUpdate({
        target: [incidentRoles.incidentId, incidentRoles.role],
        set: { userId: role.userId, assignedBy: role.assignedBy, assignedAt: role.assignedAt },
      })
      .run();
    insertTimelineEvent(tx, event, at);
  });
}
