/**
 * The console's server-side state: sessions and sign-ins under way (console_sessions), and the
 * short-lived API tokens it issues (issued_tokens). Callers hand in the secret the browser or the
 * API client holds; only its sha256 is stored or looked up, and expired rows are never returned.
 */
import crypto from 'node:crypto';
import { and, eq, gt, lte } from 'drizzle-orm';
import type { Db } from './client';
import { consoleSessions, issuedTokens } from './schema';

const digest = (secret: string) => crypto.createHash('sha256').update(secret).digest('hex');

export type ConsoleRowKind = 'session' | 'login';

export function putConsoleRow(
  db: Db,
  kind: ConsoleRowKind,
  secret: string,
  data: Record<string, unknown>,
  nowMs: number,
  ttlMs: number,
): void {
  db.insert(consoleSessions)
    .values({
      idSha256: digest(secret),
      kind,
      data,
      createdAt: new Date(nowMs).toISOString(),
      expiresAt: nowMs + ttlMs,
    })
    .run();
  db.delete(consoleSessions).where(lte(consoleSessions.expiresAt, nowMs)).run();
}

export function getConsoleRow(
  db: Db,
  kind: ConsoleRowKind,
  secret: string,
  nowMs: number,
): Record<string, unknown> | undefined {
  return db
    .select()
    .from(consoleSessions)
    .where(
      and(
        eq(consoleSessions.idSha256, digest(secret)),
        eq(consoleSessions.kind, kind),
        gt(consoleSessions.expiresAt, nowMs),
      ),
    )
    .get()?.data;
}

/** Removes a row and returns what it held: a sign-in state is used once. */
export function takeConsoleRow(
  db: Db,
  kind: ConsoleRowKind,
  secret: string,
  nowMs: number,
): Record<string, unknown> | undefined {
  const data = getConsoleRow(db, kind, secret, nowMs);
  db.delete(consoleSessions)
    .where(eq(consoleSessions.idSha256, digest(secret)))
    .run();
  return data;
}

export function deleteConsoleRow(db: Db, secret: string): void {
  db.delete(consoleSessions)
    .where(eq(consoleSessions.idSha256, digest(secret)))
    .run();
}

export function putIssuedToken(
  db: Db,
  token: string,
  user: Record<string, unknown>,
  nowMs: number,
  expiresAtMs: number,
): void {
  db.insert(issuedTokens)
    .values({ sha256: digest(token), user, createdAt: new Date(nowMs).toISOString(), expiresAt: expiresAtMs })
    .run();
  db.delete(issuedTokens).where(lte(issuedTokens.expiresAt, nowMs)).run();
}

/** The user an issued token was issued to, with its expiry, or undefined when unknown. */
export function issuedToken(
  db: Db,
  token: string,
): { user: Record<string, unknown>; expiresAtMs: number } | undefined {
  const row = db
    .select()
    .from(issuedTokens)
    .where(eq(issuedTokens.sha256, digest(token)))
    .get();
  return row ? { user: row.user, expiresAtMs: row.expiresAt } : undefined;
}
