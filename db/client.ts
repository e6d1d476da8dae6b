/**
 * Opens Firebreak's SQLite database: WAL mode so readers never block the writer, synchronous=FULL
 * so a 202 for an alert means the alert survives a crash or power loss, and drizzle-kit's
 * migrations applied on every open (idempotent). The other db/ modules take the handle this
 * returns; callers outside db/ only pass it along, open it and close it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { attachAuditSigner, type AuditSigner } from './audit-signer';
import { attachBlobStore, type BlobStore } from './blob-store';
import * as schema from './schema';

export type Db = BetterSQLite3Database<typeof schema> & { $client: Database.Database };

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/**
 * Runs `fn` in one SQLite transaction and returns its result. better-sqlite3 transactions are
 * synchronous, so `fn` never awaits: each db/ function that needs one keeps it inside itself.
 * `fn` gets the transaction typed as a Db, so the same helpers run inside and outside one.
 */
export function inTransaction<T>(db: Db, fn: (tx: Db) => T, behavior?: 'immediate'): T {
  return db.transaction((tx: Tx) => fn(tx as unknown as Db), behavior ? { behavior } : undefined);
}

const migrationsFolder = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');

export interface OpenDbOptions {
  /** Signs every audit entry appended through this handle (see audit-signer.ts). */
  auditSigner?: AuditSigner;
  /** Where evidence artifacts read and written through this handle live (blob-store.ts). */
  evidence?: BlobStore;
}

export function openDb(file: string, opts: OpenDbOptions = {}): Db {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  const sqlite = new Database(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = drizzle(sqlite, { schema });
  migrate(db, { migrationsFolder });
  if (opts.auditSigner) attachAuditSigner(sqlite, opts.auditSigner);
  if (opts.evidence) attachBlobStore(sqlite, opts.evidence);
  return db;
}

export function dbFile(dataDir: string): string {
  return path.join(dataDir, 'firebreak.db');
}

export function closeDb(db: Db): void {
  db.$client.close();
}

/** DATA_DIR of an open database (its file's directory): stores that live beside it find it here. */
export function dataDirOf(db: Db): string {
  return path.dirname(path.resolve(db.$client.name));
}

/** An in-memory database (tests) has no directory to keep files beside it in. */
export function isInMemory(db: Db): boolean {
  return db.$client.memory;
}

/** Liveness check for /healthz. */
export async function pingDb(db: Db): Promise<boolean> {
  try {
    return db.$client.prepare('select 1 as ok').get() !== undefined;
  } catch {
    return false;
  }
}
