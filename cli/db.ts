/**
 * Opens the configured database for a CLI command (same config parsing as the server), with the
 * install's audit key attached, so whatever the command appends to the audit log is signed.
 */
import { loadAuditKey } from '../app/audit-key';
import { loadConfig } from '../app/config';
import { openBlobStore } from '../db/blob-store';
import { dbFile, openDb, type Db } from '../db/client';

export function openCliDb(): Db {
  const config = loadConfig();
  return openDb(dbFile(config.dataDir), {
    auditSigner: loadAuditKey(config.keyDir).signer,
    evidence: openBlobStore(config.evidence),
  });
}
