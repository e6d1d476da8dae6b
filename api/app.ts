/**
 * The HTTP edge: builds the Hono app from injected dependencies (no globals), so tests drive it
 * with app.request() or a real listening server. Routes live in api/routes/; this module wires
 * request ids, error mapping and health.
 */
import { Hono } from 'hono';
import { requestId } from 'hono/request-id';
import type { Logger } from 'pino';
import type { Credentials } from '../app/credentials';
import type { Db } from '../db/client';
import { pingDb } from '../db/client';
import { slackEvents, type SlackHttpHandler } from '../slack/receiver';
import { pingTemporal, type TemporalHandle } from '../temporal/client';
import { onError } from './errors';
import type { Outbox } from './outbox';
import { alertRoutes } from './routes/alerts';
import { incidentRoutes } from './routes/incidents';

export interface ApiDeps {
  db: Db;
  temporal: TemporalHandle;
  credentials: Credentials;
  outbox: Outbox;
  log: Logger;
  now?: () => Date;
  /** Bolt's HTTP receiver for POST /slack/events; absent when Slack is off or in Socket Mode. */
  slack?: SlackHttpHandler;
}

export function createApp(deps: ApiDeps) {
  const app = new Hono();
  app.use(requestId());
  app.onError(onError(deps.log));
  app.notFound((c) =>
    c.json({ error: { code: 'not_found', message: `no route for ${c.req.method} ${c.req.path}` } }, 404),
  );

  app.get('/healthz', async (c) => {
    const [temporal, db] = await Promise.all([pingTemporal(deps.temporal), Promise.resolve(pingDb(deps.db))]);
    const ok = temporal && db;
    return c.json(
      { status: ok ? 'ok' : 'degraded', temporal: { ok: temporal }, db: { ok: db } },
      ok ? 200 : 503,
    );
  });

  app.route('/v1/alerts', alertRoutes(deps));
  app.route('/v1/incidents', incidentRoutes(deps));
  app.post('/slack/events', slackEvents(deps.slack));
  return app;
}

export type App = ReturnType<typeof createApp>;
