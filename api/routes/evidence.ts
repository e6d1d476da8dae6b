/**
 * The evidence API, under /v1/incidents: `GET /:id/evidence` lists an incident's artifacts with
 * their chain-of-custody records, `GET /:id/evidence/:sha256` serves one artifact's bytes after
 * re-checking its hash. Admin token for now (see require-admin.ts).
 */
import { Hono } from 'hono';
import { EvidenceStore } from '../../activities/evidence-store';
import type { ApiDeps } from '../app';
import { apiError } from '../errors';
import { requireAdmin } from './require-admin';

export function evidenceRoutes(deps: ApiDeps & { evidenceDir?: string }) {
  const app = new Hono();
  const store = new EvidenceStore(deps.db, deps.evidenceDir);
  app.use('/:id/evidence', requireAdmin(deps.credentials, 'evidence:read'));
  app.use('/:id/evidence/*', requireAdmin(deps.credentials, 'evidence:read'));

  app.get('/:id/evidence', (c) => {
    const rows = store.list(c.req.param('id'));
    return c.json({
      incident_id: c.req.param('id'),
      evidence: rows.map((r) => ({
        sha256: r.sha256,
        size: r.size,
        kind: r.kind,
        media_type: r.mediaType,
        source: r.source,
        collected_by: r.collectedBy,
        collected_at: r.collectedAt,
        agent_id: r.agentId,
        href: `/v1/incidents/${encodeURIComponent(r.incidentId)}/evidence/${r.sha256}`,
      })),
    });
  });

  app.get('/:id/evidence/:sha256', (c) => {
    const sha = c.req.param('sha256');
    if (!/^[0-9a-f]{64}$/.test(sha))
      throw apiError(400, 'invalid_request', 'sha256: 64 lowercase hex', 'sha256');
    const row = store.custody(c.req.param('id'), sha);
    if (!row) throw apiError(404, 'not_found', `no evidence ${sha} for incident ${c.req.param('id')}`);
    let content: Buffer;
    try {
      content = store.read(sha);
    } catch (err) {
      throw apiError(503, 'evidence_unavailable', `artifact cannot be served: ${(err as Error).message}`);
    }
    c.header('Content-Type', row.mediaType);
    c.header('X-Content-SHA256', sha);
    c.header('Cache-Control', 'private, no-store');
    return c.body(new Uint8Array(content), 200);
  });

  return app;
}
