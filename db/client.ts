/**
 * Opens Firebreak's database: SQLite in DATA_DIR (the embedded default) or, with
 * `DATABASE_URL=postgres://…`, PostgreSQL through drizzle's node-postgres driver. Each applies its
 * own drizzle-kit migrations on open (idempotent; db/migrations and db/pg/migrations). SQLite runs
 * in WAL mode so readers never block the writer, with synchronous=FULL so a 202 for an alert means
 * the alert survives a crash or power loss; PostgreSQL commits are durable with its defaults.
 *
 * The other db/ modules take the handle this returns and build their queries from the tables of
 * db/schema.ts on both: drizzle renders a query in the dialect of the connection it runs on, and
 * the PostgreSQL tables (db/pg/schema.ts, for drizzle-kit) store every column the way the
 * SQLite column types read and write it (JSON as text, booleans as 0/1). Where the dialects
 * differ (transactions, locks, raw SQL), the switch is here. Callers outside db/ only pass the
 * handle along, open it and close it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { is, sql, type SQL } from 'drizzle-orm';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { drizzle as drizzlePg, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import { PgDialect } from 'drizzle-orm/pg-core';
import pg from 'pg';
import { attachAuditSigner, type AuditSigner } from './audit-signer';
import { attachBlobStore, type BlobStore } from './blob-store';
import * as schema from './schema';

/**
 * A database handle. Typed as drizzle's SQLite database so queries type-check against
 * db/schema.ts; a PostgreSQL handle has the same query builders (select, insert … returning,
 * onConflict…, update, delete), awaited. db/ uses only those, never SQLite's synchronous
 * `.get()`/`.all()`/`.run()`, and goes through this module for everything else.
 */
export type Db = BetterSQLite3Database<typeof schema> & { $client: Database.Database };

export type Dialect = 'sqlite' | 'postgres';

type PgDb = NodePgDatabase<Record<string, never>> & { $client: pg.Pool };

export function dialectOf(db: Db): Dialect {
  return is((db as unknown as { dialect: unknown }).dialect, PgDialect) ? 'postgres' : 'sqlite';
}

const asPg = (db: Db) => db as unknown as PgDb;

const migrationsFolder = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');
const pgMigrationsFolder = path.join(path.dirname(fileURLToPath(import.meta.url)), 'pg', 'migrations');

/** Per open handle: its DATA_DIR, and for SQLite the queue that serializes its transactions. */
interface HandleState {
  dataDir: string | undefined;
  memory: boolean;
  /** SQLite: the tail of the transaction queue (one transaction at a time on the connection). */
  tail: Promise<unknown>;
}

const handles = new WeakMap<object, HandleState>();

function stateOf(db: Db): HandleState {
  const s = handles.get(db.$client);
  if (!s) throw new Error('not a handle opened by db/client');
  return s;
}

/** The SQLite handle whose transaction the current async context runs in (no nesting twice). */
const sqliteTx = new AsyncLocalStorage<object>();

const RETRYABLE_PG = new Set(['40001', '40P01']); // serialization failure, deadlock detected

/**
 * Runs `fn` in one transaction and resolves with its result once committed; rejects, having
 * written nothing, if `fn` throws. `fn` gets the transaction typed as a Db, so the same helpers
 * run inside and outside one, and must only touch the database through it.
 *
 * SQLite: better-sqlite3 is synchronous and has one connection, so transactions on a handle are
 * queued and run one at a time (BEGIN IMMEDIATE with `behavior: 'immediate'`, which takes the
 * write lock up front for other processes on the file too). Every db/ write goes through here,
 * so no other write can slip into an open transaction between its awaits. A call from inside a
 * transaction on the same handle joins it.
 *
 * PostgreSQL: a pooled client's transaction (READ COMMITTED). Writers that must not interleave
 * take `lockKeys` first; a deadlock or serialization failure reruns `fn`.
 */
export async function inTransaction<T>(
  db: Db,
  fn: (tx: Db) => Promise<T>,
  behavior?: 'immediate',
): Promise<T> {
  if (dialectOf(db) === 'postgres') {
    for (let attempt = 1; ; attempt++) {
      try {
        return await asPg(db).transaction((tx) => fn(tx as unknown as Db));
      } catch (err) {
        const code = (err as { code?: string; cause?: { code?: string } }).code;
        const causeCode = (err as { cause?: { code?: string } }).cause?.code;
        if (attempt >= 5 || !(RETRYABLE_PG.has(code ?? '') || RETRYABLE_PG.has(causeCode ?? ''))) throw err;
      }
    }
  }
  const client = db.$client;
  if (sqliteTx.getStore() === client) return fn(db);
  const state = stateOf(db);
  const run = async (): Promise<T> => {
    client.exec(behavior === 'immediate' ? 'BEGIN IMMEDIATE' : 'BEGIN');
    try {
      const result = await sqliteTx.run(client, () => fn(db));
      client.exec('COMMIT');
      return result;
    } catch (err) {
      if (client.inTransaction) client.exec('ROLLBACK');
      throw err;
    }
  };
  const result = state.tail.then(run, run);
  state.tail = result.catch(() => undefined);
  return result;
}

