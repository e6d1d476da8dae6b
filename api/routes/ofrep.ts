/**
 * The OpenFeature Remote Evaluation Protocol (OFREP, open-feature/protocol service/openapi.yaml),
 * so agent runtimes obey the kill switch through any OpenFeature SDK and its OFREP provider, with
 * no Firebreak SDK. Two flags, evaluated with `targetingKey` = agent id:
 * `firebreak.agent.enabled` (false once agent.disable ran) and `firebreak.tool.allowed` (context
 * `tool`; false while the agent is disabled or agent.tools.block took that tool). Each evaluation's
 * metadata carries `status_version`, `incident_id` and `status_jws`, the signed status document
 * it was computed from, which a runtime hook verifies (docs/kill-switch.md). Bulk evaluation has
 * ETag / If-None-Match → 304 (with a fresh signed document in `Firebreak-Status`) and announces
 * the event stream (`eventStreams`, ADR-0008): `GET /ofrep/v1/event-stream?agent=<id>` sends
 * `refetchEvaluation` the moment the agent's state changes. Every endpoint needs a runtime token
 * (api/runtime-auth.ts); refusals are errors every OFREP provider turns into the default value.
 */
import crypto from 'node:crypto';
import { Hono, type Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { statusDocument, statusEtag } from '../../connectors/kill-switch';
import { STATUS_JWS_HEADER, type StatusClaims } from '../../connectors/status-document';
import { getAgent } from '../../db/agents';
import type { ApiDeps } from '../app';
import type { ApiEnv } from '../auth';
import { refusalResponse, type RuntimeAccess } from '../runtime-auth';
import { StatusWatch } from '../status-watch';

export const AGENT_ENABLED_FLAG = 'firebreak.agent.enabled';
export const TOOL_ALLOWED_FLAG = 'firebreak.tool.allowed';
const FLAGS = [AGENT_ENABLED_FLAG, TOOL_ALLOWED_FLAG] as const;
type FlagKey = (typeof FLAGS)[number];
/** Comment lines that keep idle proxies from closing the stream. */
const KEEPALIVE_MS = 15_000;

interface EvalContext {
  targetingKey?: unknown;
  tool?: unknown;
}

type Failure = { status: 400 | 404; body: { key?: string; errorCode: string; errorDetails: string } };

function evaluate(key: FlagKey, ctx: EvalContext, c: StatusClaims, jws: string) {
  const metadata: Record<string, string | number> = { status_version: c.version, status_jws: jws };
  if (c.incident) metadata.incident_id = c.incident;
  if (key === AGENT_ENABLED_FLAG) {
    const on = c.status === 'enabled';
    return { key, value: on, variant: on ? 'enabled' : 'disabled', reason: 'TARGETING_MATCH', metadata };
  }
  const tool = ctx.tool as string;
  const on = c.status === 'enabled' && !c.blocked_tools.includes(tool);
  return { key, value: on, variant: on ? 'allowed' : 'blocked', reason: 'TARGETING_MATCH', metadata };
}

async function contextOf(c: Context<ApiEnv>): Promise<EvalContext | undefined> {
  const body: unknown = await c.req.json().catch(() => undefined);
  if (!body || typeof body !== 'object') return undefined;
  const ctx = (body as { context?: unknown }).context;
  return ctx && typeof ctx === 'object' ? (ctx as EvalContext) : undefined;
}

/** What is wrong with the request before any agent is looked at, as an OFREP failure. */
function contextFailure(key: string, ctx: EvalContext | undefined): Failure | undefined {
  if (!ctx)
    return {
      status: 400,
      body: { key, errorCode: 'PARSE_ERROR', errorDetails: 'body needs a context object' },
    };
  if (typeof ctx.targetingKey !== 'string' || ctx.targetingKey === '')
    return {
      status: 400,
      body: { key, errorCode: 'TARGETING_KEY_MISSING', errorDetails: 'targetingKey must be the agent id' },
    };
  if (key === TOOL_ALLOWED_FLAG && (typeof ctx.tool !== 'string' || ctx.tool === ''))
    return {
      status: 400,
      body: { key, errorCode: 'INVALID_CONTEXT', errorDetails: `${TOOL_ALLOWED_FLAG} needs context.tool` },
    };
  return undefined;
}

export function ofrepRoutes(deps: ApiDeps & { runtimeAccess: RuntimeAccess }) {
  const app = new Hono<ApiEnv>();
  const access = deps.runtimeAccess;
  const clock = () => deps.now?.() ?? new Date();
  const exists = async (id: string) => (await getAgent(deps.db, id)) !== undefined;
  const watch = new StatusWatch(deps.db);

  /** Token, then context, then scope: an outsider learns nothing about agents or flags. */
  async function admit(c: Context<ApiEnv>, key: string) {
    const caller = await access.caller(c);
    if (!caller) return { response: refusalResponse(c, access.refuse(c, 401)) };
    const ctx = await contextOf(c);
    const bad = contextFailure(key, ctx);
    if (bad) return { response: c.json(bad.body, bad.status) };
    const agentId = ctx!.targetingKey as string;
    const d = await access.decide(c, [agentId], exists, caller);
    if (d.kind !== 'allowed') return { response: refusalResponse(c, d) };
    const doc = await statusDocument(deps.db, deps.statusKey, agentId, clock());
    if (!doc) return { response: refusalResponse(c, { kind: 'refused', status: 403 }) };
    return { ctx: ctx!, doc };
  }

  app.post('/evaluate/flags/:key', async (c) => {
    const key = c.req.param('key');
    if (!(FLAGS as readonly string[]).includes(key)) {
      if (!(await access.caller(c))) return refusalResponse(c, access.refuse(c, 401));
      return c.json({ key, errorCode: 'FLAG_NOT_FOUND', errorDetails: `no flag ${key}` }, 404);
    }
    const a = await admit(c, key);
    if ('response' in a) return a.response;
    c.header('Cache-Control', 'no-store');
    return c.json(evaluate(key as FlagKey, a.ctx, a.doc.claims, a.doc.jws));
  });

  app.post('/evaluate/flags', async (c) => {
    const a = await admit(c, AGENT_ENABLED_FLAG);
    if ('response' in a) return a.response;
    const { ctx, doc } = a;
    const withTool = typeof ctx.tool === 'string' && ctx.tool !== '';
    const toolTag = withTool
      ? `;t=${crypto
          .createHash('sha256')
          .update(ctx.tool as string)
          .digest('hex')
          .slice(0, 12)}`
      : '';
    const etag = `${doc.etag.slice(0, -1)}${toolTag}"`;
    c.header('ETag', etag);
    c.header('Cache-Control', 'private, no-cache');
    c.header(STATUS_JWS_HEADER, doc.jws);
    if (c.req.header('if-none-match') === etag) return c.body(null, 304);
    const keys: FlagKey[] = withTool ? [AGENT_ENABLED_FLAG, TOOL_ALLOWED_FLAG] : [AGENT_ENABLED_FLAG];
    const agent = encodeURIComponent(doc.claims.agent_id);
    return c.json({
      flags: keys.map((k) => evaluate(k, ctx, doc.claims, doc.jws)),
      eventStreams: [{ type: 'sse', endpoint: { requestUri: `/ofrep/v1/event-stream?agent=${agent}` } }],
      metadata: { status_version: doc.claims.version },
    });
  });

  app.get('/event-stream', async (c) => {
    const agentId = c.req.query('agent') ?? '';
    const d = await access.decide(c, [agentId], exists);
    if (d.kind !== 'allowed') return refusalResponse(c, d);
    c.header('Cache-Control', 'no-store');
    return streamSSE(c, async (stream) => {
      let wake: () => void = () => undefined;
      const pending: number[] = [];
      const unsubscribe = watch.subscribe(agentId, (v) => {
        pending.push(v);
        wake();
      });
      stream.onAbort(() => wake());
      try {
        await stream.writeSSE({ event: 'message', retry: 1000, data: JSON.stringify({ type: 'connected' }) });
        while (!stream.aborted) {
          let timer: NodeJS.Timeout | undefined;
          await new Promise<void>((resolve) => {
            wake = resolve;
            timer = setTimeout(resolve, KEEPALIVE_MS);
            if (pending.length > 0) resolve();
          });
          clearTimeout(timer);
          if (stream.aborted) break;
          if (pending.length === 0) await stream.write(': keep-alive\n\n');
          for (const v of pending.splice(0)) await stream.writeSSE(refetchEvent(v));
        }
      } finally {
        unsubscribe();
      }
    });
  });

  return app;
}

/** ADR-0008's notification: the runtime re-fetches the bulk evaluation, and verifies what it gets. */
function refetchEvent(version: number) {
  return {
    event: 'message',
    id: `v${version}`,
    data: JSON.stringify({
      type: 'refetchEvaluation',
      etag: statusEtag({ statusVersion: version }),
      lastModified: Math.floor(Date.now() / 1000),
    }),
  };
}
