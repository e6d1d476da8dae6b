/**
 * `POST /v1/connectors/opa/decision-logs`: where an OPA in front of the agents' tools uploads its
 * decision logs (its `decision_logs` plugin with a `services` entry pointing here, `resource:
 * /v1/connectors/opa/decision-logs`, bearer credentials): a JSON array of events, gzip-compressed
 * as OPA sends it or plain. Each sender has its own token from the config file
 * (`opa_decision_logs.senders`, kept as SHA-256 digests); a missing or unknown token is a 401,
 * rate limited per client address, and accepted uploads are rate limited per sender (429 with
 * Retry-After, which OPA backs off from and retries). The tool-call decisions of an upload are
 * stored verbatim, once per decision_id, and the 2xx is sent only after they are committed: OPA
 * keeps an upload it got no 2xx for and sends it again. A malformed body is a 400 naming the
 * field; a body over MAX_REQUEST_BYTES compressed or MAX_DECISION_LOG_BYTES decompressed is a 413.
 */
import zlib from 'node:zlib';
import { Hono } from 'hono';
import { sha256Hex, type DecisionLogsConfig } from '../../app/config-file';
import { recordDecisionUpload, type DecisionUpload } from '../../db/opa-decision-logs';
import {
  normalizeOpaTime,
  OpaDecisionUpload,
  toolCallDecision,
  type OpaDecisionEvent,
} from '../../domain/opa-decision-log';
import type { ApiDeps } from '../app';
import { bearerToken, peerAddress, type ApiEnv } from '../auth';
import { apiError, rateLimited, zodErrorBody } from '../errors';
import { RateLimiter } from '../rate-limit';

/** The most a decompressed upload may hold (OPA's default upload limit is 32 KiB compressed). */
export const MAX_DECISION_LOG_BYTES = 16 * 1024 * 1024;

export const DECISION_LOG_PATH = '/v1/connectors/opa/decision-logs';

function decode(body: Buffer, encoding: string | undefined): Buffer {
  const enc = (encoding ?? 'identity').trim().toLowerCase();
  if (enc === 'identity' || enc === '') {
    if (body.length > MAX_DECISION_LOG_BYTES)
      throw apiError(413, 'payload_too_large', `body exceeds ${MAX_DECISION_LOG_BYTES} bytes`, '(body)');
    return body;
  }
  if (enc !== 'gzip')
    throw apiError(415, 'unsupported_encoding', 'content-encoding: gzip or none', 'content-encoding');
  try {
    return zlib.gunzipSync(body, { maxOutputLength: MAX_DECISION_LOG_BYTES });
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE')
      throw apiError(
        413,
        'payload_too_large',
        `decompressed body exceeds ${MAX_DECISION_LOG_BYTES} bytes`,
        '(body)',
      );
    throw apiError(400, 'invalid_request', '(body): not valid gzip', '(body)');
  }
}

/** What to store of a parsed upload: its tool-call decisions and each OPA's newest decision time. */
function uploadOf(
  sender: string,
  events: OpaDecisionEvent[],
  raw: unknown[],
  receivedAt: string,
): DecisionUpload {
  const newest = new Map<string, string>();
  const byId = new Map<string, DecisionUpload['events'][number]>();
  for (const [i, e] of events.entries()) {
    const opaId = e.labels?.id ?? '';
    const at = normalizeOpaTime(e.timestamp)!;
    if ((newest.get(opaId) ?? '') < at) newest.set(opaId, at);
    const call = toolCallDecision(e);
    if (!call || byId.has(e.decision_id)) continue;
    byId.set(e.decision_id, {
      decisionId: e.decision_id,
      opaId,
      agentId: call.agentId,
      tool: call.tool,
      callId: call.callId,
      outcome: call.outcome,
      at,
      // The element as OPA sent it (its keys in OPA's order), not the parsed copy.
      event: JSON.stringify(raw[i]),
    });
  }
  return {
    sender,
    receivedAt,
    events: [...byId.values()],
    newest: [...newest].map(([opaId, newestAt]) => ({ opaId, newestAt })),
  };
}

export function opaDecisionLogRoutes(deps: ApiDeps & { decisionLogs: DecisionLogsConfig }) {
  const app = new Hono<ApiEnv>();
  const cfg = deps.decisionLogs;
  const senders = new Map(cfg.senders.map((s) => [s.sha256, s.name]));
  const limiter = new RateLimiter((key) =>
    key.startsWith('refused:') ? cfg.refusedRateLimit : cfg.rateLimit,
  );
  const nowMs = () => (deps.now?.() ?? new Date()).getTime();

  app.post('/decision-logs', async (c) => {
    const token = bearerToken(c.req.header('authorization'));
    const sender = token ? senders.get(sha256Hex(token)) : undefined;
    if (!sender) {
      const wait = limiter.take(`refused:${peerAddress(c) ?? 'unknown'}`, nowMs());
      if (wait > 0) throw rateLimited(`retry after ${wait} s`, wait);
      throw apiError(401, 'unauthorized', 'missing or unknown decision-log token');
    }
    const wait = limiter.take(`sender:${sender}`, nowMs());
    if (wait > 0) throw rateLimited(`retry after ${wait} s`, wait);
    // Bounded: the app-wide body limit has already refused a body over MAX_REQUEST_BYTES.
    const raw = decode(Buffer.from(await c.req.arrayBuffer()), c.req.header('content-encoding'));
    let doc: unknown;
    try {
      doc = JSON.parse(raw.toString('utf8'));
    } catch {
      throw apiError(
        400,
        'invalid_json',
        '(body): not valid JSON (a JSON array of decision events)',
        '(body)',
      );
    }
    const parsed = OpaDecisionUpload.safeParse(doc);
    if (!parsed.success) return c.json(zodErrorBody(parsed.error), 400);
    const upload = uploadOf(sender, parsed.data, doc as unknown[], new Date(nowMs()).toISOString());
    const { stored } = await recordDecisionUpload(deps.db, upload);
    return c.json(
      {
        received: parsed.data.length,
        tool_calls: upload.events.length,
        stored,
        duplicates: upload.events.length - stored,
      },
      200,
    );
  });
  return app;
}
