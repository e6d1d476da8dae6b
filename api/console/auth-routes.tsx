/**
 * Console sign-in and sign-out: OpenID Connect (authorization code + PKCE, api/console/oidc.ts),
 * a local user's API token (config `users:`; never the admin token), and the step-up sign-in that
 * asks the IdP for a fresh multi-factor authentication. Sign-ins under way are `login` rows keyed
 * by a random cookie, used once; the login form carries a CSRF token of its own login row.
 */
import type { Hono } from 'hono';
import type { Db } from '../../db/client';
import { putConsoleRow, takeConsoleRow } from '../../db/console-sessions';
import type { PeopleDirectory } from '../../domain/people';
import { stepUpProblem, type StepUpPolicy } from '../../domain/step-up';
import type { ConsoleEnv } from './env';
import type { OidcRelyingParty, PendingLogin } from './oidc';
import { LoginPage, ErrorPage } from './other-pages';
import {
  randomSecret,
  safeReturnTo,
  setLoginCookie,
  startSession,
  takeLoginCookie,
  type ConsoleUser,
} from './session';

const LOGIN_TTL_MS = 10 * 60_000;

export interface AuthRouteDeps {
  db: Db;
  people: PeopleDirectory;
  oidc: OidcRelyingParty | undefined;
  localLogin: boolean;
  sessionTtlMs: number;
  stepUp: StepUpPolicy;
  nowMs: () => number;
  origin: (requestUrl: string) => string;
}

export function authRoutes(app: Hono<ConsoleEnv>, deps: AuthRouteDeps): void {
  const noUser = { user: undefined, csrf: undefined };

  app.get('/login', async (c) => {
    const returnTo = safeReturnTo(c.req.query('return'));
    const secret = randomSecret();
    const csrf = randomSecret();
    await putConsoleRow(deps.db, 'login', secret, { csrf, local: true }, deps.nowMs(), LOGIN_TTL_MS);
    setLoginCookie(c, secret, LOGIN_TTL_MS);
    const error = c.req.query('error');
    return c.html(
      <LoginPage
        ctx={{ user: undefined, csrf }}
        oidc={deps.oidc !== undefined}
        local={deps.localLogin}
        returnTo={returnTo}
        {...(error ? { error } : {})}
      />,
    );
  });

  app.post('/login/token', async (c) => {
    const form = await c.req.parseBody();
    const secret = takeLoginCookie(c);
    const row = secret ? await takeConsoleRow(deps.db, 'login', secret, deps.nowMs()) : undefined;
    const returnTo = safeReturnTo(form.return);
    const again = (why: string) =>
      c.redirect(
        `/console/login?return=${encodeURIComponent(returnTo)}&error=${encodeURIComponent(why)}`,
        303,
      );
    if (!deps.localLogin) return again('local sign-in is turned off (FIREBREAK_CONSOLE_LOCAL_LOGIN)');
    if (!row || row.local !== true || row.csrf !== form._csrf)
      return again('the sign-in form expired; try again');
    const found =
      typeof form.token === 'string' ? await c.var.tokens.lookup(form.token) : { kind: 'unknown' as const };
    if (found.kind === 'expired') return again(`that token expired at ${found.expiredAt}`);
    if (found.kind !== 'valid') return again('unknown token');
    const u = found.user;
    if (u.auth.method === 'admin')
      return again('the admin token cannot sign in to the console: use your own');
    const user: ConsoleUser = {
      id: u.id,
      name: u.name,
      slackUserId: u.slackUserId,
      roles: u.roles,
      groups: u.groups ?? [],
      scopes: u.scopes.filter((s) => s !== 'admin'),
      via: 'local',
      auth: { method: 'session', amr: [] },
    };
    await startSession(c, deps.db, user, deps.sessionTtlMs, deps.nowMs());
    return c.redirect(returnTo, 303);
  });

  app.get('/auth/start', async (c) => {
    if (!deps.oidc)
      return c.html(
        <ErrorPage
          ctx={noUser}
          title="Sign-in"
          message="Single sign-on is not configured (FIREBREAK_OIDC_ISSUER)."
        />,
        404,
      );
    const returnTo = safeReturnTo(c.req.query('return'));
    const stepUp = c.req.query('step_up') === '1';
    const redirectUri = deps.oidc.redirectUri(deps.origin(c.req.url));
    let started: Awaited<ReturnType<OidcRelyingParty['start']>>;
    try {
      started = await deps.oidc.start(returnTo, stepUp, redirectUri);
    } catch (err) {
      const why = `the identity provider ${deps.oidc.issuer} cannot be reached: ${(err as Error).message}`;
      return c.html(<ErrorPage ctx={noUser} title="Sign-in" message={why} />, 503);
    }
    const secret = randomSecret();
    await putConsoleRow(deps.db, 'login', secret, { ...started.pending }, deps.nowMs(), LOGIN_TTL_MS);
    setLoginCookie(c, secret, LOGIN_TTL_MS);
    return c.redirect(started.url.href, 302);
  });

  app.get('/auth/callback', async (c) => {
    const fail = (message: string, status: 400 | 403 = 400) =>
      c.html(<ErrorPage ctx={noUser} title="Sign-in failed" message={message} />, status);
    if (!deps.oidc) return fail('single sign-on is not configured');
    const secret = takeLoginCookie(c);
    const pending = (secret ? await takeConsoleRow(deps.db, 'login', secret, deps.nowMs()) : undefined) as
      PendingLogin | undefined;
    if (!pending?.state)
      return fail('this sign-in expired or was already used: start again from the console');
    const url = new URL(c.req.url);
    const callbackUrl = new URL(pending.redirectUri);
    callbackUrl.search = url.search;
    let claims: Record<string, unknown>;
    try {
      claims = await deps.oidc.finish(callbackUrl, pending);
    } catch (err) {
      return fail(`the identity provider's answer was refused: ${(err as Error).message}`);
    }
    const user = deps.oidc.userOf(claims, deps.people);
    if (pending.stepUp) {
      const problem = stepUpProblem(user.auth, deps.stepUp, deps.nowMs());
      if (problem) return fail(`the step-up sign-in did not give a recent second factor: ${problem}`, 403);
    }
    await startSession(c, deps.db, user, deps.sessionTtlMs, deps.nowMs());
    return c.redirect(safeReturnTo(pending.returnTo), 303);
  });
}
