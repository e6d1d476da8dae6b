/**
 * The agent inventory API: `POST /v1/agents` bulk upsert (audited as the caller; it never changes
 * a stored status, and refuses with 400 to move a credential between agents), `GET /v1/agents`,
 * `GET /v1/agents/:id` (scoped tokens: `read` to list, `admin` to change), and the public, signed
 * kill-switch status `GET /v1/agents/:id/status` that agent runtimes and gateways poll (no auth:
 * it reveals only enabled/disabled, and is signed).
 */
import { Hono } from 'hono';
import { agentView, AgentsImport, CredentialReassignment, upsertAgents } from '../../connectors/inventory';
import { STATUS_SIGNATURE_HEADER, statusDocument, statusSigningKey } from '../../connectors/kill-switch';
import { agentCredentialsOf, getAgent, listAgents } from '../../db/agents';
import { dataDirOf } from '../../db/client';
import type { ApiDeps } from '../app';
import { requireScope, type ApiEnv } from '../auth';
import { apiError, zodErrorBody } from '../errors';

/** How long a runtime may cache a status: the kill switch takes effect within this many seconds. */
export const STATUS_MAX_AGE_SECONDS = 5;

export function agentRoutes(deps: ApiDeps & { statusSigningKey?: Buffer }) {
  const app = new Hono<ApiEnv>();
  const key =
    deps.statusSigningKey ??
    statusSigningKey({ dataDir: dataDirOf(deps.db), webhookSecret: deps.credentials.webhookSecret });
  const now = () => (deps.now?.() ?? new Date()).toISOString();
  const admin = requireScope('admin');
  const read = requireScope('read');

  app.get('/:id/status', async (c) => {
    const doc = await statusDocument(deps.db, key, c.req.param('id'), now());
    if (!doc) throw apiError(404, 'not_found', `no agent ${c.req.param('id')}`, 'id');
    c.header('Cache-Control', `max-age=${STATUS_MAX_AGE_SECONDS}, must-revalidate`);
    c.header('ETag', doc.etag);
    if (c.req.header('if-none-match') === doc.etag) return c.body(null, 304);
    c.header(STATUS_SIGNATURE_HEADER, doc.signature);
    c.header('Content-Type', 'application/json');
    return c.body(doc.body, 200);
  });

  app.post('/', admin, async (c) => {
    const raw: unknown = await c.req.json().catch(() => {
      throw apiError(400, 'invalid_json', 'body is not valid JSON');
    });
    const parsed = AgentsImport.safeParse(Array.isArray(raw) ? { agents: raw } : raw);
    if (!parsed.success) return c.json(zodErrorBody(parsed.error), 400);
    try {
      return c.json(await upsertAgents(deps.db, parsed.data.agents, now(), c.var.user.id), 200);
    } catch (err) {
      if (!(err instanceof CredentialReassignment)) throw err;
      const [i, j] = err.at;
      throw apiError(400, 'credential_reassigned', err.message, `agents.${i}.credentials.${j}.id`);
    }
  });

  app.get('/', read, async (c) => {
    const rows = await listAgents(deps.db);
    const creds = await agentCredentialsOf(
      deps.db,
      rows.map((r) => r.id),
    );
    return c.json({ agents: rows.map((a) => agentView(a, creds)) });
  });

  app.get('/:id', read, async (c) => {
    const a = await getAgent(deps.db, c.req.param('id'));
    if (!a) throw apiError(404, 'not_found', `no agent ${c.req.param('id')}`, 'id');
    return c.json(agentView(a, await agentCredentialsOf(deps.db, [a.id])));
  });

  return app;
}
