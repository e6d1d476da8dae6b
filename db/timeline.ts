/**
 * The incident timeline: every event of an incident, in the order written. An event's key makes
 * a retried write a no-op, so an activity retried after a crash never doubles an event. The
 * `insertTimelineEvent` helper is for the other db/ modules, which add an event in the same
 * transaction as the change it reports; a decision's event carries its audit entry in
 * that transaction too.
 */
import { and, asc, desc, eq, gt } from 'drizzle-orm';
import { insertAuditEntry, recordAuditHead, type AuditContent } from './audit';
import { auditSignerOf } from './audit-signer';
import { inTransaction, type Db } from './client';
import { timeline } from './schema';

export type TimelineRow = typeof timeline.$inferSelect;

export interface TimelineEvent {
  incidentId: string;
  kind: string;
  actor: string;
  message: string;
  data?: Record<string, unknown>;
  /** Unique per event: a retry with the same key writes nothing. */
  eventKey: string;
  at?: string;
}

/** Inside a db/ transaction: adds the event unless its key was written before; true when added. */
export async function insertTimelineEvent(db: Db, e: TimelineEvent, at: string): Promise<boolean> {
  const added = await db
    .insert(timeline)
    .values({
      incidentId: e.incidentId,
      at: e.at ?? at,
      kind: e.kind,
      actor: e.actor,
      message: e.message,
      data: e.data ?? null,
      eventKey: e.eventKey,
    })
    .onConflictDoNothing({ target: timeline.eventKey })
    .returning({ id: timeline.id });
  return added.length > 0;
}

/**
 * Adds a decision's event and, only when the event is new, its audit entry, in one write
 * transaction: a retried write (same event key) audits nothing twice, and a decision on the
 * timeline is never missing from the audit log.
 */
export async function appendAuditedTimelineEvent(
  db: Db,
  e: TimelineEvent,
  audit: AuditContent,
  at: string,
): Promise<void> {
  const signer = auditSignerOf(db);
  const row = await inTransaction(
    db,
    async (tx) => ((await insertTimelineEvent(tx, e, at)) ? insertAuditEntry(tx, signer, audit) : undefined),
    'immediate',
  );
  if (row) recordAuditHead(db, row);
}

/** Adds one event (`at` unless the event carries its own time); a repeated key writes nothing. */
export async function appendTimelineEvent(db: Db, e: TimelineEvent, at: string): Promise<void> {
  await inTransaction(db, (tx) => insertTimelineEvent(tx, e, at));
}

/** Every event of an incident, in the order written (also inside a db/ transaction). */
export async function timelineRows(db: Db, incidentId: string): Promise<TimelineRow[]> {
  return db.select().from(timeline).where(eq(timeline.incidentId, incidentId)).orderBy(asc(timeline.id));
}

/** Every timeline event of an incident, in the order they were written. */
export async function incidentTimeline(db: Db, incidentId: string): Promise<TimelineRow[]> {
  return timelineRows(db, incidentId);
}

/** Every incident's events, in the order they were written. */
export async function allTimelineEvents(db: Db): Promise<TimelineRow[]> {
  return db.select().from(timeline).orderBy(asc(timeline.id));
}

/** Up to `limit` events after event id `afterId` (from the start without one), in order. */
export async function timelinePage(
  db: Db,
  incidentId: string,
  afterId: number | undefined,
  limit: number,
): Promise<TimelineRow[]> {
  return db
    .select()
    .from(timeline)
    .where(
      and(eq(timeline.incidentId, incidentId), afterId === undefined ? undefined : gt(timeline.id, afterId)),
    )
    .orderBy(asc(timeline.id))
    .limit(limit);
}

/** The id of the incident's newest event, 0 for none (also inside a db/ transaction). */
export async function lastTimelineId(db: Db, incidentId: string): Promise<number> {
  const [row] = await db
    .select({ id: timeline.id })
    .from(timeline)
    .where(eq(timeline.incidentId, incidentId))
    .orderBy(desc(timeline.id))
    .limit(1);
  return row?.id ?? 0;
}
