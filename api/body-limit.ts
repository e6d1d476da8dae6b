/**
 * Request body limits for every route, enforced while the body is read and before anything parses
 * it: a declared Content-Length over the limit is refused without reading a byte, and a chunked
 * body is counted as it streams in and refused at the first chunk past the limit (hono's
 * bodyLimit). The 413 closes the connection, so the rest of an oversized upload is never read.
 * Evidence uploads (`POST /v1/incidents/:id/evidence`) get a larger limit than everything else.
 * Any answer that leaves the body unread closes the connection too, for the same reason.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';

/** Every JSON, form or Slack body: alerts, decisions, drills, notes, Slack events. */
export const MAX_REQUEST_BYTES = 1024 * 1024;
/** One uploaded evidence artifact. */
export const MAX_EVIDENCE_BYTES = 25 * 1024 * 1024;

const EVIDENCE_UPLOAD = /^\/v1\/incidents\/[^/]+\/evidence\/?$/;

/** A 413 that refuses the body at `maxBytes` and closes the connection. */
export function limitBody(maxBytes: number): MiddlewareHandler {
  return bodyLimit({
    maxSize: maxBytes,
    onError: (c) =>
      // The rest of the upload is never read, so the connection cannot carry another request:
      // say so, or a keep-alive client reuses it and its next request dies with the socket.
      c.json(
        {
          error: {
            code: 'payload_too_large',
            message: `body exceeds ${maxBytes} bytes`,
            field: '(body)',
          },
        },
        413,
        { connection: 'close' },
      ),
  });
}

const isEvidenceUpload = (c: Context): boolean => c.req.method === 'POST' && EVIDENCE_UPLOAD.test(c.req.path);

/** The app-wide middleware: the evidence limit for evidence uploads, the request limit for the rest. */
export function requestBodyLimit(): MiddlewareHandler {
  const request = limitBody(MAX_REQUEST_BYTES);
  const evidence = limitBody(MAX_EVIDENCE_BYTES);
  return async (c, next) => {
    const refused = await (isEvidenceUpload(c) ? evidence(c, next) : request(c, next));
    if (refused instanceof Response) return refused; // the 413, which closes the connection itself
    // A 401/403/404 sent before the body was read: the node server drains the rest for 500 ms and
    // then destroys the socket, killing whatever the client sent next on it. Closing it says so.
    if (c.req.raw.body && !c.req.raw.bodyUsed) c.res.headers.set('connection', 'close');
  };
}
