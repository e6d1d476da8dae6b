/**
 * The audit log's storage: append-only and hash-chained. Every entry stores the previous entry's
 * hash and its own sha256 over a canonical JSON (sorted keys) of its content plus that previous
 * hash, so `verifyAuditChain` finds the first entry that was modified, removed or moved. The
 * chain head (seq and hash) is also kept in DATA_DIR/audit-head.json, so cutting entries off the
 * end is caught too. Triggers in the migration refuse UPDATE and DELETE. Callers redact first.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { and, asc, desc, eq, gte, inArray, or, sql } from 'drizzle-orm';
import { dataDirOf, inTransaction, isInMemory, type Db } from './client';
import { auditLog } from './schema';

export const GENESIS_HASH = '0'.repeat(64);

export type AuditRow = typeof auditLog.$inferSelect;

/** An entry as the caller gives it, already redacted; seq and the hashes are the chain's. */
export type AuditContent = Omit<AuditRow, 'seq' | 'prevHash' | 'hash'>;

/** JSON with object keys sorted at every level: the same content always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

function entryHash(row: Omit<AuditRow, 'hash'>): string {
  const content = {
    seq: row.seq,
    at: row.at,
    actor: row.actor,
    action: row.action,
    target: row.target,
    incident_id: row.incidentId,
    step_id: row.stepId,
    inputs: row.inputs,
    outcome: row.outcome,
    detail: row.detail,
    duration_ms: row.durationMs,
    prev_hash: row.prevHash,
  };
  return crypto.createHash('sha256').update(canonicalJson(content)).digest('hex');
}

/** Appends one entry; reading the chain head and inserting happen in one write transaction. */
export async function appendAuditEntry(db: Db, e: AuditContent): Promise<AuditRow> {
  const row = inTransaction(
    db,
    (tx) => {
      const head = tx.select().from(auditLog).orderBy(desc(auditLog.seq)).limit(1).get();
      const base: Omit<AuditRow, 'hash'> = {
        seq: (head?.seq ?? 0) + 1,
        ...e,
        prevHash: head?.hash ?? GENESIS_HASH,
      };
      const row = { ...base, hash: entryHash(base) };
      tx.insert(auditLog).values(row).run();
      return row;
    },
    'immediate',
  );
  writeHead(db, row);
  return row;
}

function headFile(db: Db): string | undefined {
  return isInMemory(db) ? undefined : path.join(dataDirOf(db), 'audit-head.json');
}

/** Written after the commit: a crash in between leaves the file one entry behind, which verifies. */
function writeHead(db: Db, row: AuditRow): void {
  const file = headFile(db);
  if (!file) return;
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify({ seq: row.seq, hash: row.hash }) + '\n', { mode: 0o600 });
  fs.renameSync(tmp, file);
}

function readHead(db: Db): { seq: number; hash: string } | undefined {
  const file = headFile(db);
  if (!file || !fs.existsSync(file)) return undefined;
  return JSON.parse(fs.readFileSync(file, 'utf8')) as { seq: number; hash: string };
}

export interface AuditVerification {
  ok: boolean;
  entries: number;
  /** The first entry that does not fit the chain, and why. */
  firstBad?: { seq: number; reason: string };
}

export async function verifyAuditChain(db: Db): Promise<AuditVerification> {
  const rows = db.select().from(auditLog).orderBy(asc(auditLog.seq)).all();
  let prev = GENESIS_HASH;
  let expectedSeq = 1;
  for (const row of rows) {
    if (row.seq !== expectedSeq) {
      return bad(rows.length, row.seq, `expected entry ${expectedSeq} here: an entry was removed`);
    }
    if (row.prevHash !== prev) {
      return bad(
        rows.length,
        row.seq,
        "prev_hash does not match the previous entry's hash: removed or reordered",
      );
    }
    const { hash, ...rest } = row;
    if (entryHash(rest) !== hash)
      return bad(rows.length, row.seq, 'content does not match its hash: modified');
    prev = hash;
    expectedSeq += 1;
  }
  const head = readHead(db);
  if (head && head.seq > rows.length) {
    return bad(
      rows.length,
      rows.length + 1,
      `entries ${rows.length + 1}..${head.seq} were removed from the end`,
    );
  }
  if (head && head.seq > 0 && rows[head.seq - 1]?.hash !== head.hash) {
    return bad(rows.length, head.seq, 'does not match the recorded chain head: modified or replaced');
  }
  return { ok: true, entries: rows.length };
}

function bad(entries: number, seq: number, reason: string): AuditVerification {
  return { ok: false, entries, firstBad: { seq, reason } };
}

/** `s` as a LIKE pattern that matches only itself: `%`, `_` and the escape are escaped with `\`. */
function likeLiteral(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * Audit entries about one agent: targeting it, or acting on its behalf (e.g. its DB role). The
 * agent id is matched literally: `%` or `_` in it select only an agent of that exact name.
 */
export async function auditEntriesForAgent(db: Db, agentId: string, since: string): Promise<AuditRow[]> {
  const target = `agent:${agentId}`;
  return db
    .select()
    .from(auditLog)
    .where(
      and(
        gte(auditLog.at, since),
        or(
          eq(auditLog.target, target),
          sql`${auditLog.target} LIKE ${`${likeLiteral(target)}/%`} ESCAPE '\\'`,
          sql`json_extract(${auditLog.inputs}, '$.agent_id') = ${agentId}`,
        ),
      ),
    )
    .orderBy(asc(auditLog.seq))
    .all();
}

/** Every entry, in chain order. */
export async function auditEntries(db: Db): Promise<AuditRow[]> {
  return db.select().from(auditLog).orderBy(asc(auditLog.seq)).all();
}

/** Inside a db/ transaction: an incident's entries, optionally only those with these outcomes. */
export function incidentAuditRows(db: Db, incidentId: string, outcomes?: string[]): AuditRow[] {
  return db
    .select()
    .from(auditLog)
    .where(
      and(eq(auditLog.incidentId, incidentId), outcomes ? inArray(auditLog.outcome, outcomes) : undefined),
    )
    .orderBy(asc(auditLog.seq))
    .all();
}
