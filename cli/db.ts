/** Opens the configured database for a CLI command (same config parsing as the server). */
import { loadConfig } from '../app/config';
import { dbFile, openDb, type Db } from '../db/client';

export function openCliDb(): Db {
  return openDb(dbFile(loadConfig().dataDir));
}
