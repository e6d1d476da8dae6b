/**
 * The evidence API, under /v1/incidents: `GET /:id/evidence` lists an incident's artifacts with
 * their chain-of-custody records, `GET /:id/evidence/:sha256` serves one artifact's bytes after
 * re-checking its hash; `POST /:id/evidence?kind=&source=` lets a person add an artifact they
 * collected by hand (custody names them) to an incident that exists, up to MAX_EVIDENCE_BYTES
 * (api/body-limit.ts refuses more while reading). The declared Content-Type is kept only as data:
 * an artifact is always served as an opaque download (attachment, nosniff, a CSP that allows
 * nothing), so an uploaded HTML page never runs on the API's origin. Scoped tokens: `read` to list
 * and fetch, `respond` to add.
 */
import { Hono } from 'hono';
import { EvidenceStore } from '../../db/evidence-store';
import { incidentExists } from '../../db/incidents';
import type { ApiDeps } from '../app';
import { requireScope, type ApiEnv } from '../auth';
import { MAX_EVIDENCE_BYTES } from '../body-limit';
import { apiError } from '../errors';

/** Headers that make any artifact a download the browser neither renders nor sniffs. */
const DOWNLOAD_HEADERS = {
  'Content-Type': 'application/octet-stream',
  'X-Content-Type-Options': 'nosniff',
  'Content-Security-Policy': "default-src 'none'; sandbox",
  'Cache-Control': 'private, no-store',
} as const;

/** The declared media type, as data: a bounded, printable string. */
function declaredMediaType(header: string | undefined): string {
  const t = header?.trim();
  return t && t.length <= 200 && /^[\x20-\x7e]+$/.test(t) ? t : 'application/octet-stream';
}

export function evidenceRoutes(deps: ApiDeps) {
  const app = new Hono<ApiEnv>();
  const store = new EvidenceStore(deps.db);

  app.post('/:id/evidence', requireScope('respond'), async (c) => {
    const kind = c.req.query('kind');
    const source = c.req.query('source');
    if (!kind || !/^[a-z_]{1,40}$/.test(kind))
      throw apiError(400, 'invalid_request', 'kind: required, a-z and _', 'kind');
    if (!source || source.length > 500)
      throw apiError(400, 'invalid_request', 'source: where it came from', 'source');
    const incidentId = c.req.param('id');
    if (!(await incidentExists(deps.db, incidentId)))
      throw apiError(404, 'not_found', `no incident ${incidentId}`, 'id');
    // Bounded: the app-wide body limit has already refused anything over MAX_EVIDENCE_BYTES.
    const body = Buffer.from(await c.req.arrayBuffer());
    if (body.length === 0) throw apiError(400, 'invalid_request', 'body: the artifact bytes', 'body');
    if (body.length > MAX_EVIDENCE_BYTES)
      throw apiError(413, 'payload_too_large', `artifacts are limited to ${MAX_EVIDENCE_BYTES} bytes`);
    const art = await store.put(body, {
      incidentId,
      kind,
      mediaType: declaredMediaType(c.req.header('content-type')),
      source,
      collectedBy: `person:${c.var.user.id}`,
      collectedAt: (deps.now?.() ?? new Date()).toISOString(),
      agentId: c.req.query('agent_id') ?? null,
    });
    return c.json({ sha256: art.sha256, size: art.size }, 201);
  });

  app.get('/:id/evidence', requireScope('read'), async (c) => {
    const rows = await store.list(c.req.param('id'));
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

  app.get('/:id/evidence/:sha256', requireScope('read'), async (c) => {
    const sha = c.req.param('sha256');
    if (!/^[0-9a-f]{64}$/.test(sha))
      throw apiError(400, 'invalid_request', 'sha256: 64 lowercase hex', 'sha256');
    const row = await store.custody(c.req.param('id'), sha);
    if (!row) throw apiError(404, 'not_found', `no evidence ${sha} for incident ${c.req.param('id')}`);
    let content: Buffer;
    try {
      content = await store.read(sha);
    } catch (err) {
      throw apiError(503, 'evidence_unavailable', `artifact cannot be served: ${(err as Error).message}`);
    }
    return c.body(new Uint8Array(content), 200, {
      ...DOWNLOAD_HEADERS,
      'Content-Disposition': `attachment; filename="${sha}.bin"`,
      'X-Content-SHA256': sha,
      'X-Declared-Content-Type': declaredMediaType(row.mediaType),
    });
  });

  return app;
}
