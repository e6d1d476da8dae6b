/**
 * The web console, mounted at /console on the API's own origin. Every response carries a strict
 * Content-Security-Policy (scripts and styles only from this origin, no inline code, forms only to
 * this origin and the IdP, no framing). Pages need a session (api/console/session.ts); every POST
 * must carry the session's CSRF token and, when the browser says where it comes from, come from
 * this origin. Decisions go through api/decide.ts, the same path as the API's decision routes
 * (authorization, MFA step-up, signing with the decision key); drills start through the same
 * function as POST /v1/drills.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import type { ConsoleConfig } from '../../app/config';
import type { AuditVerifier } from '../../db/audit-signer';
import type { Db } from '../../db/client';
import type { DecisionSigner } from '../../domain/decision-proof';
import type { PeopleDirectory } from '../../domain/people';
import type { TemporalHandle } from '../../temporal/client';
import type { DrillDeps } from '../routes/drills';
import { authRoutes } from './auth-routes';
import type { ConsoleEnv } from './env';
import { OidcRelyingParty } from './oidc';
import { ErrorPage } from './other-pages';
import { pageRoutes } from './page-routes';
import { csrfMatches, endSession, loadSession } from './session';

export interface ConsoleDeps extends DrillDeps {
  db: Db;
  temporal: TemporalHandle;
  decisions: DecisionSigner;
  people: PeopleDirectory;
  config: ConsoleConfig;
  /** The audit key's public half, for the audit page's verdict; absent: not shown. */
  auditVerifier?: AuditVerifier;
  now?: () => Date;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const htmxFile = createRequire(import.meta.url).resolve('htmx.org/dist/htmx.min.js');
const STATIC: Record<string, { file: string; type: string }> = {
  'console.css': { file: path.join(here, 'static', 'console.css'), type: 'text/css; charset=utf-8' },
  'htmx.min.js': { file: htmxFile, type: 'text/javascript; charset=utf-8' },
};

function securityHeaders(formTargets: string): MiddlewareHandler {
  const csp = [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "connect-src 'self'",
    `form-action 'self'${formTargets}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
  return async (c, next) => {
    await next();
    c.header('Content-Security-Policy', csp);
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('X-Frame-Options', 'DENY');
    c.header('Referrer-Policy', 'same-origin');
    if (!c.req.path.startsWith('/console/static/')) c.header('Cache-Control', 'no-store');
  };
}

export function consoleRoutes(deps: ConsoleDeps) {
  const app = new Hono<ConsoleEnv>();
  const cfg = deps.config;
  const nowMs = () => (deps.now?.() ?? new Date()).getTime();
  const origin = (requestUrl: string) =>
    (cfg.publicUrl ? new URL(cfg.publicUrl) : new URL(requestUrl)).origin;
  const oidc = cfg.oidc ? new OidcRelyingParty(cfg.oidc, cfg.stepUp.windowMs) : undefined;
  app.use('*', securityHeaders(cfg.oidc ? ` ${new URL(cfg.oidc.issuer).origin}` : ''));

  app.get('/static/:name', (c) => {
    const s = STATIC[c.req.param('name')];
    if (!s) return c.text('not found', 404);
    return c.body(fs.readFileSync(s.file), 200, {
      'Content-Type': s.type,
      'Cache-Control': 'public, max-age=3600',
    });
  });
  app.get('/', (c) => c.redirect('/console/incidents', 302));

  authRoutes(app, {
    db: deps.db,
    people: deps.people,
    oidc,
    localLogin: cfg.localLogin,
    sessionTtlMs: cfg.sessionTtlMs,
    stepUp: cfg.stepUp,
    nowMs,
    origin,
  });

  const noUser = { user: undefined, csrf: undefined };
  const refuse = (c: Context<ConsoleEnv>, message: string) =>
    c.html(<ErrorPage ctx={noUser} title="Request refused" message={message} />, 403);

  // Everything below needs a session; a POST also needs this origin and the CSRF token.
  app.use('*', async (c, next) => {
    const session = await loadSession(c, deps.db, nowMs());
    if (!session) {
      if (c.req.method === 'GET' && !c.req.header('hx-request'))
        return c.redirect(`/console/login?return=${encodeURIComponent(c.req.path)}`, 302);
      return c.html(<ErrorPage ctx={noUser} title="Signed out" message="Sign in again." />, 401);
    }
    c.set('session', session);
    if (c.req.method === 'POST') {
      const site = c.req.header('sec-fetch-site');
      if (site && site !== 'same-origin' && site !== 'none')
        return refuse(c, 'cross-site form posts are refused');
      const from = c.req.header('origin');
      if (from && from !== origin(c.req.url)) return refuse(c, `form posted from another origin (${from})`);
      const form = await c.req.parseBody();
      if (!csrfMatches(session, form._csrf))
        return refuse(c, 'the form is stale (CSRF token): reload the page');
    }
    await next();
  });

  app.post('/logout', async (c) => {
    await endSession(c, deps.db);
    return c.redirect('/console/login', 303);
  });

  pageRoutes(app, { ...deps, stepUp: cfg.stepUp, nowMs, oidcEnabled: oidc !== undefined });
  return app;
}
