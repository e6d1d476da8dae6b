/**
 * Kill-switch status documents: compact JWS (RFC 7515, `alg: EdDSA`, Ed25519) signed with
 * Firebreak's dedicated `status` key, which app/ loads from FIREBREAK_KEY_DIR and injects. Only
 * the holder of that private key can sign one, so neither an alert sender nor a gateway that
 * verifies documents (both may know the webhook secret) can forge an "enabled" document or a
 * high `version` that would make runtimes reject every genuine update afterwards. Claims:
 * `agent_id`, `status`, `version` (grows with every change), `iat`, `exp` (60 s later),
 * `incident` (what caused the last change) and `blocked_tools`; header `kid` and
 * `typ: firebreak-status+jwt`, so a document cannot be confused with another Firebreak JWS.
 *
 * Signing and verifying use the `jose` package: a maintained, dependency-free JOSE
 * implementation that checks `alg`, `typ`, `kid`, `exp` and `iat` the way RFC 7515/7519 say, and
 * the same library a TypeScript runtime would use to verify these documents (docs/kill-switch.md).
 * Hand-rolled JWS parsing is where "alg: none" and key-confusion bugs come from.
 */
import type { KeyObject } from 'node:crypto';
import { createLocalJWKSet, jwtVerify, SignJWT, type JSONWebKeySet } from 'jose';
import { z } from 'zod';
import type { AgentRow } from '../db/agents';

export const STATUS_JWS_TYPE = 'firebreak-status+jwt';
/** A document is good for this long: a runtime that cannot refresh it stops within a minute. */
export const STATUS_TTL_SECONDS = 60;
/** Carries a freshly signed document on a 304, so a revalidation never extends a stale one. */
export const STATUS_JWS_HEADER = 'Firebreak-Status';
export const STATUS_CONTENT_TYPE = 'application/jose';

/** The public half, enough to verify (what the worker's verification and the JWKS need). */
export interface StatusVerifyKey {
  kid: string;
  publicKey: KeyObject;
}

/** The status key as app/keys.ts loads it (only the API, which signs, holds the private half). */
export interface StatusSigningKey extends StatusVerifyKey {
  privateKey: KeyObject;
}

export const StatusClaims = z.object({
  agent_id: z.string(),
  status: z.enum(['enabled', 'disabled']),
  version: z.number().int().positive(),
  iat: z.number().int(),
  exp: z.number().int(),
  incident: z.string().nullable(),
  blocked_tools: z.array(z.string()),
});
export type StatusClaims = z.infer<typeof StatusClaims>;

/** `GET /.well-known/jwks.json`: the public keys, by kid (more than one while a key rotates). */
export function statusJwks(keys: StatusVerifyKey[]): JSONWebKeySet {
  return {
    keys: keys.map((k) => ({
      ...(k.publicKey.export({ format: 'jwk' }) as { kty: string; crv: string; x: string }),
      kid: k.kid,
      alg: 'EdDSA',
      use: 'sig',
    })),
  };
}

export function claimsOf(a: AgentRow, now: Date): StatusClaims {
  const iat = Math.floor(now.getTime() / 1000);
  return {
    agent_id: a.id,
    status: a.status,
    version: a.statusVersion,
    iat,
    exp: iat + STATUS_TTL_SECONDS,
    incident: a.statusIncident,
    blocked_tools: a.blockedTools,
  };
}

export async function signStatus(key: StatusSigningKey, claims: StatusClaims): Promise<string> {
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg: 'EdDSA', kid: key.kid, typ: STATUS_JWS_TYPE })
    .sign(key.privateKey);
}

export type StatusCheck = { ok: true; claims: StatusClaims } | { ok: false; detail: string };

/**
 * Verifies a document as a runtime must: signature by a key of the set (by kid), `typ`, not
 * expired, for `agentId`, and (when given) not older than the version already held.
 */
export async function verifyStatus(
  keys: JSONWebKeySet,
  jws: string,
  expect: { agentId: string; minVersion?: number; now?: Date },
): Promise<StatusCheck> {
  let payload: unknown;
  try {
    ({ payload } = await jwtVerify(jws, createLocalJWKSet(keys), {
      algorithms: ['EdDSA'],
      typ: STATUS_JWS_TYPE,
      currentDate: expect.now,
      requiredClaims: ['iat', 'exp'],
    }));
  } catch (err) {
    return { ok: false, detail: `status document rejected: ${(err as Error).message}` };
  }
  const claims = StatusClaims.safeParse(payload);
  if (!claims.success) return { ok: false, detail: 'status document has malformed claims' };
  const c = claims.data;
  if (c.agent_id !== expect.agentId)
    return { ok: false, detail: `status document is for agent ${c.agent_id}, not ${expect.agentId}` };
  if (expect.minVersion !== undefined && c.version < expect.minVersion)
    return { ok: false, detail: `status document version ${c.version} is older than ${expect.minVersion}` };
  return { ok: true, claims: c };
}

export const VERIFIER_JWS_TYPE = 'firebreak-verifier+jwt';
const VERIFIER_TTL_SECONDS = 300;

/**
 * The bearer token Firebreak's own verification presents to the status endpoint: a short-lived
 * JWS by the same status key (typ `firebreak-verifier+jwt`, so it is never a status document),
 * which the API accepts for every agent. No API token travels to a gateway in front of Firebreak.
 */
export async function signVerifierToken(key: StatusSigningKey, now = new Date()): Promise<string> {
  const iat = Math.floor(now.getTime() / 1000);
  return new SignJWT({ sub: 'firebreak-verifier' })
    .setProtectedHeader({ alg: 'EdDSA', kid: key.kid, typ: VERIFIER_JWS_TYPE })
    .setIssuedAt(iat)
    .setExpirationTime(iat + VERIFIER_TTL_SECONDS)
    .sign(key.privateKey);
}

export async function verifierTokenValid(keys: JSONWebKeySet, token: string, now?: Date): Promise<boolean> {
  try {
    await jwtVerify(token, createLocalJWKSet(keys), {
      algorithms: ['EdDSA'],
      typ: VERIFIER_JWS_TYPE,
      subject: 'firebreak-verifier',
      currentDate: now,
      requiredClaims: ['iat', 'exp'],
    });
    return true;
  } catch {
    return false;
  }
}
