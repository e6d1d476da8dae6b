/**
 * PostgreSQL connector: restricting `postgres:<role>` runs `ALTER ROLE … NOLOGIN` and terminates
 * the role's open sessions (so a running agent is cut off, not just future logins); restoring
 * sets LOGIN again. Verification reads pg_roles and pg_stat_activity: the role can log in only
 * if it has LOGIN and is not expired, and it has no live session. Also a credential provider
 * (provider `postgres`, reference = role name) and an evidence source. The admin connection
 * string comes from config; its password is registered for redaction.
 */
import pg from 'pg';
import { registerSecret } from './redact';
import { ConnectorError, type AccessProvider, type CredentialProvider } from './types';

export interface PostgresOptions {
  adminUrl: string;
  connectTimeoutMs?: number;
}

export function postgresConnector(o: PostgresOptions) {
  try {
    registerSecret(decodeURIComponent(new URL(o.adminUrl).password));
  } catch {
    throw new ConnectorError('FIREBREAK_PG_ADMIN_URL is not a valid postgres:// URL');
  }

  async function withAdmin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({
      connectionString: o.adminUrl,
      connectionTimeoutMillis: o.connectTimeoutMs ?? 5000,
    });
    try {
      await client.connect();
    } catch (err) {
      throw new ConnectorError(`cannot connect to PostgreSQL as admin: ${(err as Error).message}`, true);
    }
    try {
      return await fn(client);
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  async function roleExists(c: pg.Client, role: string) {
    const r = await c.query('select 1 from pg_roles where rolname = $1', [role]);
    if (r.rowCount === 0)
      throw new ConnectorError(`PostgreSQL role ${role} does not exist: check the resource name`);
  }

  const access: AccessProvider = {
    async restrict(role) {
      return withAdmin(async (c) => {
        await roleExists(c, role);
        await c.query(`alter role ${c.escapeIdentifier(role)} nologin`);
        const sessions = await c.query(
          'select pid from pg_stat_activity where usename = $1 and pid <> pg_backend_pid()',
          [role],
        );
        // One at a time: an admin without pg_signal_backend cannot end them, and verification
        // must then report the surviving sessions rather than the whole action erroring out.
        let terminated = 0;
        for (const { pid } of sessions.rows as { pid: number }[]) {
          const ok = await c.query('select pg_terminate_backend($1) as ok', [pid]).then(
            (r) => (r.rows[0] as { ok: boolean }).ok,
            () => false,
          );
          if (ok) terminated += 1;
        }
        return { terminated_sessions: terminated };
      });
    },
    async restore(role) {
      return withAdmin(async (c) => {
        await roleExists(c, role);
        await c.query(`alter role ${c.escapeIdentifier(role)} login`);
        return {};
      });
    },
    async canAccess(role) {
      return withAdmin(async (c) => {
        // A terminated backend lingers in pg_stat_activity for a moment: give it up to 2 s.
        for (let attempt = 0; ; attempt++) {
          const r = await c.query(
            `select r.rolcanlogin and (r.rolvaliduntil is null or r.rolvaliduntil > now()) as can_login,
                    (select count(*) from pg_stat_activity a where a.usename = r.rolname)::int as sessions
               from pg_roles r where r.rolname = $1`,
            [role],
          );
          const row = r.rows[0] as { can_login: boolean; sessions: number } | undefined;
          if (!row) throw new ConnectorError(`PostgreSQL role ${role} does not exist`);
          if (row.can_login || row.sessions === 0 || attempt >= 20) return row.can_login || row.sessions > 0;
          await new Promise((res) => setTimeout(res, 100));
          await c.query('select pg_stat_clear_snapshot()');
        }
      });
    },
  };

  const credentials: CredentialProvider = {
    revoke: async (c, ctx) => void (await access.restrict(c.reference, ctx)),
    reactivate: async (c, ctx) => void (await access.restore(c.reference, ctx)),
    isActive: (c) => access.canAccess(c.reference),
  };

  const evidence = {
    sessions: (roles: string[]) =>
      withAdmin(async (c) => {
        const r = await c.query(
          `select pid, usename, application_name, client_addr::text, backend_start, xact_start, state_change, state,
                  wait_event_type, wait_event
             from pg_stat_activity where usename = any($1::text[]) order by backend_start`,
          [roles],
        );
        return r.rows as unknown[];
      }),
    roles: (roles: string[]) =>
      withAdmin(async (c) => {
        const r = await c.query(
          `select rolname, rolcanlogin, rolsuper, rolcreaterole, rolcreatedb, rolconnlimit, rolvaliduntil,
                  array(select b.rolname from pg_auth_members m join pg_roles b on b.oid = m.roleid
                         where m.member = r.oid) as member_of
             from pg_roles r where rolname = any($1::text[]) order by rolname`,
          [roles],
        );
        return r.rows as unknown[];
      }),
  };

  return { access, credentials, evidence };
}
