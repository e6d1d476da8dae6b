/**
 * The HTTP edge: builds the Hono app from injected dependencies (no globals), so tests drive it
 * with app.request() or a real listening server. Routes live in api/routes/ and are mounted with
 * one `app.route` line each; this module wires request ids, the API-token registry that
 * `requireScope` reads, error mapping, health, Prometheus metrics and the OpenAPI document.
 * Several routers share the `/v1/incidents` prefix, so each route names its own scope: a
 * router's `use('*')` would guard its neighbours' routes too (test/api/authz-matrix.test.ts).
 */
import { Hono, type MiddlewareHandler } from 'hono';
import { requestId } from 'hono/request-id';
import type { Logger } from 'pino';
import type { ConsoleConfig } from '../app/config';
import { EMPTY_FILE_CONFIG, type FileConfig } from '../app/config-file';
import type { Credentials } from '../app/credentials';
import { statusJwks, type StatusSigningKey } from '../connectors/status-document';
import type { AuditVerifier } from '../db/audit-signer';
import type { Db } from '../db/client';
import { pingDb } from '../db/client';
import type { DecisionSigner } from '../domain/decision-proof';
import { PeopleDirectory } from '../domain/people';
import { DEFAULT_STEP_UP_POLICY } from '../domain/step-up';
import type { Outbox } from '../intake/outbox';
import type { SlackNotifierDeps } from '../slack/notifier';
import { slackEvents, type SlackHttpHandler } from '../slack/receiver';
import { pingTemporal, type TemporalHandle } from '../temporal/client';
import { issuedTokenLookup, requireScope, tokenRegistry, TokenRegistry, type ApiEnv } from './auth';
import { requestBodyLimit } from './body-limit';
import { consoleRoutes } from './console/app';
import { docsPage } from './docs-page';
import { onError, refuseNulInUrl } from './errors';
import { createIntake } from './intake';
import { IntakeMetrics } from './intake-metrics';
import { renderMetrics } from './metrics';
import { openApiDocument } from './openapi';
import { agentRoutes } from './routes/agents';
import { alertRoutes } from './routes/alerts';
import { decisionRoutes } from './routes/decisions';
import { drillRoutes } from './routes/drills';
import { evidenceRoutes } from './routes/evidence';
import { incidentRoutes } from './routes/incidents';
import { ofrepRoutes } from './routes/ofrep';
import { opaDecisionLogRoutes } from './routes/opa-decision-logs';
import { postmortemRoutes } from './routes/postmortem';
import { RuntimeAccess } from './runtime-auth';

export interface ApiDeps {
  db: Db;
  temporal: TemporalHandle;
  credentials: Credentials;
  outbox: Outbox;
  log: Logger;
  /** Sources, routing rules and users from FIREBREAK_CONFIG; none when omitted. */
  fileConfig?: FileConfig;
  /** Intake counters, for the metrics endpoint to export; a fresh set when omitted. */
  metrics?: IntakeMetrics;
  now?: () => Date;
  /** Bolt's HTTP receiver for POST /slack/events; absent when Slack is off or in Socket Mode. */
  slack?: SlackHttpHandler;
  /** Slack Web API access for digests posted outside workflows (drill after-action reports). */
  slackNotifier?: SlackNotifierDeps['slack'];
  /** Whether GET /metrics needs a read-scope token (FIREBREAK_METRICS_AUTH); default `read`. */
  metricsAuth?: 'none' | 'read';
  /** Signs kill-switch status documents and OFREP answers (app/keys.ts, purpose `status`). */
  statusKey: StatusSigningKey;
  /** Signs every decision the API sends to an incident workflow (the `decision` key). */
  decisions: DecisionSigner;
  /** Who API users are as deciders; default: the config file's users, without Slack roles. */
  people?: PeopleDirectory;
  /** The web console (/console): sign-in and the MFA step-up rule; default: local sign-in only. */
  console?: ConsoleConfig;
  /** The audit key's public half: the console's audit page shows `audit verify`'s verdict with it. */
  auditVerifier?: AuditVerifier;
}

const DEFAULT_CONSOLE: ConsoleConfig = {
  oidc: undefined,
  publicUrl: undefined,
  sessionTtlMs: 8 * 3600_000,
  localLogin: true,
  stepUp: DEFAULT_STEP_UP_POLICY,
};

export function createApp(deps: ApiDeps) {
  const file = deps.fileConfig ?? EMPTY_FILE_CONFIG;
  const app = new Hono<ApiEnv>();
  app.use(requestId());
  app.use(refuseNulInUrl());
  app.use(requestBodyLimit());
  app.use(
    tokenRegistry(
      new TokenRegistry(
        file.users,
        deps.credentials.adminToken,
        deps.now,
        issuedTokenLookup(deps.db, deps.now),
      ),
    ),
  );
  app.onError(onError(deps.log));
  app.notFound((c) =>
    c.json({ error: { code: 'not_found', message: `no route for ${c.req.method} ${c.req.path}` } }, 404),
  );

  app.get('/healthz', async (c) => {
    const [temporal, db] = await Promise.all([pingTemporal(deps.temporal), pingDb(deps.db)]);
    const ok = temporal && db;
    return c.json(
      { status: ok ? 'ok' : 'degraded', temporal: { ok: temporal }, db: { ok: db } },
      ok ? 200 : 503,
    );
  });
  const openapi = openApiDocument();
  app.get('/openapi.json', (c) => c.json(openapi));
  app.get('/docs', (c) => c.html(docsPage('/openapi.json', 'Firebreak API')));

  const intakeMetrics = deps.metrics ?? new IntakeMetrics();
  const metricsAuth: MiddlewareHandler<ApiEnv> =
    deps.metricsAuth === 'none' ? async (_c, next) => next() : requireScope('read');
  app.get('/metrics', metricsAuth, async (c) => {
    const { contentType, body } = await renderMetrics(deps.db, intakeMetrics);
    return c.body(body, 200, { 'Content-Type': contentType });
  });

  const accept = createIntake({
    db: deps.db,
    outbox: deps.outbox,
    log: deps.log,
    metrics: intakeMetrics,
    file,
    webhookSecret: deps.credentials.webhookSecret,
    now: deps.now ?? (() => new Date()),
  });
  app.route('/v1/alerts', alertRoutes(accept));
  app.route('/v1/incidents', incidentRoutes(deps));
  const people = deps.people ?? new PeopleDirectory(file.users);
  const consoleConfig = deps.console ?? DEFAULT_CONSOLE;
  app.route('/v1/incidents', decisionRoutes({ ...deps, people, stepUp: consoleConfig.stepUp }));
  const jwks = statusJwks([deps.statusKey]);
  const runtimeAccess = new RuntimeAccess(file.runtimes, jwks, () => (deps.now?.() ?? new Date()).getTime());
  app.get('/.well-known/jwks.json', (c) => c.json(jwks, 200, { 'Cache-Control': 'public, max-age=300' }));
  app.route('/v1/agents', agentRoutes({ ...deps, runtimeAccess }));
  app.route('/ofrep/v1', ofrepRoutes({ ...deps, runtimeAccess }));
  app.route('/v1/incidents', evidenceRoutes(deps));
  app.post('/slack/events', slackEvents(deps.slack));
  app.route('/v1/incidents', postmortemRoutes(deps));
  app.route('/v1/drills', drillRoutes(deps));
  app.route('/v1/connectors/opa', opaDecisionLogRoutes({ ...deps, decisionLogs: file.opaDecisionLogs }));
  app.route('/console', consoleRoutes({ ...deps, people, config: consoleConfig }));
  return app;
}

export type App = ReturnType<typeof createApp>;
