/**
 * Chain of custody: one row per (incident, artifact) saying who collected it, when, from where,
 * its hash and size. The artifacts themselves are files (activities/evidence-store.ts).
 */
import { and, asc, eq } from 'drizzle-orm';
import { inTransaction, type Db } from './client';
import { evidence } from './schema';

export type CustodyRow = typeof evidence.$inferSelect;

/** Records custody once per (incident, artifact): a repeat collection keeps the first record. */
export async function recordCustody(db: Db, row: Omit<CustodyRow, 'id'>): Promise<void> {
  await inTransaction(db, async (tx) => {
    await tx.insert(evidence).values(row).onConflictDoNothing();
  });
}

/** An incident's custody records in the order collected (also inside a db/ transaction). */
export async function custodyRows(db: Db, incidentId: string): Promise<CustodyRow[]> {
  return db.select().from(evidence).where(eq(evidence.incidentId, incidentId)).orderBy(asc(evidence.id));
}

export async function custodyOf(db: Db, incidentId: string): Promise<CustodyRow[]> {
  return custodyRows(db, incidentId);
}

export async function custodyRecord(
  db: Db,
  incidentId: string,
  sha256: string,
): Promise<CustodyRow | undefined> {
  const [row] = await db
    .select()
    .from(evidence)
    .where(and(eq(evidence.incidentId, incidentId), eq(evidence.sha256, sha256)));
  return row;
}
