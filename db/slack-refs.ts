/**
 * Where Firebreak's Slack messages live (`slack_messages`): which channel and ts it posted each
 * message of an incident in, so later activities update them instead of posting again, and which
 * incident a channel belongs to (for slash commands and reactions).
 */
import { and, eq } from 'drizzle-orm';
import { inTransaction, type Db } from './client';
import { slackMessages } from './schema';

export interface SlackRef {
  incidentId: string;
  /** `channel` (the incident channel itself, ts empty), `summary`, `approval:<stepId>`, … */
  ref: string;
  channel: string;
  ts: string;
  createdAt: string;
}

export async function loadRef(db: Db, incidentId: string, ref: string): Promise<SlackRef | undefined> {
  const [row] = await db
    .select()
    .from(slackMessages)
    .where(and(eq(slackMessages.incidentId, incidentId), eq(slackMessages.ref, ref)));
  return row;
}

/** Stores where a message was posted; a repeat for the same ref moves it. */
export async function saveRef(db: Db, r: SlackRef): Promise<void> {
  await inTransaction(db, async (tx) => {
    await tx
      .insert(slackMessages)
      .values(r)
      .onConflictDoUpdate({
        target: [slackMessages.incidentId, slackMessages.ref],
        set: { channel: r.channel, ts: r.ts },
      });
  });
}

export async function deleteRef(db: Db, incidentId: string, ref: string): Promise<void> {
  await inTransaction(db, async (tx) => {
    await tx
      .delete(slackMessages)
      .where(and(eq(slackMessages.incidentId, incidentId), eq(slackMessages.ref, ref)));
  });
}

/**
 * The version of the last render shown in message `ref` (kept as its own row, `render:<ref>`, ts
 * holding the version), so an older render delivered late is skipped.
 */
export async function renderedVersion(db: Db, incidentId: string, ref: string): Promise<number> {
  return Number((await loadRef(db, incidentId, `render:${ref}`))?.ts ?? 0);
}

export async function saveRenderedVersion(
  db: Db,
  incidentId: string,
  ref: string,
  version: number,
  at: string,
): Promise<void> {
  await saveRef(db, { incidentId, ref: `render:${ref}`, channel: '', ts: String(version), createdAt: at });
}

/** The incident whose channel this is, if any (slash commands and reactions). */
export async function incidentForChannel(db: Db, channel: string): Promise<string | undefined> {
  const [row] = await db
    .select({ incidentId: slackMessages.incidentId })
    .from(slackMessages)
    .where(and(eq(slackMessages.channel, channel), eq(slackMessages.ref, 'channel')));
  return row?.incidentId;
}
