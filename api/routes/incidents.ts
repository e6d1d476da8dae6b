/** The incident API (read side): projections written by the incident workflows' activities. */
import { eq } from 'drizzle-orm';
import { Hono } from 'hono';
import { alerts, incidents } from '../../db/schema';
import type { ApiDeps } from '../app';
import { bearerToken, safeEqual } from '../auth';
import { apiError } from '../errors';

export function incidentRoutes(deps: ApiDeps) {
  const app = new Hono();

  app.use('*', async (c, next) => {
    const token = bearerToken(c.req.header('authorization'));
    if (!token || !safeEqual(token, deps.credentials.adminToken)) {
      throw apiError(401, 'unauthorized', 'missing or invalid API token');
    }
    await next();
  });

  app.get('/:id', (c) => {
    const inc = deps.db
      .select()
      .from(incidents)
      .where(eq(incidents.id, c.req.param('id')))
      .get();
    if (!inc) throw apiError(404, 'not_found', `no incident ${c.req.param('id')}`, 'id');
    const latest = inc.latestAlertId
      ? deps.db.select().from(alerts).where(eq(alerts.id, inc.latestAlertId)).get()
      : undefined;
    return c.json({
      id: inc.id,
      status: inc.status,
      mode: inc.mode,
      phase: inc.phase,
      severity: inc.severity,
      title: inc.title,
      source: inc.source,
      agent_id: inc.agentId,
      workflow_id: inc.workflowId,
      alerts: {
        count: inc.alertCount,
        latest: latest
          ? { id: latest.id, title: latest.title, status: latest.status, received_at: latest.receivedAt }
          : null,
      },
      opened_at: inc.openedAt,
      started_at: inc.startedAt,
      closed_at: inc.closedAt,
    });
  });

  return app;
}
