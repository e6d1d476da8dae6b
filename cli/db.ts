/**
 * Opens the configured database for a CLI command (same config parsing as the server), with the
 * install's audit key attached, so whatever the command appends to the audit log is signed.
 */
import { loadAuditKey } from '../app/audit-key';
import { loadConfig } from '../app/config';
import { openBlobStore } from '../db/blob-store';
import { openDatabase, type Db } from '../db/client';

export async function openCliDb(): Promise<Db> {
  const config = loadConfig();
  return openDatabase(config, {
    auditSigner: loadAuditKey(config.keyDir).signer,
    evidence: openBlobStore(config.evidence),
  });
}
