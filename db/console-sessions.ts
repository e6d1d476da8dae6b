/**
 * The console's server-side state: sessions and sign-ins under way (console_sessions), and the
 * short-lived API tokens it issues (issued_tokens). Callers hand in the secret the browser or the
 * API client holds; only its sha256 is stored or looked up, and expired rows are never returned.
 */
import crypto from 'node:crypto';
import { and, eq, gt, lte } from 'drizzle-orm';
import { inTransaction, type Db } from './client';
import { consoleSessions, issuedTokens } from './schema';

const digest = (secret: string) => crypto.createHash('sha256').update(secret).digest('hex');

export type ConsoleRowKind = 'session' | 'login';

export async function putConsoleRow(
  db: Db,
  kind: ConsoleRowKind,
  secret: string,
  data: Record<string, unknown>,
  nowMs: number,
  ttlMs: number,
): Promise<void> {
  await inTransaction(db, async (tx) => {
    await tx.insert(consoleSessions).values({
      idSha256: digest(secret),
      kind,
      data,
      createdAt: new Date(nowMs).toISOString(),
      expiresAt: nowMs + ttlMs,
    });
    await tx.delete(consoleSessions).where(lte(consoleSessions.expiresAt, nowMs));
  });
}

export async function getConsoleRow(
  db: Db,
  kind: ConsoleRowKind,
  secret: string,
  nowMs: number,
): Promise<Record<string, unknown> | undefined> {
  const [row] = await db
    .select()
    .from(consoleSessions)
    .where(
      and(
        eq(consoleSessions.idSha256, digest(secret)),
        eq(consoleSessions.kind, kind),
        gt(consoleSessions.expiresAt, nowMs),
      ),
    );
  return row?.data;
}

/** Removes a row and returns what it held: a sign-in state is used once. */
export async function takeConsoleRow(
  db: Db,
  kind: ConsoleRowKind,
  secret: string,
  nowMs: number,
): Promise<Record<string, unknown> | undefined> {
  return inTransaction(db, async (tx) => {
    const data = await getConsoleRow(tx, kind, secret, nowMs);
    await tx.delete(consoleSessions).where(eq(consoleSessions.idSha256, digest(secret)));
    return data;
  });
}

export async function deleteConsoleRow(db: Db, secret: string): Promise<void> {
  await inTransaction(db, async (tx) => {
    await tx.delete(consoleSessions).where(eq(consoleSessions.idSha256, digest(secret)));
  });
}

export async function putIssuedToken(
  db: Db,
  token: string,
  user: Record<string, unknown>,
  nowMs: number,
  expiresAtMs: number,
): Promise<void> {
  await inTransaction(db, async (tx) => {
    await tx.insert(issuedTokens).values({
      sha256: digest(token),
      user,
      createdAt: new Date(nowMs).toISOString(),
      expiresAt: expiresAtMs,
    });
    await tx.delete(issuedTokens).where(lte(issuedTokens.expiresAt, nowMs));
  });
}

/** The user an issued token was issued to, with its expiry, or undefined when unknown. */
export async function issuedToken(
  db: Db,
  token: string,
): Promise<{ user: Record<string, unknown>; expiresAtMs: number } | undefined> {
  const [row] = await db
    .select()
    .from(issuedTokens)
    .where(eq(issuedTokens.sha256, digest(token)));
  return row ? { user: row.user, expiresAtMs: row.expiresAt } : undefined;
}
