/**
 * Alert intake endpoints, one per sender format: Firebreak's own (`/v1/alerts`), Prometheus
 * Alertmanager's webhook and PagerDuty's Events API v2. Each is a thin adapter: its schema and
 * normalizer (intake/formats/) go into the shared pipeline (api/intake.ts, then intake/), which
 * answers 202 only after the alerts are committed to SQLite. Bodies over 1 MiB are refused with
 * 413 before anything is read.
 */
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { GenericAlert } from '../../domain/alert';
import { AlertmanagerWebhook, normalizeAlertmanager } from '../../intake/formats/alertmanager';
import { normalizeGeneric } from '../../intake/formats/generic';
import { normalizePagerDuty, PagerDutyEvent } from '../../intake/formats/pagerduty';
import type { ApiEnv } from '../auth';
import type { Intake } from '../intake';
import type { AlertmanagerIntakeResponse, IntakeResponse, PagerDutyIntakeResponse } from '../schemas';

export const MAX_BODY_BYTES = 1024 * 1024;

export function alertRoutes(accept: Intake) {
  const app = new Hono<ApiEnv>();
  app.use(
    '*',
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (c) =>
        // The rest of the upload is never read, so the connection cannot carry another request:
        // say so, or a keep-alive client reuses it and its next request dies with the socket.
        c.json(
          {
            error: {
              code: 'payload_too_large',
              message: `body exceeds ${MAX_BODY_BYTES} bytes`,
              field: '(body)',
            },
          },
          413,
          { connection: 'close' },
        ),
    }),
  );

  app.post('/', async (c) => {
    const { stored } = await accept(c, GenericAlert, (a, source, at) => [normalizeGeneric(a, source.id, at)]);
    const s = stored[0]!;
    return c.json<IntakeResponse>(
      { incident_id: s.incidentId, alert_id: s.alertId, deduplicated: s.deduplicated },
      202,
    );
  });

  app.post('/alertmanager', async (c) => {
    const { alerts, stored } = await accept(c, AlertmanagerWebhook, (body, source, at) =>
      normalizeAlertmanager(body, source.id, source.alertmanagerKey, at),
    );
    const incidents = stored.map((s, i) => ({
      incident_id: s.incidentId,
      deduplicated: s.deduplicated,
      fingerprint: String(alerts[i]!.details['fingerprint']),
    }));
    return c.json<AlertmanagerIntakeResponse>(
      { incident_id: incidents[0]?.incident_id ?? null, incidents },
      202,
    );
  });

  app.post('/pagerduty', async (c) => {
    const { alerts, stored } = await accept(
      c,
      PagerDutyEvent,
      (e, source, at) => [normalizePagerDuty(e, source.id, at)],
      { routingKeyAuth: true },
    );
    const s = stored[0]!;
    return c.json<PagerDutyIntakeResponse>(
      {
        incident_id: s.incidentId,
        alert_id: s.alertId,
        deduplicated: s.deduplicated,
        status: 'success',
        dedup_key: alerts[0]!.dedupKey,
      },
      202,
    );
  });

  return app;
}
