/**
 * OPA decision logs as the gateway's record of tool calls: the tool-call decision events of each
 * upload stored verbatim, once per `decision_id` (OPA retries an upload it got no 2xx for), and
 * how far each OPA's log has reached Firebreak (the newest decision time it uploaded, tool call or
 * not). One transaction per upload: the API answers 2xx only once it is committed.
 */
import { and, asc, eq, gte, lte, sql } from 'drizzle-orm';
import { inTransaction, type Db } from './client';
import { opaDecisionEvents, opaDecisionSenders } from './schema';

export type StoredDecisionEvent = typeof opaDecisionEvents.$inferSelect;
export type DecisionLogSender = typeof opaDecisionSenders.$inferSelect;

export interface DecisionUpload {
  sender: string;
  receivedAt: string;
  /** The tool-call decisions of the upload. */
  events: Omit<StoredDecisionEvent, 'sender' | 'receivedAt'>[];
  /** Per OPA instance in the upload: the newest decision time among all its events. */
  newest: { opaId: string; newestAt: string }[];
}

/** Rows per INSERT: well under SQLite's bound-parameter limit. */
const CHUNK = 500;

/** Stores an upload; resolves once committed with how many events were new. */
export async function recordDecisionUpload(db: Db, u: DecisionUpload): Promise<{ stored: number }> {
  return inTransaction(db, async (tx) => {
    let stored = 0;
    for (let i = 0; i < u.events.length; i += CHUNK) {
      const rows = u.events
        .slice(i, i + CHUNK)
        .map((e) => ({ ...e, sender: u.sender, receivedAt: u.receivedAt }));
      const inserted = await tx
        .insert(opaDecisionEvents)
        .values(rows)
        .onConflictDoNothing()
        .returning({ id: opaDecisionEvents.decisionId });
      stored += inserted.length;
    }
    for (const n of u.newest) {
      await tx
        .insert(opaDecisionSenders)
        .values({ sender: u.sender, opaId: n.opaId, newestAt: n.newestAt, lastUploadAt: u.receivedAt })
        .onConflictDoUpdate({
          target: [opaDecisionSenders.sender, opaDecisionSenders.opaId],
          set: {
            newestAt: sql`CASE WHEN excluded.newest_at > ${opaDecisionSenders.newestAt} THEN excluded.newest_at ELSE ${opaDecisionSenders.newestAt} END`,
            lastUploadAt: u.receivedAt,
          },
        });
    }
    return { stored };
  });
}

/** The agent's tool-call decisions with `start <= at <= end` (stored times), in decision order. */
export async function decisionEventsOf(
  db: Db,
  q: { agentId: string; start: string; end: string },
): Promise<StoredDecisionEvent[]> {
  return db
    .select()
    .from(opaDecisionEvents)
    .where(
      and(
        eq(opaDecisionEvents.agentId, q.agentId),
        gte(opaDecisionEvents.at, q.start),
        lte(opaDecisionEvents.at, q.end),
      ),
    )
    .orderBy(asc(opaDecisionEvents.at), asc(opaDecisionEvents.decisionId));
}

/** Every OPA that has uploaded decision logs, and how far each has reached. */
export async function decisionLogSenders(db: Db): Promise<DecisionLogSender[]> {
  return db
    .select()
    .from(opaDecisionSenders)
    .orderBy(asc(opaDecisionSenders.sender), asc(opaDecisionSenders.opaId));
}
