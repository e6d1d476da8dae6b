/**
 * The generic signed HTTP connector for in-house systems. Each system is declared (code or config
 * file): base URL, shared HMAC secret, timeout, and per operation a method, a path template and
 * the response schema (zod or JSON Schema) the answer must match; a declared check request tells
 * whether access/credential is still active. Requests carry `X-Firebreak-Signature:
 * t=<unix>,v2=<hex HMAC-SHA256 of the canonical string>` and an idempotency key. The canonical
 * string binds the time, the method, the path with its query and the body (`canonicalString`), so a
 * captured request cannot be replayed against another operation or another name of the same system.
 */
import crypto from 'node:crypto';
import { z } from 'zod';
import { registerSecret } from './redact';
import {
  ConnectorError,
  type AccessProvider,
  type ActionContext,
  type CredentialProvider,
  type CredentialRef,
} from './types';

export const SIGNATURE_HEADER = 'X-Firebreak-Signature';

/** `.` and `..` would make the URL resolve to another path than the one declared (or signed). */
const DOT_SEGMENT = /^\.{1,2}$/;

const Operation = z.object({
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).default('POST'),
  /** `{name}` is replaced by the resource name or credential reference (URL-encoded). */
  path: z
    .string()
    .startsWith('/')
    .refine((p) => !p.split(/[/?#]/).some((s) => DOT_SEGMENT.test(s)), {
      message: 'path must not contain "." or ".." segments',
    }),
  response: z.union([z.instanceof(z.ZodType), z.record(z.string(), z.unknown())]).optional(),
});

export const HttpSystemConfig = z.object({
  name: z.string().regex(/^[a-z0-9_-]+$/),
  base_url: z.url(),
  secret: z.string().min(16),
  timeout_ms: z.number().int().positive().max(60_000).default(5000),
  restrict: Operation.optional(),
  restore: Operation.optional(),
  check: Operation.extend({
    method: z.enum(['GET', 'POST']).default('GET'),
    /** Field of the check response that is true while the access still works. */
    active_field: z.string().min(1).default('active'),
  }),
});
export type HttpSystemConfig = z.input<typeof HttpSystemConfig>;

/** What a signature covers: the request as the receiving server sees it. */
export interface SignedRequest {
  method: string;
  /** The request target: the URL's path and query exactly as sent (`/restrict/svc-a?x=1`). */
  path: string;
  /** The raw body; `''` for GET. */
  body: string;
}

/**
 * `<t>\n<METHOD>\n<path>\n<body>`: newline-separated, the method upper-case. Neither the time,
 * the method nor the request target can contain a newline, so the fields cannot run into each other.
 */
export function canonicalString(timestamp: number, req: SignedRequest): string {
  return `${timestamp}\n${req.method.toUpperCase()}\n${req.path}\n${req.body}`;
}

export function signRequest(secret: string, timestamp: number, req: SignedRequest): string {
  const mac = crypto.createHmac('sha256', secret).update(canonicalString(timestamp, req)).digest('hex');
  return `t=${timestamp},v2=${mac}`;
}

/** For the receiving side (and tests): valid signature of this request within `toleranceSeconds`. */
export function verifySignature(
  secret: string,
  header: string | undefined,
  req: SignedRequest,
  toleranceSeconds = 300,
) {
  const m = /^t=(\d+),v2=([0-9a-f]{64})$/.exec(header ?? '');
  if (!m) return false;
  const t = Number(m[1]);
  if (Math.abs(Date.now() / 1000 - t) > toleranceSeconds) return false;
  const expected = Buffer.from(signRequest(secret, t, req));
  const got = Buffer.from(header ?? '');
  return expected.length === got.length && crypto.timingSafeEqual(expected, got);
}

export function httpSystem(input: HttpSystemConfig) {
  const cfg = HttpSystemConfig.parse(input);
  registerSecret(cfg.secret);
  const schemaOf = (s: unknown) =>
    s instanceof z.ZodType
      ? s
      : s
        ? z.fromJSONSchema(s as Parameters<typeof z.fromJSONSchema>[0])
        : z.unknown();

  async function call(op: z.output<typeof Operation>, name: string, payload: object, idem?: string) {
    if (name === '' || DOT_SEGMENT.test(name)) {
      throw new ConnectorError(
        `${cfg.name}: name "${name}" is not a name (it would change the request path): use the name the system knows`,
      );
    }
    const url = new URL(
      cfg.base_url.replace(/\/$/, '') + op.path.replaceAll('{name}', encodeURIComponent(name)),
    );
    const body = op.method === 'GET' ? '' : JSON.stringify(payload);
    const signed = { method: op.method, path: url.pathname + url.search, body };
    const headers: Record<string, string> = {
      [SIGNATURE_HEADER]: signRequest(cfg.secret, Math.floor(Date.now() / 1000), signed),
      'content-type': 'application/json',
    };
    if (idem) headers['Idempotency-Key'] = idem;
    let res: Response;
    try {
      res = await fetch(url, {
        method: op.method,
        headers,
        body: op.method === 'GET' ? undefined : body,
        signal: AbortSignal.timeout(cfg.timeout_ms),
      });
    } catch (err) {
      throw new ConnectorError(
        `${cfg.name}: ${op.method} ${url.pathname} failed: ${(err as Error).message}`,
        true,
      );
    }
    const text = await res.text();
    if (!res.ok) {
      throw new ConnectorError(
        `${cfg.name}: ${op.method} ${url.pathname} answered ${res.status}`,
        res.status >= 500 || res.status === 429,
      );
    }
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      throw new ConnectorError(`${cfg.name}: ${url.pathname} did not answer JSON`);
    }
    const parsed = schemaOf(op.response).safeParse(json);
    if (!parsed.success) {
      const i = parsed.error.issues[0];
      throw new ConnectorError(
        `${cfg.name}: ${url.pathname} response does not match its schema: ${i?.path.join('.')}: ${i?.message}`,
      );
    }
    return parsed.data;
  }

  const need = (op: z.output<typeof Operation> | undefined, what: string) => {
    if (!op) throw new ConnectorError(`${cfg.name} declares no ${what} operation: add one to its config`);
    return op;
  };
  const idem = (ctx: ActionContext, what: string) => `${ctx.incidentId}:${ctx.stepId}:${what}`;

  async function active(name: string): Promise<boolean> {
    const r = await call(cfg.check, name, { name });
    return Boolean((r as Record<string, unknown> | null)?.[cfg.check.active_field]);
  }

  const access: AccessProvider = {
    async restrict(name, ctx) {
      return {
        response: await call(
          need(cfg.restrict, 'restrict'),
          name,
          { name, action: 'restrict', incident_id: ctx.incidentId },
          idem(ctx, 'restrict'),
        ),
      };
    },
    async restore(name, ctx) {
      return {
        response: await call(
          need(cfg.restore, 'restore'),
          name,
          { name, action: 'restore', incident_id: ctx.incidentId },
          idem(ctx, 'restore'),
        ),
      };
    },
    canAccess: active,
  };
  const credentials: CredentialProvider = {
    revoke: async (c: CredentialRef, ctx) => void (await access.restrict(c.reference, ctx)),
    reactivate: async (c: CredentialRef, ctx) => void (await access.restore(c.reference, ctx)),
    isActive: (c) => active(c.reference),
  };
  return { name: cfg.name, access, credentials };
}
