/**
 * Chain of custody: one row per (incident, artifact) saying who collected it, when, from where,
 * its hash and size. The artifacts themselves are files (activities/evidence-store.ts).
 */
import { and, asc, eq } from 'drizzle-orm';
import type { Db } from './client';
import { evidence } from './schema';

export type CustodyRow = typeof evidence.$inferSelect;

/** Records custody once per (incident, artifact): a repeat collection keeps the first record. */
export async function recordCustody(db: Db, row: Omit<CustodyRow, 'id'>): Promise<void> {
  db.insert(evidence).values(row).onConflictDoNothing().run();
}

/** Inside a db/ transaction: an incident's custody records in the order collected. */
export function custodyRows(db: Db, incidentId: string): CustodyRow[] {
  return db
    .select()
    .from(evidence)
    .where(eq(evidence.incidentId, incidentId))
    .orderBy(asc(evidence.id))
    .all();
}

export async function custodyOf(db: Db, incidentId: string): Promise<CustodyRow[]> {
  return custodyRows(db, incidentId);
}

export async function custodyRecord(
  db: Db,
  incidentId: string,
  sha256: string,
): Promise<CustodyRow | undefined> {
  return db
    .select()
    .from(evidence)
    .where(and(eq(evidence.incidentId, incidentId), eq(evidence.sha256, sha256)))
    .get();
}
