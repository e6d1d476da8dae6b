/**
 * The PostgreSQL store's own guarantees, on a real throwaway cluster: the triggers refuse what
 * SQLite's refuse, and several handles (pools, as several API or worker processes have) appending
 * to the audit chain, storing alerts for the same keys and draining the outbox at once keep one
 * chain, one incident per key and one dispatcher per stored row.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  dispatchPending,
  storeAlertBatches,
  undispatchedCount,
  type IntakeBatch,
  type PendingAlert,
} from '../../db/alerts';
import { appendAuditEntry, verifyAuditChain } from '../../db/audit';
import type { AuditSigner, AuditVerifier } from '../../db/audit-signer';
import { closeDb, openPgDb, type Db } from '../../db/client';
import { countIncidents, getIncident, listIncidents } from '../../db/incidents';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres';
import { startPostgres, type LocalPostgres } from './services';

let cluster: LocalPostgres;
let database: TestDatabase;
let dataDir: string;
const handles: Db[] = [];

const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
const signer: AuditSigner = { kid: 'test-audit', sign: (m) => crypto.sign(null, Buffer.from(m), privateKey) };
const verifier: AuditVerifier = {
  kid: 'test-audit',
  publicKeyRaw: Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url'),
  verify: (m, sig) => crypto.verify(null, Buffer.from(m), publicKey, sig),
};

async function handle(): Promise<Db> {
  const db = await openPgDb(database.url, { dataDir, auditSigner: signer });
  handles.push(db);
  return db;
}

beforeAll(async () => {
  cluster = await startPostgres();
  database = await createTestDatabase(cluster.adminUrl);
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-pgstore-'));
});
afterAll(async () => {
  for (const db of handles) await closeDb(db);
  await database?.drop();
  await cluster?.stop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

function batch(keys: string[]): IntakeBatch {
  const receivedAt = new Date().toISOString();
  return {
    receivedAt,
    items: keys.map((key) => ({
      alert: {
        format: 'generic',
        source: 'storm',
        origin: 'test',
        dedupKey: key,
        title: `alert ${key}`,
        severity: 'high',
        status: 'firing',
        agentId: undefined,
        labels: { key },
        details: {},
        occurredAt: receivedAt,
      },
      route: {
        key: `storm:${key}`,
        grouped: false,
        windowMs: undefined,
        playbookId: undefined,
        severity: 'high',
        mode: 'live',
        onResolved: 'resolve',
      },
    })),
  };
}

describe('PostgreSQL store', () => {
  it('migrates once when two processes open it at once', async () => {
    const [a, b] = await Promise.all([handle(), handle()]);
    expect(await countIncidents(a)).toBe(0);
    expect(await countIncidents(b)).toBe(0);
  });

  it('refuses UPDATE, DELETE and TRUNCATE of the audit log, and changing an incident mode', async () => {
    const db = handles[0]!;
    await appendAuditEntry(db, {
      at: new Date().toISOString(),
      actor: 'test',
      action: 'test.append',
      target: 'test',
      incidentId: null,
      stepId: null,
      inputs: {},
      outcome: 'ok',
      detail: {},
      durationMs: 0,
    });
    const c = new pg.Client({ connectionString: database.url });
    await c.connect();
    try {
      await expect(c.query(`UPDATE audit_log SET actor = 'x'`)).rejects.toThrow(/append-only/);
      await expect(c.query(`DELETE FROM audit_log`)).rejects.toThrow(/append-only/);
      await expect(c.query(`TRUNCATE audit_log`)).rejects.toThrow(/append-only/);
      await storeAlertBatches(db, [batch(['mode'])], (id) => `incident-${id}`);
      await expect(c.query(`UPDATE incidents SET mode = 'drill'`)).rejects.toThrow(/mode is immutable/);
      await c.query(`UPDATE incidents SET mode = 'live', title = 'same mode is fine'`);
    } finally {
      await c.end();
    }
  });

  it('keeps one audit chain when several processes append at once', async () => {
    const [a, b, c] = [handles[0]!, handles[1]!, await handle()];
    const appends = Array.from({ length: 150 }, (_, i) =>
      appendAuditEntry([a, b, c][i % 3]!, {
        at: new Date().toISOString(),
        actor: `proc-${i % 3}`,
        action: 'test.append',
        target: `t${i}`,
        incidentId: null,
        stepId: null,
        inputs: { i },
        outcome: 'ok',
        detail: {},
        durationMs: 0,
      }),
    );
    const rows = await Promise.all(appends);
    expect(new Set(rows.map((r) => r.seq)).size).toBe(150);
    const v = await verifyAuditChain(b, { key: verifier });
    expect(v).toEqual({ ok: true, entries: 151 });
  });

  it('opens one incident per key when two API processes store alerts for the same keys at once', async () => {
    const [a, b] = [handles[0]!, handles[1]!];
    const keys = Array.from({ length: 20 }, (_, i) => `k${i}`);
    const before = await countIncidents(a);
    // Each process stores overlapping keys in a different order, in many concurrent groups.
    const work = Array.from({ length: 40 }, (_, i) =>
      storeAlertBatches(i % 2 ? a : b, [batch(i % 2 ? keys : [...keys].reverse())], (id) => `incident-${id}`),
    );
    const stored = (await Promise.all(work)).flat(2);
    expect(stored).toHaveLength(800);
    expect(await countIncidents(a)).toBe(before + 20);
    const open = await listIncidents(b, { status: 'open', limit: 100 });
    const stormed = open.filter((i) => i.key.startsWith('storm:k'));
    expect(stormed).toHaveLength(20);
    for (const inc of stormed) expect(inc.alertCount).toBe(40);
    expect(new Set(stored.map((s) => s.incidentId)).size).toBe(20);
    expect(new Set(stored.map((s) => s.alertId)).size).toBe(800);
  });

  it('writes the counters of every incident of a group commit: count, latest alert, time and status each', async () => {
    const db = handles[0]!;
    const keys = Array.from({ length: 30 }, (_, i) => `c${i}`);
    const first = (await storeAlertBatches(db, [batch(keys.slice(0, 10))], (id) => `incident-${id}`)).flat();
    // One group: alerts for 10 open incidents and 20 new ones, a second alert for 15 of them, and
    // the last one a resolve.
    const b = batch([...keys, ...keys.slice(0, 15)]);
    const last = b.items.at(-1)!;
    last.alert = { ...last.alert, status: 'resolved' };
    const stored = (await storeAlertBatches(db, [b], (id) => `incident-${id}`)).flat();
    expect(new Set(stored.map((s) => s.incidentId)).size).toBe(30);
    for (const id of new Set(stored.map((s) => s.incidentId!))) {
      const own = [...first, ...stored].filter((s) => s.incidentId === id);
      const row = (await getIncident(db, id))!;
      expect(row.alertCount, id).toBe(own.length);
      expect(row.latestAlertId, id).toBe(own.at(-1)!.alertId);
      expect(row.lastAlertAt, id).toBe(b.receivedAt);
      expect(row.status, id).toBe(id === stored.at(-1)!.incidentId ? 'resolved' : 'open');
    }
  });

  it('dispatches each stored row from one process at a time, and a dead dispatcher leaves its rows to the others', async () => {
    const [a, b] = [handles[0]!, handles[1]!];
    // Drain what earlier tests stored, so this test's rows are the only ones.
    await dispatchPending(a, 10_000, async (rows) => ({
      done: rows.map((r) => ({ seq: r.seq, at: new Date().toISOString() })),
    }));
    await storeAlertBatches(
      a,
      [batch(Array.from({ length: 50 }, (_, i) => `d${i}`))],
      (id) => `incident-${id}`,
    );
    expect(await undispatchedCount(a)).toBe(50);

    // A dispatcher claims 20 rows and dies mid-dispatch (its backend is terminated).
    const dying = await openPgDb(database.url, { dataDir, max: 1 });
    let release!: () => void;
    const claimed = new Promise<PendingAlert[]>((resolve) => {
      void dispatchPending(dying, 20, async (rows) => {
        resolve(rows);
        await new Promise<void>((r) => (release = r));
        return { done: rows.map((r) => ({ seq: r.seq, at: new Date().toISOString() })) };
      }).catch(() => undefined);
    });
    const dyingRows = await claimed;
    expect(dyingRows).toHaveLength(20);

    // Meanwhile another dispatcher takes only the unclaimed rows.
    const delivered: number[] = [];
    const deliverAll = async (rows: PendingAlert[]) => {
      delivered.push(...rows.map((r) => r.seq));
      return { done: rows.map((r) => ({ seq: r.seq, at: new Date().toISOString() })) };
    };
    const first = await dispatchPending(b, 1000, deliverAll);
    expect(first.rows).toBe(30);
    expect(delivered.filter((s) => dyingRows.some((d) => d.seq === s))).toEqual([]);

    const killer = new pg.Client({ connectionString: cluster.adminUrl });
    await killer.connect();
    await killer.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND state = 'idle in transaction'`,
      [new URL(database.url).pathname.slice(1)],
    );
    await killer.end();
    release();
    await closeDb(dying).catch(() => undefined);

    // Its claim was rolled back with its connection: the rows are the others' now.
    const second = await dispatchPending(a, 1000, deliverAll);
    expect(second.rows).toBe(20);
    expect(new Set(delivered).size).toBe(50);
    expect(await undispatchedCount(b)).toBe(0);
  });
});
