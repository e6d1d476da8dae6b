/**
 * A Bolt receiver that lives inside Firebreak's Hono server (POST /slack/events) instead of
 * opening its own port. It reads at most `maxBodyBytes` of the body (→ 413 past it, without reading
 * the rest; the API's app-wide limit normally refuses such a body first), verifies Slack's v0
 * signature over the raw body with a 5-minute window
 * (unsigned, forged or stale → 401), refuses bodies without the envelope Slack always sends (→ 400,
 * where Bolt would otherwise throw), answers url_verification, hands the parsed body to Bolt, and
 * responds as soon as a listener acks (or after `ackTimeoutMs`, well inside Slack's 3 s), while
 * the listener's work continues after the response.
 */
import crypto from 'node:crypto';
import type { App, Receiver, ReceiverEvent } from '@slack/bolt';
import type { Logger } from 'pino';

export interface SlackHttpHandler {
  handle(req: Request): Promise<Response>;
}

/** The POST /slack/events route: Bolt's receiver, or a clear 404 when Slack is not served over HTTP. */
export function slackEvents(handler: SlackHttpHandler | undefined) {
  return (c: { req: { raw: Request } }): Promise<Response> | Response =>
    handler
      ? handler.handle(c.req.raw)
      : Response.json(
          {
            error: {
              code: 'slack_not_configured',
              message:
                'Slack is not configured over HTTP: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN for Socket Mode); see docs/slack.md',
            },
          },
          { status: 404 },
        );
}

const MAX_SKEW_SECONDS = 5 * 60;
/** Slack's payloads are a few KiB; its largest (a full modal's state) stays far below this. */
export const MAX_SLACK_BODY_BYTES = 1024 * 1024;

/** The body's bytes, or undefined as soon as it exceeds `max` (the rest is never read). */
async function readBounded(req: Request, max: number): Promise<Uint8Array | undefined> {
  if (!req.body) return new Uint8Array(0);
  const declared = Number(req.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > max) return undefined;
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > max) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size);
}

function unauthorized(message: string): Response {
  return Response.json({ error: { code: 'unauthorized', message } }, { status: 401 });
}

