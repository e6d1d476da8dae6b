/**
 * Reads of the incidents projection, the table the API, Slack and drills read: one incident by
 * id, and the newest-first list the API pages through by an (opened_at, id) keyset. The incident
 * workflow's writes to it are in incident-projection.ts; intake opens incidents (db/alerts).
 */
import { and, count, desc, eq, isNotNull, isNull, lt, or, type SQL } from 'drizzle-orm';
import { inTransaction, type Db } from './client';
import { incidents } from './schema';

export type IncidentRow = typeof incidents.$inferSelect;

export async function getIncident(db: Db, incidentId: string): Promise<IncidentRow | undefined> {
  const [row] = await db.select().from(incidents).where(eq(incidents.id, incidentId));
  return row;
}

/** Stores an incident row as given (intake opens incidents from alerts in db/alerts). */
export async function insertIncident(db: Db, row: typeof incidents.$inferInsert): Promise<void> {
  await inTransaction(db, async (tx) => {
    await tx.insert(incidents).values(row);
  });
}

export async function incidentExists(db: Db, incidentId: string): Promise<boolean> {
  const found = await db.select({ id: incidents.id }).from(incidents).where(eq(incidents.id, incidentId));
  return found.length > 0;
}

/** Every incident stored, whatever its status or mode. */
export async function countIncidents(db: Db): Promise<number> {
  const [row] = await db.select({ n: count() }).from(incidents);
  return row?.n ?? 0;
}

export interface IncidentFilter {
  status?: IncidentRow['status'];
  severity?: IncidentRow['severity'];
  agentId?: string;
  mode?: IncidentRow['mode'];
  /** Only incidents marked as needing attention (true) or not (false). */
  needsAttention?: boolean;
  /** Only incidents that sort after this one (older, or the same time with a smaller id). */
  after?: { openedAt: string; id: string };
  limit: number;
}

/** Newest first by (opened_at, id): stable paging while new incidents arrive. */
export async function listIncidents(db: Db, f: IncidentFilter): Promise<IncidentRow[]> {
  const where: (SQL | undefined)[] = [
    f.status ? eq(incidents.status, f.status) : undefined,
    f.severity ? eq(incidents.severity, f.severity) : undefined,
    f.agentId ? eq(incidents.agentId, f.agentId) : undefined,
    f.mode ? eq(incidents.mode, f.mode) : undefined,
    f.needsAttention === undefined
      ? undefined
      : f.needsAttention
        ? isNotNull(incidents.needsAttentionAt)
        : isNull(incidents.needsAttentionAt),
  ];
  if (f.after) {
    const { openedAt, id } = f.after;
    where.push(
      or(lt(incidents.openedAt, openedAt), and(eq(incidents.openedAt, openedAt), lt(incidents.id, id))),
    );
  }
  return db
    .select()
    .from(incidents)
    .where(and(...where))
    .orderBy(desc(incidents.openedAt), desc(incidents.id))
    .limit(f.limit);
}

/** How many incidents there are per status, severity and mode (the console's counts). */
export async function incidentCounts(
  db: Db,
): Promise<
  { status: IncidentRow['status']; severity: IncidentRow['severity']; mode: IncidentRow['mode']; n: number }[]
> {
  return db
    .select({ status: incidents.status, severity: incidents.severity, mode: incidents.mode, n: count() })
    .from(incidents)
    .groupBy(incidents.status, incidents.severity, incidents.mode);
}
