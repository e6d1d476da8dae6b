/**
 * The post-mortem API, under /v1/incidents (read scope): the report as Markdown or JSON and the
 * incident's tracked action items. The report is the stored one while it covers the whole
 * timeline; otherwise (or when the incident never reached its postmortem phase) it is rendered
 * from current facts for this read, so every read reflects what the DB holds, and a read never
 * writes (X-Postmortem-Stored says which of the two was served).
 */
import { Hono } from 'hono';
import type { Db } from '../../db/client';
import { incidentExists } from '../../db/incidents';
import { currentPostmortem } from '../../db/postmortem-report';
import { listActionItems } from '../../db/postmortem-report';
import { requireScope, type ApiEnv } from '../auth';
import { apiError } from '../errors';

export function postmortemRoutes(deps: { db: Db; now?: () => Date }) {
  const app = new Hono<ApiEnv>();
  const now = () => (deps.now ?? (() => new Date()))().toISOString();
  const report = async (id: string, by: string) => {
    const pm = await currentPostmortem(deps.db, id, now(), by);
    if (!pm) throw apiError(404, 'not_found', `no incident ${id}`, 'id');
    return pm;
  };
  const revisionHeaders = (pm: {
    revision: number;
    sha256: string;
    generatedAt: string;
    stored: boolean;
  }) => ({
    'X-Postmortem-Revision': String(pm.revision),
    'X-Postmortem-Stored': String(pm.stored),
    'X-Postmortem-Generated-At': pm.generatedAt,
    'X-Postmortem-SHA256': pm.sha256,
  });

  app.get('/:id/postmortem.md', requireScope('read'), async (c) => {
    const pm = await report(c.req.param('id'), `api:${c.var.user.id}`);
    return c.body(pm.markdown, 200, {
      'Content-Type': 'text/markdown; charset=utf-8',
      ...revisionHeaders(pm),
    });
  });

  app.get('/:id/postmortem.json', requireScope('read'), async (c) => {
    const pm = await report(c.req.param('id'), `api:${c.var.user.id}`);
    const body = { revision: pm.revision, generated_by: pm.generatedBy, sha256: pm.sha256, ...pm.report };
    return c.json(body, 200, revisionHeaders(pm));
  });

  app.get('/:id/action-items', requireScope('read'), async (c) => {
    const id = c.req.param('id');
    if (!(await incidentExists(deps.db, id))) throw apiError(404, 'not_found', `no incident ${id}`, 'id');
    return c.json({ incident_id: id, action_items: await listActionItems(deps.db, id) });
  });

  return app;
}
