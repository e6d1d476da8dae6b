/**
 * The 'audit' signing key as db/ needs it: a signer handed to `openDb` (every audit entry
 * appended through that handle is signed) and a verifier built from the public half only, which
 * is all `audit verify` and an external checker ever need.
 */
import crypto from 'node:crypto';
import type { AuditSigner, AuditVerifier } from '../db/audit-signer';
import { KeyError, loadOrCreateSigningKey, sign, verify, type SigningKey } from './keys';

export function auditSigner(key: SigningKey): AuditSigner {
  return { kid: key.kid, sign: (message) => sign(key, message) };
}

/** A verifier for a raw 32-byte Ed25519 public key; its kid is derived as app/keys.ts does. */
export function auditVerifier(publicKeyRaw: Buffer): AuditVerifier {
  if (publicKeyRaw.length !== 32) {
    throw new KeyError(`an audit public key is 32 raw bytes (base64), not ${publicKeyRaw.length}`);
  }
  const kid = crypto.createHash('sha256').update(publicKeyRaw).digest('hex').slice(0, 16);
  const check = (message: string, signature: Buffer) => {
    try {
      return verify(publicKeyRaw, message, signature);
    } catch {
      return false; // a malformed signature is simply not a valid one
    }
  };
  return { kid, publicKeyRaw, verify: check };
}

/** Loads (or creates on first use) the install's audit key from `keyDir`. */
export function loadAuditKey(keyDir: string): { signer: AuditSigner; verifier: AuditVerifier } {
  const key = loadOrCreateSigningKey(keyDir, 'audit');
  return { signer: auditSigner(key), verifier: auditVerifier(key.publicKeyRaw) };
}
