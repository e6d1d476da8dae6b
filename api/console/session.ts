/**
 * Console sessions. The browser holds one random 256-bit id in a `Secure; HttpOnly;
 * SameSite=Lax` cookie; the session itself (who signed in, how, when, the CSRF token) is stored
 * server-side in the DB under the id's sha256 (db/console-sessions.ts). A server-side store was
 * chosen over a signed cookie so that signing out, or a stolen cookie noticed by an operator,
 * ends the session at once, several API processes over one DATA_DIR share sessions, and no
 * extra secret key is needed. Lax, not Strict: the IdP's redirect back is a cross-site navigation,
 * and the page it lands on must see the new session; forms are guarded by the CSRF token instead.
 */
import crypto from 'node:crypto';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { Scope } from '../../app/config-file';
import type { Db } from '../../db/client';
import { deleteConsoleRow, getConsoleRow, putConsoleRow } from '../../db/console-sessions';
import type { Authentication } from '../../domain/step-up';
import type { ApiUser } from '../auth';

export const SESSION_COOKIE = 'firebreak_session';
export const LOGIN_COOKIE = 'firebreak_login';

/** Who is signed in to the console; stored whole in the session row. */
export interface ConsoleUser {
  id: string;
  name: string;
  slackUserId: string | undefined;
  roles: string[];
  groups: string[];
  scopes: Scope[];
  /** `oidc`: through the IdP (its `sub` kept to check a step-up is the same person); `local`: a config user's token. */
  via: 'oidc' | 'local';
  sub?: string;
  auth: Authentication;
}

export interface ConsoleSession {
  user: ConsoleUser;
  csrf: string;
}

export const randomSecret = () => crypto.randomBytes(32).toString('base64url');

/** The user as the decision path and TokenRegistry know users. */
export function apiUserOf(u: ConsoleUser): ApiUser {
  return {
    id: u.id,
    name: u.name,
    slackUserId: u.slackUserId,
    roles: u.roles,
    groups: u.groups,
    scopes: u.scopes,
    auth: u.auth,
  };
}

const cookieOptions = (maxAgeS: number, path = '/console') => ({
  httpOnly: true,
  secure: true,
  sameSite: 'Lax' as const,
  path,
  maxAge: maxAgeS,
});

export async function startSession(
  c: Context,
  db: Db,
  user: ConsoleUser,
  ttlMs: number,
  nowMs: number,
): Promise<void> {
  const old = getCookie(c, SESSION_COOKIE);
  if (old) await deleteConsoleRow(db, old); // a new sign-in never keeps the old id (session fixation)
  const id = randomSecret();
  const session: ConsoleSession = { user, csrf: randomSecret() };
  await putConsoleRow(db, 'session', id, session as unknown as Record<string, unknown>, nowMs, ttlMs);
  setCookie(c, SESSION_COOKIE, id, cookieOptions(Math.floor(ttlMs / 1000)));
}

export async function loadSession(c: Context, db: Db, nowMs: number): Promise<ConsoleSession | undefined> {
  const id = getCookie(c, SESSION_COOKIE);
  if (!id) return undefined;
  return (await getConsoleRow(db, 'session', id, nowMs)) as unknown as ConsoleSession | undefined;
}

export async function endSession(c: Context, db: Db): Promise<void> {
  const id = getCookie(c, SESSION_COOKIE);
  if (id) await deleteConsoleRow(db, id);
  deleteCookie(c, SESSION_COOKIE, { path: '/console', secure: true });
}

export function setLoginCookie(c: Context, secret: string, ttlMs: number): void {
  setCookie(c, LOGIN_COOKIE, secret, cookieOptions(Math.floor(ttlMs / 1000)));
}

export function takeLoginCookie(c: Context): string | undefined {
  const v = getCookie(c, LOGIN_COOKIE);
  deleteCookie(c, LOGIN_COOKIE, { path: '/console', secure: true });
  return v;
}

/** Constant-time comparison of a submitted CSRF token with the session's. */
export function csrfMatches(session: ConsoleSession, submitted: unknown): boolean {
  if (typeof submitted !== 'string') return false;
  const a = crypto.createHash('sha256').update(session.csrf).digest();
  const b = crypto.createHash('sha256').update(submitted).digest();
  return crypto.timingSafeEqual(a, b);
}

/** Only paths inside the console: a sign-in never redirects anywhere else. */
export function safeReturnTo(v: unknown): string {
  return typeof v === 'string' && /^\/console(\/[^/\\]|$|\?)/.test(v) && !v.includes('\\')
    ? v
    : '/console/incidents';
}
