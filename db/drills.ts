/**
 * The drills table: one row per drill run, written when the drill incident is opened (just
 * before its incident row, so the outbox never starts a drill without it), read when its
 * workflow starts and when it is scored, and finished with its result.
 */
import { desc, eq } from 'drizzle-orm';
import { inTransaction, type Db } from './client';
import { drills } from './schema';

export type DrillRow = typeof drills.$inferSelect;

export async function insertDrill(db: Db, row: Omit<DrillRow, 'finishedAt' | 'result'>): Promise<void> {
  await inTransaction(db, async (tx) => {
    await tx.insert(drills).values(row);
  });
}

export async function drillRow(db: Db, incidentId: string): Promise<DrillRow | undefined> {
  const [row] = await db.select().from(drills).where(eq(drills.incidentId, incidentId));
  return row;
}

export async function finishDrill(
  db: Db,
  incidentId: string,
  status: 'passed' | 'failed' | 'error',
  result: Record<string, unknown>,
  at: string,
): Promise<void> {
  await inTransaction(db, async (tx) => {
    await tx.update(drills).set({ status, result, finishedAt: at }).where(eq(drills.incidentId, incidentId));
  });
}

/** The newest drills first (the console's drill list). */
export async function listDrills(db: Db, limit: number): Promise<DrillRow[]> {
  return db.select().from(drills).orderBy(desc(drills.startedAt)).limit(limit);
}
