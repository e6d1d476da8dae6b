/**
 * The incident API (read side): projections written by the incident workflows' activities, plus
 * the workflow's own view of pending approvals. Every route needs the `read` scope. Lists page
 * by an opaque keyset cursor (opened_at, id), newest first, so paging is stable under inserts.
 */
import { Hono } from 'hono';
import type { Db } from '../../db/client';
import { getAlert } from '../../db/incident-alerts';
import { getIncident, listIncidents, type IncidentRow } from '../../db/incidents';
import { timelinePage } from '../../db/timeline';
import { queryIncident, type TemporalHandle } from '../../temporal/client';
import { incidentState } from '../../workflows/messages';
import { requireScope, type ApiEnv } from '../auth';
import { apiError, zodErrorBody } from '../errors';
import { IncidentListQuery, TimelineQuery, type IncidentDetail, type IncidentSummary } from '../schemas';

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
    needs_attention:
      inc.needsAttentionAt && inc.needsAttentionReason
        ? { reason: inc.needsAttentionReason, step_id: inc.needsAttentionStep, at: inc.needsAttentionAt }
        : null,
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
  // Per route, never app.use('*'): routers share the /v1/incidents prefix (see api/app.ts).
  const read = requireScope('read');

  app.get('/', read, async (c) => {
    const q = IncidentListQuery.safeParse(c.req.query());
    if (!q.success) return c.json(zodErrorBody(q.error), 400);
    const { status, severity, agent, mode, needs_attention, limit, cursor } = q.data;
    const after = cursor ? decodeCursor(cursor) : undefined;
    const rows = await listIncidents(deps.db, {
      status,
      severity,
      agentId: agent,
      mode,
      needsAttention: needs_attention,
      after: after ? { openedAt: after[0], id: after[1] } : undefined,
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return c.json({
      incidents: page.map(summary),
      next_cursor: rows.length > limit && last ? encodeCursor(last) : null,
    });
  });

  const load = async (id: string) => {
    const inc = await getIncident(deps.db, id);
    if (!inc) throw apiError(404, 'not_found', `no incident ${id}`, 'id');
    return inc;
  };

  app.get('/:id', read, async (c) => {
    const inc = await load(c.req.param('id'));
    const latest = inc.latestAlertId ? await getAlert(deps.db, inc.latestAlertId) : undefined;
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

  app.get('/:id/timeline', read, async (c) => {
    const inc = await load(c.req.param('id'));
    const q = TimelineQuery.safeParse(c.req.query());
    if (!q.success) return c.json(zodErrorBody(q.error), 400);
    const after = q.data.cursor ? Number(q.data.cursor) : undefined;
    const rows = await timelinePage(deps.db, inc.id, after, q.data.limit + 1);
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