/**
 * Inside a transaction: serializes it with every other transaction, in any process, that locks one
 * of the same keys, until commit. PostgreSQL takes transaction-scoped advisory locks in the
 * order of their hashes (so two lockers never deadlock); SQLite needs nothing, its write lock is already global.
 */
export async function lockKeys(tx: Db, keys: string[]): Promise<void> {
  if (dialectOf(tx) !== 'postgres' || keys.length === 0) return;
  // One round trip: the subquery sorts the keys' hashes, the outer scan locks them in that order.
  const list = [...new Set(keys)];
  await asPg(tx).execute(
    sql`select pg_advisory_xact_lock(h) from (select distinct hashtextextended(k, 0) as h from json_array_elements_text(${JSON.stringify(list)}::json) as k order by h) as s`,
  );
}

/**
 * First in a read-only transaction: all its reads see one snapshot. SQLite's transactions always
 * do; PostgreSQL's READ COMMITTED would let each statement see newer commits.
 */
export async function repeatableRead(tx: Db): Promise<void> {
  if (dialectOf(tx) === 'postgres')
    await asPg(tx).execute(sql`set transaction isolation level repeatable read`);
}

/** Rows of a raw query (column names as the SQL gives them). */
export async function rawRows<T>(db: Db, query: SQL): Promise<T[]> {
  if (dialectOf(db) === 'postgres') return (await asPg(db).execute(query)).rows as T[];
  return db.all<T>(query);
}

/** The text of a top-level field of a JSON text column, in the connection's dialect. */
export function jsonField(db: Db, column: SQL | SQL.Aliased | object, field: string): SQL {
  return dialectOf(db) === 'postgres'
    ? sql`(${column}::json ->> ${field})`
    : sql`json_extract(${column}, ${`$.${field}`})`;
}

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
  handles.set(sqlite, {
    dataDir: sqlite.memory ? undefined : path.dirname(path.resolve(file)),
    memory: sqlite.memory,
    tail: Promise.resolve(),
  });
  if (opts.auditSigner) attachAuditSigner(sqlite, opts.auditSigner);
  if (opts.evidence) attachBlobStore(sqlite, opts.evidence);
  return db;
}

/** Serializes concurrent migrators (processes starting at once) on one database. */
const MIGRATION_LOCK = 0x46697265; // "Fire"

export interface OpenPgOptions extends OpenDbOptions {
  /** DATA_DIR of this process: files kept beside the database (audit head, evidence) go there. */
  dataDir: string;
  /** Pool size (default 10). */
  max?: number;
}

/** Opens PostgreSQL at `url` and applies db/pg/migrations (one process at a time). */
export async function openPgDb(url: string, opts: OpenPgOptions): Promise<Db> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await migratePg(drizzlePg(client), { migrationsFolder: pgMigrationsFolder });
  } finally {
    await client.end();
  }
  const pool = new pg.Pool({ connectionString: url, max: opts.max ?? 10 });
  // A connection the server ended (restart, pg_terminate_backend) errors: an idle one here (the
  // pool replaces it), a busy one on the client too, where its query already rejects with it.
  pool.on('error', () => undefined);
  pool.on('connect', (c) => c.on('error', () => undefined));
  const db = drizzlePg(pool) as unknown as Db;
  handles.set(pool, { dataDir: opts.dataDir, memory: false, tail: Promise.resolve() });
  if (opts.auditSigner) attachAuditSigner(pool, opts.auditSigner);
  if (opts.evidence) attachBlobStore(pool, opts.evidence);
  return db;
}

export interface DatabaseTarget {
  /** `postgres://…`: PostgreSQL; unset: SQLite in dataDir. */
  databaseUrl?: string;
  dataDir: string;
}

/** The configured database: PostgreSQL with a URL, else SQLite's file in DATA_DIR. */
export async function openDatabase(target: DatabaseTarget, opts: OpenDbOptions = {}): Promise<Db> {
  if (target.databaseUrl) return openPgDb(target.databaseUrl, { ...opts, dataDir: target.dataDir });
  return openDb(dbFile(target.dataDir), opts);
}

export function dbFile(dataDir: string): string {
  return path.join(dataDir, 'firebreak.db');
}

export async function closeDb(db: Db): Promise<void> {
  if (dialectOf(db) === 'postgres') {
    await asPg(db).$client.end();
    return;
  }
  await stateOf(db).tail;
  db.$client.close();
}

/** DATA_DIR of an open database: stores that live beside it find it here. */
export function dataDirOf(db: Db): string {
  const dir = stateOf(db).dataDir;
  if (!dir) throw new Error('an in-memory database has no data dir');
  return dir;
}

/** An in-memory database (tests) has no directory to keep files beside it in. */
export function isInMemory(db: Db): boolean {
  return stateOf(db).memory;
}

/** Liveness check for /healthz. */
export async function pingDb(db: Db): Promise<boolean> {
  try {
    return (await rawRows(db, sql`select 1 as ok`)).length === 1;
  } catch {
    return false;
  }
}
