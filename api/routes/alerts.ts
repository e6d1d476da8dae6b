/**
 * Alert intake: authenticate, validate, store durably, answer 202, then let the outbox dispatch.
 * The 202 is sent only after the alert is committed to SQLite (see intake-store.ts).
 */
import { Hono } from 'hono';
import crypto from 'node:crypto';
import { GenericAlert, type Alert } from '../../domain/alert';
import type { ApiDeps } from '../app';
import { bearerToken, safeEqual } from '../auth';
import { apiError, zodErrorBody } from '../errors';
import { storeAlert } from '../intake-store';

export const DEFAULT_SOURCE = 'default';

function genericDedupKey(a: GenericAlert): string {
  return crypto
    .createHash('sha256')
    .update(`${a.source}\0${a.title}\0${a.agent_id ?? ''}`)
    .digest('hex')
    .slice(0, 24);
}

export function normalizeGeneric(a: GenericAlert, source: string, receivedAt: string): Alert {
  return {
    format: 'generic',
    source,
    origin: a.source,
    dedupKey: a.dedup_key ?? genericDedupKey(a),
    title: a.title,
    severity: a.severity,
    status: a.status,
    agentId: a.agent_id ?? a.labels['agent_id'],
    labels: a.labels,
    details: a.details,
    occurredAt: a.occurred_at ?? receivedAt,
  };
}

export function alertRoutes(deps: ApiDeps) {
  const app = new Hono();
  const now = deps.now ?? (() => new Date());

  app.post('/', async (c) => {
    const token = bearerToken(c.req.header('authorization'));
    if (!token || !safeEqual(token, deps.credentials.webhookSecret)) {
      deps.log.warn({ path: c.req.path }, 'alert rejected: missing or invalid credentials');
      throw apiError(401, 'unauthorized', 'missing or invalid alert source credentials');
    }
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      throw apiError(400, 'invalid_json', 'body is not valid JSON', '(body)');
    }
    const parsed = GenericAlert.safeParse(body);
    if (!parsed.success) return c.json(zodErrorBody(parsed.error), 400);
    const receivedAt = now().toISOString();
    const alert = normalizeGeneric(parsed.data, DEFAULT_SOURCE, receivedAt);
    const stored = storeAlert(deps.db, alert, { receivedAt });
    deps.outbox.kick();
    return c.json(
      { incident_id: stored.incidentId, alert_id: stored.alertId, deduplicated: stored.deduplicated },
      202,
    );
  });

  return app;
}
