/**
 * Real local services for connector integration tests, each on a random loopback port in a temp
 * dir: PostgreSQL (initdb + pg_ctl; run as the `postgres` user when we are root, because postgres
 * refuses to run as root) and moto's IAM server. A missing binary fails the test saying what to
 * install (scripts/provision-test-services.sh does both); it never skips.
 */
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort } from '../../app/free-port';

function which(bin: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${bin}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

function postgresBinDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = fs.existsSync(root) ? fs.readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions)
    if (fs.existsSync(path.join(root, v, 'bin', 'pg_ctl'))) return path.join(root, v, 'bin');
  const found = which('pg_ctl');
  if (found) return path.dirname(fs.realpathSync(found));
  throw new Error(
    'PostgreSQL server binaries (initdb, pg_ctl, postgres) not found: run scripts/provision-test-services.sh ' +
      'or `apt-get install -y postgresql`',
  );
}

export interface LocalPostgres {
  port: number;
  adminUrl: string;
  urlFor(role: string, password: string): string;
  stop(): Promise<void>;
}

/** `durable`: fsync on, as a production server runs (benchmarks); tests run with fsync off. */
export async function startPostgres(opts: { durable?: boolean } = {}): Promise<LocalPostgres> {
  const bin = postgresBinDir();
  const asRoot = process.getuid?.() === 0;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-pg-'));
  const data = path.join(dir, 'data');
  const password = crypto.randomBytes(12).toString('hex');
  fs.writeFileSync(path.join(dir, 'pw'), password);
  if (asRoot) {
    try {
      execFileSync('id', ['-u', 'postgres'], { stdio: 'ignore' });
    } catch {
      throw new Error(
        'running as root needs a `postgres` OS user to run the server: `apt-get install -y postgresql` creates it',
      );
    }
    execFileSync('chown', ['-R', 'postgres:', dir]);
  }
  const run = (cmd: string, args: string[]) =>
    execFileSync(asRoot ? 'runuser' : cmd, asRoot ? ['-u', 'postgres', '--', cmd, ...args] : args, {
      stdio: 'pipe',
      encoding: 'utf8',
    });
  run(path.join(bin, 'initdb'), [
    '-D',
    data,
    '-U',
    'fb_admin',
    '--auth=scram-sha-256',
    `--pwfile=${path.join(dir, 'pw')}`,
    '-E',
    'UTF8',
    '--no-sync',
  ]);
  const port = await freePort();
  run(path.join(bin, 'pg_ctl'), [
    '-D',
    data,
    '-l',
    path.join(dir, 'log'),
    '-w',
    '-t',
    '60',
    '-o',
    `-h 127.0.0.1 -p ${port} -k ${dir}${opts.durable ? '' : ' -c fsync=off'}`,
    'start',
  ]);
  const adminUrl = `postgres://fb_admin:${password}@127.0.0.1:${port}/postgres`;
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  await c.end();
  return {
    port,
    adminUrl,
    urlFor: (role, pw) =>
      `postgres://${encodeURIComponent(role)}:${encodeURIComponent(pw)}@127.0.0.1:${port}/postgres`,
    async stop() {
      run(path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', 'stop']);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface LocalMoto {
  endpoint: string;
  stop(): Promise<void>;
}

export async function startMoto(): Promise<LocalMoto> {
  const bin = which('moto_server');
  if (!bin) {
    throw new Error(
      "moto_server not found: run scripts/provision-test-services.sh or `pip install 'moto[server]'`",
    );
  }
  const port = await freePort();
  const child = spawn(bin, ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`moto_server exited (${child.exitCode}): ${stderr.slice(-500)}`);
    try {
      const r = await fetch(`${endpoint}/moto-api/`);
      if (r.status < 500) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline)
      throw new Error(`moto_server did not start on ${endpoint}: ${stderr.slice(-500)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    endpoint,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}
