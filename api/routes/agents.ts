/**
 * The agent inventory API: `POST /v1/agents` bulk upsert (audited as the caller; it never changes
 * a stored status, and refuses with 400 to move a credential between agents), `GET /v1/agents`,
 * `GET /v1/agents/:id` (scoped tokens: `read` to list, `admin` to change), and the kill-switch
 * status `GET /v1/agents/:id/status` that agent runtimes and gateways poll: a JWS signed with the
 * status key (connectors/status-document.ts), for a runtime token scoped to the agent
 * (api/runtime-auth.ts). A revalidation (304) carries a freshly signed document in the
 * `Firebreak-Status` header, so it never extends the life of the cached one.
 */
import { Hono } from 'hono';
import { agentView, AgentsImport, CredentialReassignment, upsertAgents } from '../../connectors/inventory';
import { statusDocument } from '../../connectors/kill-switch';
import { STATUS_CONTENT_TYPE, STATUS_JWS_HEADER } from '../../connectors/status-document';
import { agentCredentialsOf, getAgent, listAgents } from '../../db/agents';
import type { ApiDeps } from '../app';
import { requireScope, type ApiEnv } from '../auth';
import { apiError, refuseNulCharacters, zodErrorBody } from '../errors';
import { refusalResponse, type RuntimeAccess } from '../runtime-auth';

/** How long a runtime may cache a status: the kill switch takes effect within this many seconds. */
export const STATUS_MAX_AGE_SECONDS = 5;

export function agentRoutes(deps: ApiDeps & { runtimeAccess: RuntimeAccess }) {
  const app = new Hono<ApiEnv>();
  const clock = () => deps.now?.() ?? new Date();
  const now = () => clock().toISOString();
  const admin = requireScope('admin');
  const read = requireScope('read');
  const exists = async (id: string) => (await getAgent(deps.db, id)) !== undefined;

  app.get('/:id/status', async (c) => {
    const id = c.req.param('id');
    const d = await deps.runtimeAccess.decide(c, [id], exists);
    if (d.kind !== 'allowed') return refusalResponse(c, d);
    const doc = await statusDocument(deps.db, deps.statusKey, id, clock());
    if (!doc) return refusalResponse(c, { kind: 'refused', status: 403 });
    c.header('Cache-Control', `private, max-age=${STATUS_MAX_AGE_SECONDS}, must-revalidate`);
    c.header('ETag', doc.etag);
    c.header(STATUS_JWS_HEADER, doc.jws);
    if (c.req.header('if-none-match') === doc.etag) return c.body(null, 304);
    return c.body(doc.jws, 200, { 'Content-Type': STATUS_CONTENT_TYPE });
  });

  app.post('/', admin, async (c) => {
    const raw: unknown = await c.req.json().catch(() => {
      throw apiError(400, 'invalid_json', 'body is not valid JSON');
    });
    const parsed = AgentsImport.safeParse(Array.isArray(raw) ? { agents: raw } : raw);
    if (!parsed.success) return c.json(zodErrorBody(parsed.error), 400);
    refuseNulCharacters(parsed.data);
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
