/**
 * Reads of the alerts stored for incidents, for the readers that are not intake: the incident
 * detail's latest alert, evidence collection, post-mortems, drill replays and the ingest
 * benchmark's backlog. Intake writes and dispatches them (db/alerts.ts).
 */
import { and, asc, count, eq, gte, isNull, or } from 'drizzle-orm';
import { inTransaction, type Db } from './client';
import { alerts } from './schema';

export type AlertRow = typeof alerts.$inferSelect;

export async function getAlert(db: Db, alertId: string): Promise<AlertRow | undefined> {
  const [row] = await db.select().from(alerts).where(eq(alerts.id, alertId));
  return row;
}

/** Stores an alert row as given, attached to an existing incident (intake's path is db/alerts). */
export async function insertAlert(db: Db, row: typeof alerts.$inferInsert): Promise<void> {
  await inTransaction(db, async (tx) => {
    await tx.insert(alerts).values(row);
  });
}

/** An incident's alerts in the order received (also inside a db/ transaction). */
export async function incidentAlertRows(db: Db, incidentId: string): Promise<AlertRow[]> {
  return db.select().from(alerts).where(eq(alerts.incidentId, incidentId)).orderBy(asc(alerts.seq));
}

export async function alertsOfIncident(db: Db, incidentId: string): Promise<AlertRow[]> {
  return incidentAlertRows(db, incidentId);
}

/** The incident's alerts and the agent's alerts received since `since`, in order received. */
export async function alertsForEvidence(
  db: Db,
  incidentId: string,
  agentId: string,
  since: string,
): Promise<AlertRow[]> {
  return db
    .select()
    .from(alerts)
    .where(
      or(eq(alerts.incidentId, incidentId), and(eq(alerts.agentId, agentId), gte(alerts.receivedAt, since))),
    )
    .orderBy(asc(alerts.seq));
}

/** Every alert stored, dispatched or not. */
export async function countAlerts(db: Db): Promise<number> {
  const [row] = await db.select({ n: count() }).from(alerts);
  return row?.n ?? 0;
}

/** Alerts stored but not yet handed to their incident workflow. */
export async function undispatchedAlertCount(db: Db): Promise<number> {
  const [row] = await db.select({ n: count() }).from(alerts).where(isNull(alerts.dispatchedAt));
  return row?.n ?? 0;
}
