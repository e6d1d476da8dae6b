/**
 * action_runs: one row per (incident, step) action, the idempotency record of executeAction. A
 * run is begun (a `started` row, unless one exists) before acting and finished with its result;
 * a retry finds the finished row and returns its result instead of acting again, and a `started`
 * row left by a crash tells the next attempt to check the target first.
 */
import { and, asc, eq } from 'drizzle-orm';
import { inTransaction, type Db } from './client';
import { actionRuns } from './schema';

export type ActionRunRow = typeof actionRuns.$inferSelect;

const stepOf = (incidentId: string, stepId: string) =>
  and(eq(actionRuns.incidentId, incidentId), eq(actionRuns.stepId, stepId));

/**
 * The run's row as an earlier attempt left it, if any; when there was none, a `started` row is
 * written for this attempt (the unique (incident, step) index keeps a concurrent one to one row).
 */
export async function beginActionRun(
  db: Db,
  run: Pick<ActionRunRow, 'incidentId' | 'stepId' | 'action' | 'mode' | 'params' | 'startedAt'>,
): Promise<ActionRunRow | undefined> {
  return inTransaction(db, async (tx) => {
    const [prior] = await tx.select().from(actionRuns).where(stepOf(run.incidentId, run.stepId));
    if (!prior)
      await tx
        .insert(actionRuns)
        .values({ ...run, status: 'started' })
        .onConflictDoNothing();
    return prior;
  });
}

/** The run of one step, in whatever state it is. */
export async function actionRunOf(
  db: Db,
  incidentId: string,
  stepId: string,
): Promise<ActionRunRow | undefined> {
  const [row] = await db.select().from(actionRuns).where(stepOf(incidentId, stepId));
  return row;
}

/** Stores the run's outcome; a retry of the step returns this result. */
export async function finishActionRun(
  db: Db,
  incidentId: string,
  stepId: string,
  done: { ok: boolean; result: Record<string, unknown>; at: string },
): Promise<void> {
  await inTransaction(db, async (tx) => {
    await tx
      .update(actionRuns)
      .set({ status: done.ok ? 'succeeded' : 'failed', result: done.result, finishedAt: done.at })
      .where(stepOf(incidentId, stepId));
  });
}

/** An incident's runs in the order they began. */
export async function actionRunRows(db: Db, incidentId: string): Promise<ActionRunRow[]> {
  return db
    .select()
    .from(actionRuns)
    .where(eq(actionRuns.incidentId, incidentId))
    .orderBy(asc(actionRuns.id));
}

export async function actionRunsOf(db: Db, incidentId: string): Promise<ActionRunRow[]> {
  return actionRunRows(db, incidentId);
}
