import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAudit, canonicalJson, verifyAuditChain } from '../../activities/audit';
import { openDb, type Db } from '../../db/client';

const run = promisify(execFile);
let dir: string;
let db: Db;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-audit-'));
  db = openDb(path.join(dir, 'firebreak.db'));
  for (let i = 1; i <= 5; i++) {
    await appendAudit(db, {
      at: `2026-01-01T00:00:0${i}Z`,
      actor: 'playbook:p',
      action: 'agent.disable',
      target: `agent:a${i}`,
      inputs: { agent_id: `a${i}`, password: 'hunter2-secret' },
      outcome: 'succeeded',
      durationMs: 12,
    });
  }
});
afterAll(() => {
  db?.$client.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function cliVerify() {
  const tsx = path.resolve('node_modules/.bin/tsx');
  try {
    const r = await run(tsx, ['cli/index.ts', 'audit', 'verify'], { env: { ...process.env, DATA_DIR: dir } });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, out: err.stdout + err.stderr };
  }
}

/** An attacker with write access to the file: drops the append-only triggers first. */
function tamper(sql: string) {
  db.$client.exec('drop trigger if exists audit_log_no_update; drop trigger if exists audit_log_no_delete;');
  db.$client.exec(sql);
}

describe('hash-chained audit log', () => {
  it('chains entries, redacts inputs, and refuses UPDATE and DELETE', async () => {
    const rows = db.$client.prepare('select * from audit_log order by seq').all() as any[];
    expect(rows).toHaveLength(5);
    expect(rows[1].prev_hash).toBe(rows[0].hash);
    expect(JSON.parse(rows[0].inputs)).toEqual({ agent_id: 'a1', password: '[redacted]' });
    expect(await verifyAuditChain(db)).toEqual({ ok: true, entries: 5 });
    expect(() => db.$client.exec("update audit_log set outcome = 'failed' where seq = 2")).toThrow(
      /append-only/,
    );
    expect(() => db.$client.exec('delete from audit_log where seq = 2')).toThrow(/append-only/);
    const cli = await cliVerify();
    expect(cli).toMatchObject({ code: 0 });
    expect(cli.out).toMatch(/intact: 5 entries/);
  });

  it('canonical JSON does not depend on key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } })).toBe(
      canonicalJson({ a: { c: null, d: [1, { x: 1, y: 2 }] }, b: 1 }),
    );
  });

  it('detects a modified entry and names it, via the CLI with a non-zero exit', async () => {
    tamper("update audit_log set outcome = 'failed' where seq = 3");
    expect((await verifyAuditChain(db)).firstBad).toEqual({
      seq: 3,
      reason: expect.stringMatching(/modified/),
    });
    const cli = await cliVerify();
    expect(cli.code).toBe(1);
    expect(cli.out).toMatch(/TAMPERED at entry 3: content does not match its hash/);
    tamper("update audit_log set outcome = 'succeeded' where seq = 3");
    expect((await verifyAuditChain(db)).ok).toBe(true);
  });

  it('detects a reordered pair and a removed entry', async () => {
    tamper(`
      update audit_log set seq = 100 where seq = 2;
      update audit_log set seq = 2 where seq = 4;
      update audit_log set seq = 4 where seq = 100;`);
    expect((await verifyAuditChain(db)).firstBad?.seq).toBe(2);
    tamper(`
      update audit_log set seq = 100 where seq = 2;
      update audit_log set seq = 2 where seq = 4;
      update audit_log set seq = 4 where seq = 100;`);
    expect((await verifyAuditChain(db)).ok).toBe(true);
    tamper('delete from audit_log where seq = 5');
    expect((await verifyAuditChain(db)).firstBad).toEqual({
      seq: 5,
      reason: 'entries 5..5 were removed from the end',
    });
    tamper('delete from audit_log where seq = 3');
    expect((await verifyAuditChain(db)).firstBad).toEqual({
      seq: 4,
      reason: expect.stringMatching(/removed/),
    });
  });
});
