/**
 * The alert signatures already accepted, so that a signed request cannot be replayed within its
 * timestamp window. Claiming is one insert against the (source, digest) primary key inside an
 * immediate transaction, so two identical requests racing, in one process or two, let exactly
 * one through. Rows whose window has closed are pruned as new ones are claimed.
 */
import { and, count, eq, lt } from 'drizzle-orm';
import { inTransaction, type Db } from './client';
import { seenSignatures } from './schema';

export type SeenSignature = typeof seenSignatures.$inferSelect;

export type SignatureClaim = { fresh: true } | { fresh: false; firstSeenAt: string };

/**
 * Records `sig` as used, unless it already is: then answers when it was first seen. Rows that
 * expired before `pruneBefore` (unix seconds) are deleted in the same transaction.
 */
export async function claimSignature(
  db: Db,
  sig: SeenSignature,
  pruneBefore: number,
): Promise<SignatureClaim> {
  return inTransaction(
    db,
    async (tx) => {
      await tx.delete(seenSignatures).where(lt(seenSignatures.expiresAt, pruneBefore));
      const inserted = await tx
        .insert(seenSignatures)
        .values(sig)
        .onConflictDoNothing()
        .returning({ digest: seenSignatures.digest });
      if (inserted.length > 0) return { fresh: true as const };
      const [prior] = await tx
        .select({ firstSeenAt: seenSignatures.firstSeenAt })
        .from(seenSignatures)
        .where(and(eq(seenSignatures.sourceId, sig.sourceId), eq(seenSignatures.digest, sig.digest)));
      return { fresh: false as const, firstSeenAt: prior?.firstSeenAt ?? sig.firstSeenAt };
    },
    'immediate',
  );
}

/** Forgets a claim whose request was not stored after all, so the sender's retry is accepted. */
export async function releaseSignature(db: Db, sourceId: string, digest: string): Promise<void> {
  await inTransaction(db, async (tx) => {
    await tx
      .delete(seenSignatures)
      .where(and(eq(seenSignatures.sourceId, sourceId), eq(seenSignatures.digest, digest)));
  });
}

/** How many claims are stored (pruned ones are gone). */
export async function countSeenSignatures(db: Db): Promise<number> {
  const [row] = await db.select({ n: count() }).from(seenSignatures);
  return row?.n ?? 0;
}
