/**
 * Who sent an alert: each configured source proves itself with `Authorization: Bearer <secret>`,
 * with `X-Firebreak-Signature: t=<unix s>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>` (checked
 * over the raw bytes, within ±300 s, in constant time), or, for PagerDuty bodies only, with its
 * routing key. A header that is present must be valid; the routing key counts only without one.
 * A source with `require_signature` accepts only the signature. Each signature is accepted once:
 * `claimSignatureOnce` records it in the DB (db/seen-signatures.ts) until its window closes, and
 * refuses a second use.
 */
import crypto from 'node:crypto';
import type { SourceConfig } from '../app/config-file';
import type { Db } from '../db/client';
import { claimSignature, releaseSignature } from '../db/seen-signatures';
import { safeEqual } from './auth';

export const SIGNATURE_HEADER = 'x-firebreak-signature';
export const SIGNATURE_TOLERANCE_S = 300;

export type AuthFailure =
  | 'missing_credentials'
  | 'bad_bearer'
  | 'malformed_signature'
  | 'stale_timestamp'
  | 'bad_signature'
  | 'bad_routing_key'
  /** The source's secret or routing key was right, but the source requires a signature. */
  | 'signature_required'
  /** A valid signature that was already accepted once. */
  | 'replayed_signature';

/** A signature that matched: its `t` and the sha256 of the matching HMAC, which is what is remembered. */
export interface MatchedSignature {
  signedAt: number;
  digest: string;
}

export type SourceAuth =
  | { ok: true; source: SourceConfig; method: 'bearer' | 'routing_key' }
  | { ok: true; source: SourceConfig; method: 'signature'; signature: MatchedSignature }
  | { ok: false; reason: AuthFailure; source?: SourceConfig; firstSeenAt?: string };

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
  let matched: Buffer | undefined;
  const source = findSource(sources, (s) => {
    if (!s.secret) return false;
    const expected = Buffer.from(signBody(s.secret, Number(t), rawBody), 'hex');
    const hit = given.reduce((hit, g) => crypto.timingSafeEqual(g, expected) || hit, false);
    if (hit && !matched) matched = expected;
    return hit;
  });
  if (!source || !matched) return { ok: false, reason: 'bad_signature' };
  const digest = crypto.createHash('sha256').update(matched).digest('hex');
  return { ok: true, source, method: 'signature', signature: { signedAt: Number(t), digest } };
}

/** A source found by its secret or routing key alone, unless it accepts only signatures. */
function unsigned(source: SourceConfig, method: 'bearer' | 'routing_key'): SourceAuth {
  return source.requireSignature
    ? { ok: false, reason: 'signature_required', source }
    : { ok: true, source, method };
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
    return source ? unsigned(source, 'bearer') : { ok: false, reason: 'bad_bearer' };
  }
  const key = routingKey?.();
  if (key === undefined) return { ok: false, reason: 'missing_credentials' };
  const source = findSource(sources, (s) => s.routingKey !== undefined && safeEqual(key, s.routingKey));
  return source ? unsigned(source, 'routing_key') : { ok: false, reason: 'bad_routing_key' };
}

/**
 * For a signed request: records its signature as used and answers `replayed_signature` (with
 * when it was first accepted) if it already was. Other methods pass through. Rows are kept until
 * the signature's window has closed, plus one more window against a clock that steps back.
 * Returns a release for the caller to run when the request is not stored after all.
 */
export async function claimSignatureOnce(
  db: Db,
  auth: SourceAuth & { ok: true },
  nowMs: number,
): Promise<
  { ok: true; release: () => Promise<void> } | { ok: false; reason: AuthFailure; firstSeenAt: string }
> {
  if (auth.method !== 'signature') return { ok: true, release: async () => {} };
  const { signedAt, digest } = auth.signature;
  const claim = await claimSignature(
    db,
    {
      sourceId: auth.source.id,
      digest,
      signedAt,
      expiresAt: signedAt + SIGNATURE_TOLERANCE_S,
      firstSeenAt: new Date(nowMs).toISOString(),
    },
    Math.floor(nowMs / 1000) - SIGNATURE_TOLERANCE_S,
  );
  if (!claim.fresh) return { ok: false, reason: 'replayed_signature', firstSeenAt: claim.firstSeenAt };
  return { ok: true, release: () => releaseSignature(db, auth.source.id, digest) };
}
