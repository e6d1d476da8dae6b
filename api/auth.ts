/**
 * Authentication at the HTTP edge. Secrets are compared in constant time (over their SHA-256
 * digests, so lengths leak nothing) and never logged or echoed in errors.
 *
 * API tokens belong to named users (config file `users:`); only their SHA-256 digests are kept in
 * memory, with the instant each expires (`expires_at`), read against the app's clock. The admin
 * token (FIREBREAK_ADMIN_TOKEN) is the built-in user `admin` with every scope and no expiry.
 * `requireScope(scope)` guards one route and sets `c.var.user`; createApp installs the token
 * registry it reads, so any router mounted on the app can use it. Routers that share a prefix
 * must not `use('*', requireScope(...))`: the wildcard would guard their neighbours' routes too.
 */
import crypto from 'node:crypto';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context, MiddlewareHandler } from 'hono';
import { SCOPES, sha256Hex, type Scope, type UserConfig } from '../app/config-file';
import type { Db } from '../db/client';
import { issuedToken } from '../db/console-sessions';
import type { Authentication } from '../domain/step-up';
import { apiError } from './errors';

export type { Scope };

export function safeEqual(a: string, b: string): boolean {
  const da = crypto.createHash('sha256').update(a).digest();
  const db = crypto.createHash('sha256').update(b).digest();
  return crypto.timingSafeEqual(da, db);
}

/** The peer's address on a real socket; undefined under app.request() (tests: no socket). */
export function peerAddress(c: Context): string | undefined {
  try {
    return getConnInfo(c).remote.address;
  } catch {
    return undefined;
  }
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}

export interface ApiUser {
  id: string;
  name: string;
  slackUserId: string | undefined;
  roles: string[];
  /** Groups from the IdP (console sign-ins and the tokens they issue); config users have none. */
  groups?: string[];
  /** The scopes of the token used for this request (admin implies all). */
  scopes: Scope[];
  /** How this request was authenticated (MFA step-up reads it: domain/step-up.ts). */
  auth: Authentication;
}

export interface ApiEnv {
  Variables: { user: ApiUser; tokens: TokenRegistry };
}

/** What a presented token is: a user's, a user's that has expired, or nobody's. */
export type TokenLookup =
  { kind: 'valid'; user: ApiUser } | { kind: 'expired'; expiredAt: string } | { kind: 'unknown' };

interface Entry {
  user: ApiUser;
  expiresAtMs: number | undefined;
}

export class TokenRegistry {
  /** sha256(token) hex → user with that token's scopes, and when the token expires. */
  private readonly byDigest = new Map<string, Entry>();

  /**
   * `now` is read only for tokens with an expiry. `issued` looks up the short-lived tokens the
   * console issues (api/console/tokens.ts), asked only for a token no config user holds.
   */
  constructor(
    users: UserConfig[],
    adminToken: string | undefined,
    private readonly now: () => Date = () => new Date(),
    private readonly issued?: (token: string) => Promise<TokenLookup>,
  ) {
    for (const u of users) {
      for (const t of u.tokens) {
        const scopes: Scope[] = t.scopes.includes('admin') ? [...SCOPES] : t.scopes;
        this.byDigest.set(t.sha256, {
          user: {
            id: u.id,
            name: u.name,
            slackUserId: u.slackUserId,
            roles: u.roles,
            scopes,
            auth: { method: 'token', amr: [] },
          },
          expiresAtMs: t.expiresAtMs,
        });
      }
    }
    if (adminToken) {
      this.byDigest.set(sha256Hex(adminToken), {
        user: {
          id: 'admin',
          name: 'Administrator',
          slackUserId: undefined,
          roles: ['admin'],
          scopes: [...SCOPES],
          auth: { method: 'admin', amr: [] },
        },
        expiresAtMs: undefined,
      });
    }
  }

  /** A digest lookup: the token itself is never compared byte by byte. */
  async lookup(token: string): Promise<TokenLookup> {
    const entry = this.byDigest.get(sha256Hex(token));
    if (!entry) return (await this.issued?.(token)) ?? { kind: 'unknown' };
    if (entry.expiresAtMs !== undefined && this.now().getTime() >= entry.expiresAtMs)
      return { kind: 'expired', expiredAt: new Date(entry.expiresAtMs).toISOString() };
    return { kind: 'valid', user: entry.user };
  }
}

/**
 * Looks up the short-lived tokens the console issues (db/console-sessions.ts): the user they were
 * issued to, with the sign-in's `amr` and `auth_time`, until they expire.
 */
export function issuedTokenLookup(
  db: Db,
  now: () => Date = () => new Date(),
): (token: string) => Promise<TokenLookup> {
  return async (token) => {
    const row = await issuedToken(db, token);
    if (!row) return { kind: 'unknown' };
    if (now().getTime() >= row.expiresAtMs)
      return { kind: 'expired', expiredAt: new Date(row.expiresAtMs).toISOString() };
    return { kind: 'valid', user: row.user as unknown as ApiUser };
  };
}

/** Installs the registry that requireScope reads; createApp does this for the whole app. */
export function tokenRegistry(registry: TokenRegistry): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    c.set('tokens', registry);
    await next();
  };
}

/**
 * 401 without a known token or with an expired one (saying so), 403 when its scopes lack `scope`
 * (admin has all); sets c.var.user.
 */
export function requireScope(scope: Scope): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const token = bearerToken(c.req.header('authorization'));
    const found: TokenLookup = token ? await c.var.tokens.lookup(token) : { kind: 'unknown' };
    if (found.kind === 'expired')
      throw apiError(
        401,
        'token_expired',
        `token expired at ${found.expiredAt} (its expires_at in the config file, or the console issued it); ask for a new one`,
      );
    if (found.kind === 'unknown') throw apiError(401, 'unauthorized', 'missing or invalid API token');
    const { user } = found;
    if (!user.scopes.includes(scope)) throw apiError(403, 'forbidden', `this token lacks the ${scope} scope`);
    c.set('user', user);
    await next();
  };
}
