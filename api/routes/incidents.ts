/**
 * The incident API (read side): projections written by the incident workflows' activities, plus
 * the workflow's own view of pending approvals. Every route needs the `read` scope. Lists page
 * by an opaque keyset cursor (opened_at, id), newest first, so paging is stable under inserts.
 */
import { and, asc, desc, eq, gt, lt, or, type SQL } from 'drizzle-orm';
import { Hono } from 'hono';
import type { Db } from '../../db/client';
import { alerts, incidents, timeline } from '../../db/schema';
import { queryIncident, type TemporalHandle } from '../../temporal/client';
import { incidentState } from '../../workflows/messages';
import { requireScope, type ApiEnv } from '../auth';
import { apiError, zodErrorBody } from '../errors';
import { IncidentListQuery, TimelineQuery, type IncidentDetail, type IncidentSummary } from '../schemas';

type IncidentRow = typeof incidents.$inferSelect;

function summary(inc: IncidentRow): IncidentSummary {
  return {
    id: inc.id,
    status: inc.status,
    mode: inc.mode,
    phase: inc.phase,
    severity: inc.severity,
    title: inc.title,
    source: inc.source,
    agent_id: inc.agentId,
    playbook_id: inc.playbookId,
    alert_count: inc.alertCount,
    opened_at: inc.openedAt,
    last_alert_at: inc.lastAlertAt,
    resolved_at: inc.resolvedAt,
    closed_at: inc.closedAt,
  };
}

const encodeCursor = (inc: IncidentRow) =>
  Buffer.from(JSON.stringify([inc.openedAt, inc.id])).toString('base64url');

function decodeCursor(cursor: string): [string, string] {
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'string'))
      return v as [string, string];
  } catch {
    // fall through
  }
  throw apiError(400, 'invalid_request', 'cursor: not a cursor this API returned', 'cursor');
}

/** The workflow's pending approvals, if it tracks them; [] when it does not or does not answer. */
async function pendingApprovals(temporal: TemporalHandle, inc: IncidentRow): Promise<unknown[]> {
  if (inc.status === 'closed' || !inc.startedAt) return [];
  // pendingApprovals joins IncidentState with the approvals work; until then it is absent.
  const query = queryIncident(temporal, inc.id, incidentState);
  const timeout = new Promise<undefined>((r) => setTimeout(() => r(undefined), 2000).unref());
  const state = await Promise.race([query.catch(() => undefined), timeout]);
  const pending = state?.pendingApprovals;
  return Array.isArray(pending) ? pending : [];
}

export function incidentRoutes(deps: { db: Db; temporal: TemporalHandle }) {
  const app = new Hono<ApiEnv>();
  app.use('*', requireScope('read'));

  app.get('/', (c) => {
    const q = IncidentListQuery.safeParse(c.req.query());
    if (!q.success) return c.json(zodErrorBody(q.error), 400);
    const { status, severity, agent, mode, limit, cursor } = q.data;
    const where: (SQL | undefined)[] = [
      status ? eq(incidents.status, status) : undefined,
      severity ? eq(incidents.severity, severity) : undefined,
      agent ? eq(incidents.agentId, agent) : undefined,
      mode ? eq(incidents.mode, mode) : undefined,
    ];
    if (cursor) {
      const [openedAt, id] = decodeCursor(cursor);
      where.push(
        or(lt(incidents.openedAt, openedAt), and(eq(incidents.openedAt, openedAt), lt(incidents.id, id))),
      );
    }
    const rows = deps.db
      .select()
      .from(incidents)
      .where(and(...where))
      .orderBy(desc(incidents.openedAt), desc(incidents.id))
      .limit(limit + 1)
      .all();
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return c.json({
      incidents: page.map(summary),
      next_cursor: rows.length > limit && last ? encodeCursor(last) : null,
    });
  });

  const load = (id: string) => {
    const inc = deps.db.select().from(incidents).where(eq(incidents.id, id)).get();
    if (!inc) throw apiError(404, 'not_found', `no incident ${id}`, 'id');
    return inc;
  };

  app.get('/:id', async (c) => {
    const inc = load(c.req.param('id'));
    const latest = inc.latestAlertId
      ? deps.db.select().from(alerts).where(eq(alerts.id, inc.latestAlertId)).get()
      : undefined;
    const body: IncidentDetail = {
      ...summary(inc),
      workflow_id: inc.workflowId,
      started_at: inc.startedAt,
      alerts: {
        count: inc.alertCount,
        latest: latest
          ? { id: latest.id, title: latest.title, status: latest.status, received_at: latest.receivedAt }
          : null,
      },
      pending_approvals: await pendingApprovals(deps.temporal, inc),
    };
    return c.json(body);
  });

  app.get('/:id/timeline', (c) => {
    const inc = load(c.req.param('id'));
    const q = TimelineQuery.safeParse(c.req.query());
    if (!q.success) return c.json(zodErrorBody(q.error), 400);
    const rows = deps.db
      .select()
      .from(timeline)
      .where(
        and(
          eq(timeline.incidentId, inc.id),
          q.data.cursor ? gt(timeline.id, Number(q.data.cursor)) : undefined,
        ),
      )
      .orderBy(asc(timeline.id))
      .limit(q.data.limit + 1)
      .all();
    const page = rows.slice(0, q.data.limit);
    return c.json({
      events: page.map((e) => ({
        id: e.id,
        at: e.at,
        kind: e.kind,
        actor: e.actor,
        message: e.message,
        data: e.data,
      })),
      next_cursor: rows.length > q.data.limit ? String(page[page.length - 1]!.id) : null,
    });
  });

  return app;
}
