/**
 * The audit chain head as exported for an external system (`audit export`): the last entry's
 * seq, hash and signature, and the public key that verifies it. Keeping a copy outside
 * DATA_DIR is what makes cutting entries off the end of the chain detectable
 * (`audit verify --head <file>`).
 */
import { z } from 'zod';

export const AUDIT_HEAD_FORMAT = 'firebreak-audit-head/1';

export const AuditHeadExport = z.object({
  format: z.literal(AUDIT_HEAD_FORMAT),
  /** Seq of the last entry. */
  last_seq: z.number().int().positive(),
  /** Its hash, which covers its seq, its content and the previous entry's hash. */
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  /** Base64 Ed25519 signature of that entry by the audit key, as stored with it. */
  signature: z.string().min(1),
  kid: z.string().min(1),
  /** Base64 raw 32-byte Ed25519 public key of the audit key. */
  public_key: z.string().min(1),
  exported_at: z.string(),
});
export type AuditHeadExport = z.infer<typeof AuditHeadExport>;
