import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Command } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import { appendAudit, canonicalJson, verifyAuditChain } from '../../activities/audit';
import { auditVerifier, loadAuditKey } from '../../app/audit-key';
import { registerAuditCommands } from '../../cli/audit';
import { CliError } from '../../cli/cli-error';
import { appendAuditEntry, auditEntries, type AuditContent } from '../../db/audit';
import { closeDb, openDb, type Db } from '../../db/client';

const run = promisify(execFile);

interface Log {
  dir: string;
  keyDir: string;
  db: Db;
  key: ReturnType<typeof loadAuditKey>;
}
const logs: Log[] = [];

/** A DATA_DIR with `n` signed entries, its key directory outside it. */
async function signedLog(n: number): Promise<Log> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-audit-'));
  const keyDir = `${dir}-keys`;
  const key = loadAuditKey(keyDir);
  const db = openDb(path.join(dir, 'firebreak.db'), { auditSigner: key.signer });
  for (let i = 1; i <= n; i++) {
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
  const log = { dir, keyDir, db, key };
  logs.push(log);
  return log;
}

afterEach(async () => {
  for (const l of logs.splice(0)) {
    await closeDb(l.db);
    fs.rmSync(l.dir, { recursive: true, force: true });
    fs.rmSync(l.keyDir, { recursive: true, force: true });
  }
});

/** `npm run cli -- audit …` as a process: the real entry point, config from the environment. */
async function cliProcess(log: Log, ...args: string[]) {
  const tsx = path.resolve('node_modules/.bin/tsx');
  const env = { ...process.env, DATA_DIR: log.dir, FIREBREAK_KEY_DIR: log.keyDir };
  try {
    const r = await run(tsx, ['cli/index.ts', 'audit', ...args], { env });
    return { code: 0, out: r.stdout + r.stderr, stdout: r.stdout };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, out: err.stdout + err.stderr, stdout: err.stdout };
  }
}

/** The same commands in this process (a subprocess costs seconds on a loaded machine). */
async function cli(log: Log, ...args: string[]) {
  let stdout = '';
  let stderr = '';
  let code = 0;
  const program = new Command().exitOverride();
  registerAuditCommands(program, {
    open: () => openDb(path.join(log.dir, 'firebreak.db')),
    verifier: () => log.key.verifier,
    out: (t) => (stdout += t),
    err: (t) => (stderr += t),
    setExitCode: (c) => (code = c),
  });
  try {
    await program.parseAsync(['audit', ...args], { from: 'user' });
  } catch (err) {
    if (!(err instanceof CliError)) throw err;
    stderr += err.message;
    code = 1;
  }
  return { code, out: stdout + stderr, stdout };
}

/** An attacker with write access to DATA_DIR: drops the append-only triggers first. */
function tamper(db: Db, sql: string) {
  db.$client.exec('drop trigger if exists audit_log_no_update; drop trigger if exists audit_log_no_delete;');
  db.$client.exec(sql);
}

const verify = (l: Log) => verifyAuditChain(l.db, { key: l.key.verifier });

