/**
 * The HTTP edge of one intake request, whatever the format: authenticate the source over the raw
 * body (already bounded by api/body-limit.ts), refuse a source that is out of tokens, parse and
 * validate, normalize to `Alert`s, cap them per request, spend one token per alert (a refused
 * body spends one), then hand them to the durable intake (intake/: route, group commit, outbox),
 * which resolves once they are committed. Every refusal is an expected 4xx, never a 5xx.
 */
import type { Context } from 'hono';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { FileConfig, SourceConfig } from '../app/config-file';
import type { StoredAlert } from '../db/alerts';
import type { Db } from '../db/client';
import { AgentIdConflict, resolveAgentId, type Alert } from '../domain/alert';
import { AlertIntake } from '../intake/intake';
import type { Outbox } from '../intake/outbox';
import { peerAddress } from './auth';
import { apiError, rateLimited, refuseNulCharacters, zodErrorBody } from './errors';
import { authenticateSource, claimSignatureOnce, SIGNATURE_HEADER } from './intake-auth';
import type { IntakeMetrics } from './intake-metrics';
import { RateLimiter } from './rate-limit';

export const DEFAULT_SOURCE = 'default';

export interface IntakeDeps {
  db: Db;
  outbox: Outbox;
  log: Logger;
  metrics: IntakeMetrics;
  file: FileConfig;
  webhookSecret: string;
  now: () => Date;
}

/** The file's sources, plus `default` (FIREBREAK_WEBHOOK_SECRET) unless the file defines its secret. */
export function intakeSources(file: FileConfig, webhookSecret: string): SourceConfig[] {
  const fromFile = file.sources.find((s) => s.id === DEFAULT_SOURCE);
  const def: SourceConfig = {
    id: DEFAULT_SOURCE,
    alertmanagerKey: 'fingerprint',
    rateLimit: file.defaultRateLimit,
    requireSignature: false,
    ...fromFile,
    secret: fromFile?.secret ?? webhookSecret,
    routingKey: fromFile?.routingKey ?? fromFile?.secret ?? webhookSecret,
  };
  return [def, ...file.sources.filter((s) => s.id !== DEFAULT_SOURCE)];
}

export type Normalize<T> = (body: T, source: SourceConfig, receivedAt: string) => Alert[];

export function createIntake(deps: IntakeDeps) {
  const sources = intakeSources(deps.file, deps.webhookSecret);
  const limits = new Map(sources.map((s) => [s.id, s.rateLimit]));
  const intake = new AlertIntake({
    db: deps.db,
    outbox: deps.outbox,
    rules: deps.file.rules,
    onCommit: (seconds, requests) => deps.metrics.observeCommit(seconds, requests),
  });
  const limiter = new RateLimiter((id) => limits.get(id) ?? deps.file.defaultRateLimit);
  const maxAlerts = deps.file.maxAlertsPerRequest;

  /** Runs the pipeline; returns the normalized alerts with where each was stored. */
  return async function accept<S extends z.ZodType>(
    c: Context,
    schema: S,
    normalize: Normalize<z.infer<S>>,
    opts: { routingKeyAuth?: boolean } = {},
  ): Promise<{ alerts: Alert[]; stored: StoredAlert[] }> {
    const raw = new Uint8Array(await c.req.arrayBuffer());
    let json: unknown;
    let jsonOk: boolean | undefined;
    const parse = (): boolean => {
      if (jsonOk === undefined) {
        try {
          json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw));
          jsonOk = true;
        } catch {
          jsonOk = false;
        }
      }
      return jsonOk;
    };
    const nowMs = deps.now().getTime();
    const auth = authenticateSource(
      sources,
      {
        authorization: c.req.header('authorization'),
        signature: c.req.header(SIGNATURE_HEADER),
        rawBody: raw,
      },
      nowMs,
      opts.routingKeyAuth
        ? () => {
            const key = parse() ? (json as { routing_key?: unknown } | null)?.routing_key : undefined;
            return typeof key === 'string' ? key : undefined;
          }
        : undefined,
    );
    if (!auth.ok) {
      deps.metrics.authFailures[auth.reason] += 1;
      deps.log.warn(
        { path: c.req.path, reason: auth.reason, source: auth.source?.id, remote: peerAddress(c) },
        'alert rejected: authentication failed',
      );
      if (auth.reason === 'signature_required') {
        throw apiError(
          401,
          'signature_required',
          `source ${auth.source?.id} accepts only X-Firebreak-Signature: its secret is refused as a bearer token or routing key`,
        );
      }
      throw apiError(401, 'unauthorized', 'missing or invalid alert source credentials');
    }
    const source = auth.source;
    const limit = (wait: number) => {
      deps.metrics.count(deps.metrics.rateLimited, source.id);
      return rateLimited(`source ${source.id} is over its rate limit; retry in ${wait}s`, wait);
    };
    const refuse = (err: Error) => {
      limiter.take(source.id, nowMs);
      deps.metrics.count(deps.metrics.invalid, source.id);
      return err;
    };
    const wait = limiter.wait(source.id, nowMs);
    if (wait > 0) throw limit(wait);
    if (!parse()) throw refuse(apiError(400, 'invalid_json', 'body is not valid JSON', '(body)'));
    const parsed = schema.safeParse(json);
    if (!parsed.success)
      throw refuse(apiError(400, 'invalid_request', '', undefined, zodErrorBody(parsed.error)));
    try {
      refuseNulCharacters(parsed.data);
    } catch (err) {
      throw refuse(err as Error);
    }
    const receivedAt = new Date(nowMs).toISOString();
    let alerts: Alert[];
    try {
      alerts = normalize(parsed.data, source, receivedAt).map(resolveAgentId);
    } catch (err) {
      if (err instanceof AgentIdConflict)
        throw refuse(apiError(400, 'agent_id_conflict', err.message, 'labels.agent_id'));
      throw err;
    }
    if (alerts.length > maxAlerts) {
      const message = `alerts: ${alerts.length} alerts in one request; at most ${maxAlerts} (max_alerts_per_request)`;
      throw refuse(apiError(400, 'too_many_alerts', message, 'alerts'));
    }
    const spent = limiter.take(source.id, nowMs, alerts.length);
    if (spent > 0) throw limit(spent);
    const claim = await claimSignatureOnce(deps.db, auth, nowMs);
    if (!claim.ok) {
      deps.metrics.authFailures[claim.reason] += 1;
      deps.log.warn(
        { path: c.req.path, reason: claim.reason, source: source.id, remote: peerAddress(c) },
        'alert rejected: authentication failed',
      );
      throw apiError(
        409,
        'replayed_signature',
        `this signature was already accepted at ${claim.firstSeenAt}: sign each delivery anew, with the current t`,
      );
    }
    const stored = await intake.accept(alerts, receivedAt, source).catch(async (err: unknown) => {
      await claim.release();
      throw err;
    });
    deps.metrics.count(deps.metrics.accepted, source.id, stored.filter((s) => s.alertId).length);
    return { alerts, stored };
  };
}

export type Intake = ReturnType<typeof createIntake>;
