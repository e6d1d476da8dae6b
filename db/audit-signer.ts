/**
 * The audit key as db/ sees it: a signer (kid + sign) for appending and a verifier (kid + verify)
 * for checking. db/ never loads keys: app/ and cli/ load the 'audit' key outside DATA_DIR and
 * hand `openDb` a signer, which stays attached to that database handle. Verification needs only
 * the public half, so whoever checks the chain holds no power to extend it.
 */

export interface AuditSigner {
  /** Key id of the signing key (app/keys.ts `kid`). */
  kid: string;
  /** Ed25519 signature of `message`. */
  sign(message: string): Buffer;
}

export interface AuditVerifier {
  kid: string;
  /** The raw 32-byte public key, as exported with the chain head. */
  publicKeyRaw: Buffer;
  verify(message: string, signature: Buffer): boolean;
}

const signers = new WeakMap<object, AuditSigner>();

/** Binds `signer` to an open SQLite handle; every audit entry appended through it is signed. */
export function attachAuditSigner(client: object, signer: AuditSigner): void {
  signers.set(client, signer);
}

export function auditSignerOf(db: { $client: object }): AuditSigner | undefined {
  return signers.get(db.$client);
}

/** What the key signs for an entry (its hash covers seq, content and the previous hash). */
export function auditSignedMessage(hash: string): string {
  return `firebreak-audit-entry/1 ${hash}`;
}