/** True when `signature` is Slack's v0 HMAC of `v0:<timestamp>:<body>` and the timestamp is fresh. */
export function verifySlackSignature(opts: {
  signingSecret: string;
  timestamp: string | null;
  signature: string | null;
  /** The raw bytes as received (a string is taken as UTF-8). */
  body: Uint8Array | string;
  nowSeconds: number;
}): 'ok' | 'missing' | 'stale' | 'mismatch' {
  if (!opts.timestamp || !opts.signature) return 'missing';
  const ts = Number(opts.timestamp);
  if (!Number.isInteger(ts) || Math.abs(opts.nowSeconds - ts) > MAX_SKEW_SECONDS) return 'stale';
  const mac = crypto.createHmac('sha256', opts.signingSecret).update(`v0:${ts}:`).update(opts.body);
  const expected = `v0=${mac.digest('hex')}`;
  const a = Buffer.from(expected);
  const b = Buffer.from(opts.signature);
  return a.length === b.length && crypto.timingSafeEqual(a, b) ? 'ok' : 'mismatch';
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const absentOr = (v: unknown, ok: (v: unknown) => boolean): boolean => v === undefined || ok(v);
const stringOrObject = (v: unknown): boolean => typeof v === 'string' || isObject(v);

/** A view's state as Slack sends it: {values: {[blockId]: {[actionId]: {value?: string, …}}}}. */
function wellFormedState(state: unknown): boolean {
  return (
    isObject(state) &&
    isObject(state.values) &&
    Object.values(state.values).every(
      (block) =>
        isObject(block) &&
        Object.values(block).every(
          (input) => isObject(input) && absentOr(input.value, (v) => v === null || typeof v === 'string'),
        ),
    )
  );
}

/**
 * The workspace ids Bolt reads from a body (see its buildSource) and then uses as keys of a plain
 * object of Web API clients. A name such as `valueOf` or `__proto__` would resolve to an inherited
 * property there and make Bolt throw; Slack's own ids (T…, E…) never collide with those names.
 */
function workspaceIds(body: Json): unknown[] {
  const first = Array.isArray(body.authorizations) ? (body.authorizations[0] as unknown) : undefined;
  const nested = (v: unknown, key: string) => (isObject(v) ? v[key] : undefined);
  return [
    body.team_id,
    body.enterprise_id,
    nested(first, 'team_id'),
    nested(first, 'enterprise_id'),
    nested(body.team, 'id'),
    nested(body.team, 'enterprise_id'),
    nested(body.enterprise, 'id'),
    nested(body.user, 'team_id'),
    nested(body.view, 'app_installed_team_id'),
  ];
}

const inheritedName = (v: unknown): boolean => typeof v === 'string' && v in Object.prototype;

/**
 * Whether a signed body has the envelope Slack always sends for its kind. Bolt (and the modal
 * listeners, before they ack) read these fields without checking them, so anything else would
 * throw inside Bolt and come back as a 500; it is the request's fault, hence a 400.
 */
function wellFormed(body: Json): boolean {
  if (workspaceIds(body).some(inheritedName)) return false;
  if (body.event !== undefined) {
    const e = body.event;
    return (
      isObject(e) &&
      absentOr(e.channel, stringOrObject) &&
      absentOr(e.user, stringOrObject) &&
      absentOr(e.item, isObject) &&
      absentOr(e.subteam, isObject) &&
      (!Array.isArray(body.authorizations) || body.authorizations.every(isObject))
    );
  }
  if (body.command !== undefined) return true;
  const view = body.type === 'view_submission' || body.type === 'view_closed';
  const interactive =
    view ||
    body.actions !== undefined ||
    body.name !== undefined ||
    ['dialog_submission', 'block_suggestion', 'shortcut', 'message_action'].includes(String(body.type));
  if (!interactive) return true;
  return (
    isObject(body.user) &&
    absentOr(body.channel, isObject) &&
    absentOr(body.actions, (a) => Array.isArray(a) && a.length > 0 && a.every(isObject)) &&
    absentOr(body.response_urls, (r) => Array.isArray(r) && r.every(isObject)) &&
    (!view ||
      (isObject(body.view) &&
        absentOr(body.view.state, wellFormedState) &&
        (body.type !== 'view_submission' || body.view.state !== undefined)))
  );
}

function parseBody(raw: string, contentType: string): Json {
  let body: unknown;
  if (contentType.includes('application/json')) body = JSON.parse(raw);
  else {
    const form = new URLSearchParams(raw);
    const payload = form.get('payload');
    // Interactivity sends `payload=<json>`; slash commands send plain form fields.
    body = payload !== null ? JSON.parse(payload) : Object.fromEntries(form);
  }
  if (!isObject(body) || !wellFormed(body)) throw new Error('not a Slack payload');
  return body;
}

function toResponse(body: unknown): Response {
  if (body === undefined || body === null || body === '') return new Response(null, { status: 200 });
  if (typeof body === 'string') return new Response(body, { status: 200 });
  return Response.json(body, { status: 200 });
}

export class HonoReceiver implements Receiver, SlackHttpHandler {
  private bolt: App | undefined;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly opts: {
      signingSecret: string;
      log: Logger;
      ackTimeoutMs?: number;
      maxBodyBytes?: number;
      now?: () => Date;
    },
  ) {}

  init(app: App): void {
    this.bolt = app;
  }

  async start(): Promise<void> {}

  /** Lets listener work that is still running after its ack finish (graceful shutdown, tests). */
  async stop(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }

  async handle(req: Request): Promise<Response> {
    // The signature covers the bytes as sent; decoding first would drop a leading BOM.
    const max = this.opts.maxBodyBytes ?? MAX_SLACK_BODY_BYTES;
    const bytes = await readBounded(req, max);
    if (!bytes)
      return Response.json(
        { error: { code: 'payload_too_large', message: `body exceeds ${max} bytes`, field: '(body)' } },
        { status: 413, headers: { connection: 'close' } },
      );
    const raw = Buffer.from(bytes).toString('utf8');
    const nowSeconds = Math.floor((this.opts.now?.() ?? new Date()).getTime() / 1000);
    const verdict = verifySlackSignature({
      signingSecret: this.opts.signingSecret,
      timestamp: req.headers.get('x-slack-request-timestamp'),
      signature: req.headers.get('x-slack-signature'),
      body: bytes,
      nowSeconds,
    });
    if (verdict !== 'ok') {
      this.opts.log.warn({ verdict }, 'Slack request rejected: bad or missing signature');
      return unauthorized(
        verdict === 'stale'
          ? 'request timestamp is more than 5 minutes from now'
          : 'missing or invalid Slack signature',
      );
    }
    let body: Record<string, unknown>;
    try {
      body = parseBody(raw, req.headers.get('content-type') ?? '');
    } catch {
      return Response.json(
        { error: { code: 'invalid_request', message: 'unparseable or malformed Slack payload' } },
        { status: 400 },
      );
    }
    if (body.ssl_check) return new Response(null, { status: 200 });
    if (body.type === 'url_verification') return Response.json({ challenge: body.challenge });
    if (!this.bolt) return new Response('Slack app not initialised', { status: 503 });
    return this.dispatch(this.bolt, body, req.headers);
  }

  private dispatch(bolt: App, body: Record<string, unknown>, headers: Headers): Promise<Response> {
    return new Promise<Response>((resolve) => {
      let acked = false;
      const respond = (res: Response) => {
        if (acked) return;
        acked = true;
        clearTimeout(timer);
        resolve(res);
      };
      // Slack gives up after 3 s; a listener still working unacked by then gets an empty 200.
      const timer = setTimeout(
        () => respond(new Response(null, { status: 200 })),
        this.opts.ackTimeoutMs ?? 2500,
      );
      const retry = headers.get('x-slack-retry-num');
      const event: ReceiverEvent = {
        body,
        retryNum: retry ? Number(retry) : undefined,
        retryReason: headers.get('x-slack-retry-reason') ?? undefined,
        ack: async (response?: unknown) => respond(toResponse(response)),
      };
      const work = bolt
        .processEvent(event)
        // Done without any listener acking (nothing handles this payload): answer now, not at
        // the timeout.
        .then(() => respond(new Response(null, { status: 200 })))
        .catch((err: unknown) => {
          this.opts.log.error({ err }, 'Slack listener failed');
          respond(new Response(null, { status: 500 }));
        })
        .finally(() => this.inFlight.delete(work));
      this.inFlight.add(work);
    });
  }
}
