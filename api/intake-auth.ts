/**
 * Who sent an alert: each configured source proves itself with `Authorization: Bearer <secret>`,
 * with `X-Firebreak-Signature: t=<unix s>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>` (checked
 * over the raw bytes, within ±300 s, in constant time), or, for PagerDuty bodies only, with its
 * routing key. A header that is present must be valid; the routing key counts only without one.
 */
import crypto from 'node:crypto';
import type { SourceConfig } from '../app/config-file';
import { safeEqual } from './auth';

export const SIGNATURE_HEADER = 'x-firebreak-signature';
export const SIGNATURE_TOLERANCE_S = 300;

export type AuthFailure =
  | 'missing_credentials'
  | 'bad_bearer'
  | 'malformed_signature'
  | 'stale_timestamp'
  | 'bad_signature'
  | 'bad_routing_key';

export type SourceAuth =
  { ok: true; source: SourceConfig; method: string } | { ok: false; reason: AuthFailure };

/** Compares against every candidate, so timing does not reveal which source (if any) matched. */
function findSource(sources: SourceConfig[], test: (s: SourceConfig) => boolean): SourceConfig | undefined {
  let found: SourceConfig | undefined;
  for (const s of sources) if (test(s) && !found) found = s;
  return found;
}

export function signBody(secret: string, t: number, rawBody: Uint8Array | string): string {
  return crypto
    .createHmac('sha256', secret)
    .update(`${t}.`)
    .update(typeof rawBody === 'string' ? Buffer.from(rawBody) : rawBody)
    .digest('hex');
}

function verifySignature(
  sources: SourceConfig[],
  header: string,
  rawBody: Uint8Array,
  nowMs: number,
): SourceAuth {
  const parts = new Map<string, string[]>();
  for (const piece of header.split(',')) {
    const [k, ...v] = piece.trim().split('=');
    if (k && v.length > 0) parts.set(k, [...(parts.get(k) ?? []), v.join('=')]);
  }
  const t = parts.get('t')?.[0];
  const sigs = (parts.get('v1') ?? []).filter((s) => /^[0-9a-f]{64}$/i.test(s));
  if (!t || !/^\d{1,12}$/.test(t) || sigs.length === 0) return { ok: false, reason: 'malformed_signature' };
  if (Math.abs(nowMs / 1000 - Number(t)) > SIGNATURE_TOLERANCE_S)
    return { ok: false, reason: 'stale_timestamp' };
  const given = sigs.map((s) => Buffer.from(s.toLowerCase(), 'hex'));
  const source = findSource(sources, (s) => {
    if (!s.secret) return false;
    const expected = Buffer.from(signBody(s.secret, Number(t), rawBody), 'hex');
    return given.reduce((hit, g) => crypto.timingSafeEqual(g, expected) || hit, false);
  });
  return source ? { ok: true, source, method: 'signature' } : { ok: false, reason: 'bad_signature' };
}

export function authenticateSource(
  sources: SourceConfig[],
  req: { authorization: string | undefined; signature: string | undefined; rawBody: Uint8Array },
  nowMs: number,
  routingKey?: () => string | undefined,
): SourceAuth {
  if (req.signature !== undefined) return verifySignature(sources, req.signature, req.rawBody, nowMs);
  if (req.authorization !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.authorization);
    const token = m?.[1];
    if (!token) return { ok: false, reason: 'bad_bearer' };
    const source = findSource(sources, (s) => s.secret !== undefined && safeEqual(token, s.secret));
    return source ? { ok: true, source, method: 'bearer' } : { ok: false, reason: 'bad_bearer' };
  }
  const key = routingKey?.();
  if (key === undefined) return { ok: false, reason: 'missing_credentials' };
  const source = findSource(sources, (s) => s.routingKey !== undefined && safeEqual(key, s.routingKey));
  return source ? { ok: true, source, method: 'routing_key' } : { ok: false, reason: 'bad_routing_key' };
}