describe('signed, hash-chained audit log', () => {
  it('chains and signs entries, redacts inputs, and refuses UPDATE and DELETE', async () => {
    const l = await signedLog(5);
    const rows = await auditEntries(l.db);
    expect(rows).toHaveLength(5);
    expect(rows[1]!.prevHash).toBe(rows[0]!.hash);
    expect(rows.every((r) => r.kid === l.key.verifier.kid && r.signature)).toBe(true);
    expect(rows[0]!.inputs).toEqual({ agent_id: 'a1', password: '[redacted]' });
    expect(await verify(l)).toEqual({ ok: true, entries: 5 });
    expect(() => l.db.$client.exec("update audit_log set outcome = 'failed' where seq = 2")).toThrow(
      /append-only/,
    );
    expect(() => l.db.$client.exec('delete from audit_log where seq = 2')).toThrow(/append-only/);
    const r = await cliProcess(l, 'verify');
    expect(r).toMatchObject({ code: 0 });
    expect(r.out).toMatch(/intact: 5 entries signed by key [0-9a-f]{16}/);
  });

  it('canonical JSON does not depend on key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } })).toBe(
      canonicalJson({ a: { c: null, d: [1, { x: 1, y: 2 }] }, b: 1 }),
    );
  });

  it('detects a modified entry and names it, via the CLI with a non-zero exit', async () => {
    const l = await signedLog(5);
    tamper(l.db, "update audit_log set outcome = 'failed' where seq = 3");
    expect((await verify(l)).firstBad).toEqual({ seq: 3, reason: expect.stringMatching(/modified/) });
    const r = await cli(l, 'verify');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/TAMPERED at entry 3: content does not match its hash/);
  });

  it('detects a reordered pair and a removed entry', async () => {
    const l = await signedLog(5);
    const swap = `
      update audit_log set seq = 100 where seq = 2;
      update audit_log set seq = 2 where seq = 4;
      update audit_log set seq = 4 where seq = 100;`;
    tamper(l.db, swap);
    expect((await verify(l)).firstBad?.seq).toBe(2);
    tamper(l.db, swap);
    expect((await verify(l)).ok).toBe(true);
    tamper(l.db, 'delete from audit_log where seq = 5');
    expect((await verify(l)).firstBad).toEqual({
      seq: 5,
      reason: 'entries 5..5 were removed from the end (the recorded chain head is entry 5)',
    });
    tamper(l.db, 'delete from audit_log where seq = 3');
    expect((await verify(l)).firstBad).toEqual({ seq: 4, reason: expect.stringMatching(/removed/) });
  });

  /**
   * The attack from issue 14: drop the triggers, remove entry 3, and re-chain everything after it
   * with the project's own append code (which also rewrites DATA_DIR/audit-head.json). Without
   * the audit key the attacker can only write unsigned entries, or copy the old signatures.
   */
  async function rechainWithout(l: Log, removed: number, copySignatures: boolean) {
    const rows = await auditEntries(l.db);
    tamper(l.db, `delete from audit_log where seq >= ${removed}`);
    const attacker = openDb(path.join(l.dir, 'firebreak.db')); // no signer: the key is elsewhere
    try {
      for (const r of rows.filter((r) => r.seq > removed)) {
        const { seq: _seq, prevHash: _p, hash: _h, signature, kid, ...content } = r;
        const row = await appendAuditEntry(attacker, content satisfies AuditContent);
        if (copySignatures) {
          attacker.$client
            .prepare('update audit_log set signature = ?, kid = ? where seq = ?')
            .run(signature, kid, row.seq);
        }
      }
    } finally {
      await closeDb(attacker);
    }
  }

  it('detects an entry removed and the rest re-chained with the project code', async () => {
    const l = await signedLog(5);
    await rechainWithout(l, 3, false);
    const rows = await auditEntries(l.db);
    expect(rows.map((r) => r.target)).toEqual(['agent:a1', 'agent:a2', 'agent:a4', 'agent:a5']);
    expect(await verify(l)).toEqual({
      ok: false,
      entries: 4,
      firstBad: { seq: 3, reason: expect.stringMatching(/not signed by the audit key/) },
    });
    const r = await cliProcess(l, 'verify');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/TAMPERED at entry 3: not signed by the audit key/);
  });

  it('detects a re-chain that copies the old signatures onto the new hashes', async () => {
    const l = await signedLog(5);
    await rechainWithout(l, 2, true);
    expect((await verify(l)).firstBad).toEqual({
      seq: 2,
      reason: 'signature does not match its hash: re-chained or forged without the audit key',
    });
  });

  it('refuses entries signed by another key, and checks with the public key alone', async () => {
    const l = await signedLog(3);
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-otherkey-'));
    try {
      const stranger = loadAuditKey(other).verifier;
      expect((await verifyAuditChain(l.db, { key: stranger })).firstBad).toEqual({
        seq: 1,
        reason: `signed by key ${l.key.verifier.kid}, not the audit key ${stranger.kid}`,
      });
      const pub = l.key.verifier.publicKeyRaw.toString('base64');
      const withPublic = await cli(l, 'verify', '--public-key', pub);
      expect(withPublic).toMatchObject({ code: 0 });
      expect(auditVerifier(l.key.verifier.publicKeyRaw).kid).toBe(l.key.verifier.kid);
      const wrong = await cli(l, 'verify', '--public-key', stranger.publicKeyRaw.toString('base64'));
      expect(wrong.code).toBe(1);
      expect(wrong.out).toMatch(/TAMPERED at entry 1: signed by key/);
    } finally {
      fs.rmSync(other, { recursive: true, force: true });
    }
  });

  it('exports the head; entries cut off the end after the export fail verify --head', async () => {
    const l = await signedLog(5);
    const headFile = path.join(l.keyDir, 'head.json');
    const exported = await cli(l, 'export', '--out', headFile);
    expect(exported).toMatchObject({ code: 0 });
    const head = JSON.parse(fs.readFileSync(headFile, 'utf8'));
    const last = (await auditEntries(l.db)).at(-1)!;
    expect(head).toMatchObject({
      format: 'firebreak-audit-head/1',
      last_seq: 5,
      hash: last.hash,
      signature: last.signature,
      kid: l.key.verifier.kid,
      public_key: l.key.verifier.publicKeyRaw.toString('base64'),
    });
    expect(JSON.parse((await cli(l, 'export')).stdout)).toMatchObject({ last_seq: 5, hash: last.hash });
    expect(await cli(l, 'verify', '--head', headFile)).toMatchObject({ code: 0 });

    // A careful attacker cuts the last two entries and moves the DATA_DIR head back with them.
    tamper(l.db, 'delete from audit_log where seq >= 4');
    const third = (await auditEntries(l.db)).at(-1)!;
    fs.writeFileSync(path.join(l.dir, 'audit-head.json'), JSON.stringify({ seq: 3, hash: third.hash }));
    expect(await cli(l, 'verify')).toMatchObject({ code: 0 });
    const r = await cli(l, 'verify', '--head', headFile);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(
      /TAMPERED at entry 4: entries 4\.\.5 were removed from the end \(the head exported at/,
    );
  });

  it('refuses an exported head that the audit key did not sign', async () => {
    const l = await signedLog(2);
    const headFile = path.join(l.keyDir, 'head.json');
    await cli(l, 'export', '--out', headFile);
    const head = JSON.parse(fs.readFileSync(headFile, 'utf8'));
    const first = (await auditEntries(l.db))[0]!;
    fs.writeFileSync(headFile, JSON.stringify({ ...head, hash: first.hash.replace(/^./, 'f') }));
    const r = await cli(l, 'verify', '--head', headFile);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/TAMPERED at entry 2: the exported head is not signed by the audit key/);
    fs.writeFileSync(headFile, '{"format":"nope"}');
    expect((await cli(l, 'verify', '--head', headFile)).out).toMatch(/is not an exported audit head: format/);
  });
});
