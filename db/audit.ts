/**
 * The audit log's storage: append-only, hash-chained and signed. Every entry stores the previous
 * entry's hash and its own sha256 over a canonical JSON (sorted keys) of its content plus that
 * previous hash, and an Ed25519 signature of that hash by the audit key (injected through
 * `openDb`, see audit-signer.ts; the key lives outside DATA_DIR). The hashes alone only catch an
 * edit made without the project's code: whoever can write DATA_DIR can drop the triggers and
 * re-chain. The signatures catch that too, because re-chaining changes every later hash and
 * nobody without the private key can sign the new ones. `verifyAuditChain` names the first entry
 * that does not fit. Cutting entries off the end leaves a valid shorter chain: the head kept in
 * DATA_DIR/audit-head.json catches a careless cut, and a head exported to another system
 * (`audit export`) catches a careful one. Triggers in the migration refuse UPDATE and DELETE.
 * Callers redact first.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { and, asc, desc, eq, gte, inArray, or, sql } from 'drizzle-orm';
import type { AuditHeadExport } from '../domain/audit-head';
import { auditSignedMessage, auditSignerOf, type AuditSigner, type AuditVerifier } from './audit-signer';
import { dataDirOf, inTransaction, isInMemory, jsonField, lockKeys, type Db } from './client';
import { auditLog } from './schema';

export const GENESIS_HASH = '0'.repeat(64);

/** The lock (db/client lockKeys) every append holds from reading the head to its commit. */
const AUDIT_CHAIN_LOCK = 'firebreak:audit-chain';

export type AuditRow = typeof auditLog.$inferSelect;

/** An entry as the caller gives it, already redacted; seq, the hashes and the signature are the chain's. */
export type AuditContent = Omit<AuditRow, 'seq' | 'prevHash' | 'hash' | 'signature' | 'kid'>;

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

function entryHash(row: Omit<AuditRow, 'hash' | 'signature' | 'kid'>): string {
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

/**
 * Inside a db/ write transaction: appends one entry after the current head, signed by `signer`
 * (unsigned without one, which `verifyAuditChain` reports). The caller opened the transaction
 * with `behavior: 'immediate'` and calls `recordAuditHead` after the commit.
 */
export async function insertAuditEntry(
  tx: Db,
  signer: AuditSigner | undefined,
  e: AuditContent,
): Promise<AuditRow> {
  // Across processes (PostgreSQL), appenders take turns: the head read here stays the head.
  await lockKeys(tx, [AUDIT_CHAIN_LOCK]);
  const [head] = await tx.select().from(auditLog).orderBy(desc(auditLog.seq)).limit(1);
  const base = { seq: (head?.seq ?? 0) + 1, ...e, prevHash: head?.hash ?? GENESIS_HASH };
  const hash = entryHash(base);
  const row: AuditRow = {
    ...base,
    hash,
    signature: signer ? signer.sign(auditSignedMessage(hash)).toString('base64') : null,
    kid: signer?.kid ?? null,
  };
  await tx.insert(auditLog).values(row);
  return row;
}

/**
 * Appends one entry; reading the chain head and inserting happen in one write transaction.
 * `alongside`: writes that commit with the entry or not at all (one commit, one fsync), such as
 * the stored result of the action the entry audits.
 */
export async function appendAuditEntry(
  db: Db,
  e: AuditContent,
  alongside?: (tx: Db) => Promise<void>,
): Promise<AuditRow> {
  const signer = auditSignerOf(db);
  const row = await inTransaction(
    db,
    async (tx) => {
      await alongside?.(tx);
      return insertAuditEntry(tx, signer, e);
    },
    'immediate',
  );
  recordAuditHead(db, row);
  return row;
}

function headFile(db: Db): string | undefined {
  return isInMemory(db) ? undefined : path.join(dataDirOf(db), 'audit-head.json');
}

/**
 * After the commit of `row`: keeps DATA_DIR/audit-head.json at the newest entry. A crash in
 * between leaves the file one entry behind, which verifies; an older row never moves it back.
 */
export function recordAuditHead(db: Db, row: AuditRow): void {
  const file = headFile(db);
  if (!file) return;
  const current = readHead(db);
  if (current && current.seq > row.seq) return;
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify({ seq: row.seq, hash: row.hash }) + '\n', { mode: 0o600 });
  fs.renameSync(tmp, file);
}

function readHead(db: Db): { seq: number; hash: string } | undefined {
  const file = headFile(db);
  if (!file || !fs.existsSync(file)) return undefined;
  return JSON.parse(fs.readFileSync(file, 'utf8')) as { seq: number; hash: string };
}

