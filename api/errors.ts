/**
 * Error responses: one JSON shape for every failure, `{error: {code, message, field?}}`. zod
 * failures name the offending field; expected failures are HTTPExceptions; anything else is a
 * real bug, logged with the request id and answered 500 without internals.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { Logger } from 'pino';
import type { ZodError } from 'zod';

export interface ErrorBody {
  error: { code: string; message: string; field?: string; issues?: { field: string; message: string }[] };
}

export function zodErrorBody(err: ZodError, prefix = ''): ErrorBody {
  const issues = err.issues.map((i) => ({
    field: [prefix, ...i.path.map(String)].filter(Boolean).join('.') || '(body)',
    message: i.message,
  }));
  const first = issues[0] ?? { field: '(body)', message: 'invalid' };
  return {
    error: {
      code: 'invalid_request',
      message: `${first.field}: ${first.message}`,
      field: first.field,
      issues,
    },
  };
}

export function apiError(
  status: 400 | 401 | 403 | 404 | 409 | 413 | 415 | 429 | 503,
  code: string,
  message: string,
  field?: string,
  fullBody?: ErrorBody,
) {
  const body: ErrorBody = fullBody ?? { error: { code, message, ...(field ? { field } : {}) } };
  return new HTTPException(status, { res: Response.json(body, { status }) });
}

/** 429 with Retry-After (whole seconds), so well-behaved senders back off. */
export function rateLimited(message: string, retryAfterS: number) {
  const body: ErrorBody = { error: { code: 'rate_limited', message } };
  const res = Response.json(body, { status: 429, headers: { 'retry-after': String(retryAfterS) } });
  return new HTTPException(429, { res });
}

export function onError(log: Logger) {
  return (err: Error, c: Context) => {
    if (err instanceof HTTPException) {
      const res = err.getResponse();
      if (res.headers.get('content-type')?.includes('json')) return res;
      return c.json({ error: { code: 'http_error', message: err.message || res.statusText } }, err.status);
    }
    const requestId = c.get('requestId' as never) as string | undefined;
    log.error({ err, requestId, path: c.req.path }, 'unhandled error');
    return c.json({ error: { code: 'internal', message: 'internal error', request_id: requestId } }, 500);
  };
}

/** The dotted path of the first string or key in `value` holding U+0000, if any. */
function nulPath(value: unknown, at: string[]): string[] | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? at : undefined;
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const hit = nulPath(v, [...at, String(i)]);
      if (hit) return hit;
    }
    return undefined;
  }
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const hit = k.includes('\u0000') ? [...at, k] : nulPath(v, [...at, k]);
      if (hit) return hit;
    }
  }
  return undefined;
}

/**
 * Refuses a validated body with the NUL character (U+0000) in any string, naming the field:
 * PostgreSQL cannot store it in text (nor in jsonb), so on either store it is a 400, never a 500
 * from PostgreSQL or a value one store keeps and the other refuses.
 */
export function refuseNulCharacters(value: unknown): void {
  const at = nulPath(value, []);
  if (!at) return;
  throw nulRefusal(at.join('.') || '(body)');
}

function nulRefusal(field: string) {
  return apiError(400, 'invalid_text', `${field}: must not contain the NUL character (U+0000)`, field);
}

/**
 * The same rule for the URL: a query parameter or path segment holding U+0000 is a 400 naming
 * it (`query.<name>` or `(path)`), before any route looks it up in the database.
 */
export function refuseNulInUrl(): MiddlewareHandler {
  return async (c, next) => {
    const url = new URL(c.req.url);
    for (const [name, value] of url.searchParams) {
      if (name.includes('\u0000') || value.includes('\u0000'))
        throw nulRefusal(`query.${name.replaceAll('\u0000', '')}`);
    }
    if (/%00/i.test(url.pathname)) throw nulRefusal('(path)');
    await next();
  };
}
