import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../activities/audit';
import { auditEntries } from '../../db/audit';
import { actionsFor, importAgents, liveFor, req, storedContaining } from '../connectors/fixtures';
import { startTestStack, type TestStack } from '../helpers/stack';
import { startPostgres, type LocalPostgres } from './services';

const ROLE = 'agent_reporting';
const ROLE_PW = 'role-pw-must-not-leak-7f3a';

let stack: TestStack;
let pgsrv: LocalPostgres;
let admin: pg.Client;

beforeAll(async () => {
  pgsrv = await startPostgres();
  stack = await startTestStack({ withWorker: false });
  admin = new pg.Client({ connectionString: pgsrv.adminUrl });
  await admin.connect();
  await admin.query(`create role ${ROLE} login password '${ROLE_PW}'`);
  await importAgents(stack, [
    {
      id: 'agent-pg',
      name: 'Reporting agent',
      owner: 'data@example.com',
      environment: 'prod',
      credentials: [{ id: 'agent-pg-db', provider: 'postgres', reference: ROLE }],
    },
  ]);
});
afterAll(async () => {
  await admin?.end();
  await stack?.close();
  await pgsrv?.stop();
});

async function login(): Promise<{ ok: true; client: pg.Client } | { ok: false; error: string }> {
  const client = new pg.Client({ connectionString: pgsrv.urlFor(ROLE, ROLE_PW) });
  try {
    await client.connect();
    return { ok: true, client };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

const live = () => liveFor(stack, { pgAdminUrl: pgsrv.adminUrl });

describe('PostgreSQL connector on a real local server', () => {
  it('restricts a role: NOLOGIN, open sessions terminated, login refused; the step is idempotent', async () => {
    const session = await login();
    if (!session.ok) throw new Error(`role should log in before the test: ${session.error}`);
    session.client.on('error', () => undefined); // it is about to be terminated
    session.client.query('select pg_sleep(30)').catch(() => undefined);
    const acts = actionsFor(stack, live);
    const r = req('access.restrict', { agent_id: 'agent-pg', resource: `postgres:${ROLE}` });
    const first = await acts.executeAction(r);
    expect(first).toMatchObject({
      ok: true,
      verified: true,
      replayed: false,
      output: { resource: `postgres:${ROLE}`, can_login: false, terminated_sessions: 1 },
    });
    const after = await login();
    expect(after.ok).toBe(false);
    expect(after.ok === false && after.error).toMatch(/not permitted to log in/);
    await expect(session.client.query('select 1')).rejects.toThrow();

    const before = await admin.query('select rolcanlogin from pg_roles where rolname = $1', [ROLE]);
    const again = await acts.executeAction(r);
    expect(again).toEqual({ ...first, replayed: true });
    expect((await admin.query('select rolcanlogin from pg_roles where rolname = $1', [ROLE])).rows).toEqual(
      before.rows,
    );
  });

  it('collects pg_roles and pg_stat_activity as evidence', async () => {
    const acts = actionsFor(stack, live);
    const r = await acts.executeAction(
      req('evidence.collect', { agent_id: 'agent-pg', kind: 'auth_attempts' }),
    );
    const art = (r.output.artifacts as any[])[0];
    const doc = JSON.parse(
      fs.readFileSync(path.join(stack.dataDir, 'evidence', art.sha256.slice(0, 2), art.sha256), 'utf8'),
    );
    expect(doc.sources['postgres:pg_roles']).toEqual([
      expect.objectContaining({ rolname: ROLE, rolcanlogin: false }),
    ]);
    const logs = await acts.executeAction(
      req('evidence.collect', { agent_id: 'agent-pg', kind: 'access_logs' }),
    );
    const logArt = (logs.output.artifacts as any[])[0];
    expect(logArt.source).toBe('postgres:pg_stat_activity');
    // Firebreak's own record of what it did is its own kind, never part of access_logs.
    const audit = await acts.executeAction(
      req('evidence.collect', { agent_id: 'agent-pg', kind: 'firebreak_audit' }),
    );
    const auditArt = (audit.output.artifacts as any[])[0];
    const logDoc = JSON.parse(
      fs.readFileSync(
        path.join(stack.dataDir, 'evidence', auditArt.sha256.slice(0, 2), auditArt.sha256),
        'utf8',
      ),
    );
    // The restriction of its DB role is part of the agent's history, though its target is the role.
    expect(logDoc.sources['firebreak:audit_log']).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ action: 'access.restrict', target: `postgres:${ROLE}` }),
      ]),
    );
  });

  it('access.restore (the undo) lets the role log in again', async () => {
    const acts = actionsFor(stack, live);
    const r = await acts.executeAction(
      req('access.restore', { agent_id: 'agent-pg', resource: `postgres:${ROLE}` }),
    );
    expect(r).toMatchObject({ ok: true, verified: true, output: { can_login: true } });
    const s = await login();
    expect(s.ok).toBe(true);
    if (s.ok) await s.client.end();
  });

  it('credentials.revoke with provider postgres disables the role, and reactivate restores it', async () => {
    const acts = actionsFor(stack, live);
    const revoked = await acts.executeAction(
      req('credentials.revoke', { agent_id: 'agent-pg', provider: 'postgres' }),
    );
    expect(revoked).toMatchObject({ ok: true, verified: true });
    expect(revoked.output.credentials).toEqual([
      { id: 'agent-pg-db', provider: 'postgres', reference: ROLE, status: 'inactive' },
    ]);
    expect((await login()).ok).toBe(false);
    const back = await acts.executeAction(
      req('credentials.reactivate', { agent_id: 'agent-pg', credential_id: 'agent-pg-db' }),
    );
    expect(back).toMatchObject({ ok: true, verified: true });
    const s = await login();
    expect(s.ok).toBe(true);
    if (s.ok) await s.client.end();
  });

  it('fails verification (verified:false, ok:false) when a session survives: admin lacks pg_signal_backend', async () => {
    // A least-privilege admin (CREATEROLE, no pg_signal_backend) can set NOLOGIN but cannot end
    // the agent's open session, so the agent still has access and the action must not pass.
    const limitedPw = 'limited-admin-pw-0123';
    await admin.query(`create role fb_limited login createrole password '${limitedPw}'`);
    const v = Number((await admin.query('show server_version_num')).rows[0].server_version_num);
    if (v >= 160000)
      await admin.query(`grant ${ROLE} to fb_limited with admin option, inherit false, set false`);
    const session = await login();
    if (!session.ok) throw new Error(session.error);
    const limited = pgsrv.urlFor('fb_limited', limitedPw);
    const acts = actionsFor(stack, () => liveFor(stack, { pgAdminUrl: limited }));
    const r = await acts.executeAction(
      req('access.restrict', { agent_id: 'agent-pg', resource: `postgres:${ROLE}` }),
    );
    expect(r).toMatchObject({ ok: false, verified: false, output: { terminated_sessions: 0 } });
    expect(r.summary).toMatch(/verification failed: postgres:agent_reporting access still works/);
    expect((await session.client.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
    await session.client.end();
    expect((await auditEntries(stack.db)).at(-1)?.outcome).toBe('unverified');
    expect(await storedContaining(stack, limitedPw)).toEqual([]);
  });

  it('never stores the admin or role password', async () => {
    const adminPw = decodeURIComponent(new URL(pgsrv.adminUrl).password);
    expect(await storedContaining(stack, adminPw)).toEqual([]);
    expect(await storedContaining(stack, ROLE_PW)).toEqual([]);
    expect((await auditEntries(stack.db)).length).toBeGreaterThan(4);
    expect((await verifyAuditChain(stack.db, { key: stack.auditKey })).ok).toBe(true);
  });
});