/** The newest entry: what `audit export` hands to an external system. */
export async function auditChainHead(db: Db): Promise<AuditRow | undefined> {
  const [head] = await db.select().from(auditLog).orderBy(desc(auditLog.seq)).limit(1);
  return head;
}

export interface AuditVerification {
  ok: boolean;
  entries: number;
  /** The first entry that does not fit the chain, and why. */
  firstBad?: { seq: number; reason: string };
}

export interface AuditVerifyOptions {
  /** The audit key's public half; every entry must carry a valid signature by it. */
  key: AuditVerifier;
  /** A head exported earlier (`audit export`): the chain must still contain it. */
  head?: AuditHeadExport;
}

/** Why one entry does not fit after `prev`, or undefined when it does. */
function entryProblem(
  row: AuditRow,
  expectedSeq: number,
  prev: string,
  key: AuditVerifier,
): string | undefined {
  if (row.seq !== expectedSeq) return `expected entry ${expectedSeq} here: an entry was removed`;
  if (row.prevHash !== prev)
    return "prev_hash does not match the previous entry's hash: removed or reordered";
  const { hash, signature, kid, ...rest } = row;
  if (entryHash(rest) !== hash) return 'content does not match its hash: modified';
  if (!signature || !kid) return 'not signed by the audit key: written without the key, or re-chained';
  if (kid !== key.kid) return `signed by key ${kid}, not the audit key ${key.kid}`;
  if (!key.verify(auditSignedMessage(hash), Buffer.from(signature, 'base64'))) {
    return 'signature does not match its hash: re-chained or forged without the audit key';
  }
  return undefined;
}

export async function verifyAuditChain(db: Db, opts: AuditVerifyOptions): Promise<AuditVerification> {
  const rows = await db.select().from(auditLog).orderBy(asc(auditLog.seq));
  let prev = GENESIS_HASH;
  for (const [i, row] of rows.entries()) {
    const problem = entryProblem(row, i + 1, prev, opts.key);
    if (problem) return bad(rows.length, row.seq, problem);
    prev = row.hash;
  }
  const local = readHead(db);
  const cut = local && headProblem(rows, local.seq, local.hash, 'the recorded chain head');
  if (cut) return { ok: false, entries: rows.length, firstBad: cut };
  if (opts.head) {
    const exported = exportedHeadProblem(rows, opts.head, opts.key);
    if (exported) return { ok: false, entries: rows.length, firstBad: exported };
  }
  return { ok: true, entries: rows.length };
}

/** The chain (already verified entry by entry) against a head seen earlier. */
function headProblem(rows: AuditRow[], seq: number, hash: string, what: string) {
  if (seq > rows.length) {
    return {
      seq: rows.length + 1,
      reason: `entries ${rows.length + 1}..${seq} were removed from the end (${what} is entry ${seq})`,
    };
  }
  if (seq > 0 && rows[seq - 1]?.hash !== hash) {
    return { seq, reason: `does not match ${what}: modified or replaced` };
  }
  return undefined;
}

function exportedHeadProblem(rows: AuditRow[], head: AuditHeadExport, key: AuditVerifier) {
  if (head.kid !== key.kid || !Buffer.from(head.public_key, 'base64').equals(key.publicKeyRaw)) {
    return {
      seq: head.last_seq,
      reason: `the exported head names key ${head.kid}, not the audit key ${key.kid}`,
    };
  }
  if (!key.verify(auditSignedMessage(head.hash), Buffer.from(head.signature, 'base64'))) {
    return { seq: head.last_seq, reason: 'the exported head is not signed by the audit key' };
  }
  return headProblem(rows, head.last_seq, head.hash, `the head exported at ${head.exported_at}`);
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
          sql`${jsonField(db, auditLog.inputs, 'agent_id')} = ${agentId}`,
        ),
      ),
    )
    .orderBy(asc(auditLog.seq));
}

/** Every entry, in chain order. */
export async function auditEntries(db: Db): Promise<AuditRow[]> {
  return db.select().from(auditLog).orderBy(asc(auditLog.seq));
}

/** An incident's entries, optionally only those with these outcomes. */
export async function incidentAuditRows(
  db: Db,
  incidentId: string,
  outcomes?: string[],
): Promise<AuditRow[]> {
  return db
    .select()
    .from(auditLog)
    .where(
      and(eq(auditLog.incidentId, incidentId), outcomes ? inArray(auditLog.outcome, outcomes) : undefined),
    )
    .orderBy(asc(auditLog.seq));
}
