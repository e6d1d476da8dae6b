/**
 * `npm start` as a user runs it: the embedded Temporal dev server, worker and API in one process,
 * the ready line, an alert that becomes an incident, a clean Ctrl-C, and a restart that keeps it;
 * a refusal to start on a port another server holds; a bounded stop while an activity retries.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultTaskQueue } from '../../app/config';
import { freePort } from '../../app/free-port';
import { isAlive, runEntry, type Child } from '../helpers/process';

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-start-'));
const children: Child[] = [];
afterAll(() => {
  for (const c of children) c.proc.kill('SIGKILL');
  const pidFile = path.join(dataDir, 'temporal.pid');
  if (fs.existsSync(pidFile)) {
    try {
      process.kill(Number(fs.readFileSync(pidFile, 'utf8')), 'SIGKILL');
    } catch {
      // already gone: the server died with its parent
    }
  }
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function start(env: Record<string, string>) {
  const child = runEntry('app/start.ts', { DATA_DIR: dataDir, ...env });
  children.push(child);
  const m = await child.waitFor(/Firebreak ready: API (\S+)\s+Temporal UI (\S+)\s+Temporal (\S+)/, 90_000);
  return { child, api: m[1]!, ui: m[2]! };
}

describe('npm start (embedded Temporal)', () => {
  it('starts, takes an alert, stops cleanly on SIGINT and keeps the incident across a restart', async () => {
    const env = {
      PORT: String(await freePort()),
      TEMPORAL_DEV_PORT: String(await freePort()),
      TEMPORAL_DEV_UI_PORT: String(await freePort()),
    };
    const first = await start(env);
    expect(first.child.output()).toContain(path.join(dataDir, 'credentials.json'));
    const creds = JSON.parse(fs.readFileSync(path.join(dataDir, 'credentials.json'), 'utf8'));
    expect(fs.statSync(path.join(dataDir, 'credentials.json')).mode & 0o777).toBe(0o600);
    expect(first.child.output()).not.toContain(creds.adminToken);
    expect(first.child.output()).not.toContain(creds.webhookSecret);

    expect((await fetch(`${first.api}/healthz`)).status).toBe(200);
    // The service runs on the Node the npm scripts run on (>= 22), and says which.
    expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(22);
    expect(first.child.output()).toContain(`Node ${process.version}`);
    const metrics = await fetch(`${first.api}/metrics`, {
      headers: { authorization: `Bearer ${creds.adminToken}` },
    });
    expect(await metrics.text()).toContain(`nodejs_version_info{version="${process.version}"`);
    const res = await fetch(`${first.api}/v1/alerts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${creds.webhookSecret}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        title: 'Agent exfiltrating data',
        severity: 'critical',
        source: 'gateway',
        dedup_key: 'e2e-1',
      }),
    });
    expect(res.status).toBe(202);
    const { incident_id } = (await res.json()) as { incident_id: string };
    const get = () =>
      fetch(`${first.api}/v1/incidents/${incident_id}`, {
        headers: { authorization: `Bearer ${creds.adminToken}` },
      });
    for (let i = 0; i < 100 && !((await (await get()).json()) as any).started_at; i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(((await (await get()).json()) as any).phase).toBe('assess');

    const temporalPid = Number(fs.readFileSync(path.join(dataDir, 'temporal.pid'), 'utf8'));
    expect(isAlive(temporalPid)).toBe(true);
    first.child.proc.kill('SIGINT');
    expect(await first.child.exited).toBe(0);
    for (let i = 0; i < 50 && isAlive(temporalPid); i++) await new Promise((r) => setTimeout(r, 100));
    expect(isAlive(temporalPid), 'embedded Temporal server left running after SIGINT').toBe(false);

    const second = await start(env);
    const again = await fetch(`${second.api}/v1/incidents/${incident_id}`, {
      headers: { authorization: `Bearer ${creds.adminToken}` },
    });
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ id: incident_id, status: 'open', phase: 'assess' });
    second.child.proc.kill('SIGTERM');
    expect(await second.child.exited).toBe(0);
  }, 180_000);

  it('fails start-up naming the variable when a value is bad', async () => {
    const child = runEntry('app/start.ts', { DATA_DIR: dataDir, PORT: 'eighty' });
    children.push(child);
    expect(await child.exited).toBe(1);
    expect(child.output()).toMatch(/PORT/);
  });

  it.each(['TEMPORAL_DEV_PORT', 'TEMPORAL_DEV_UI_PORT'])(
    'refuses to start, naming %s, when another process holds that port',
    async (name) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-taken-'));
      const other = net.createServer();
      await new Promise<void>((r) => other.listen(0, '127.0.0.1', () => r()));
      const taken = (other.address() as net.AddressInfo).port;
      try {
        const env = {
          DATA_DIR: dir,
          PORT: String(await freePort()),
          TEMPORAL_DEV_PORT: String(await freePort()),
          TEMPORAL_DEV_UI_PORT: String(await freePort()),
          [name]: String(taken),
        };
        const child = runEntry('app/start.ts', env);
        children.push(child);
        expect(await child.exited).toBe(1);
        expect(child.output()).toContain(`${name}: 127.0.0.1:${taken} is already in use`);
        expect(child.output()).not.toMatch(/Firebreak ready|\n\s+at /);
        expect(fs.existsSync(path.join(dir, 'temporal.pid')), 'no dev server was spawned').toBe(false);
      } finally {
        other.close();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  it('stops within 15 s on SIGTERM after an incident failed on a projection write, and its Temporal server with it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-stop-'));
    const temporalPort = await freePort();
    const child = runEntry('app/start.ts', {
      DATA_DIR: dir,
      LOG_LEVEL: 'info',
      PORT: String(await freePort()),
      TEMPORAL_DEV_PORT: String(temporalPort),
      TEMPORAL_DEV_UI_PORT: String(await freePort()),
    });
    children.push(child);
    let temporalPid = 0;
    try {
      await child.waitFor(/Firebreak ready/, 90_000);
      temporalPid = Number(fs.readFileSync(path.join(dir, 'temporal.pid'), 'utf8'));
      // An incident whose DB row does not exist: its first projection write fails on every attempt.
      const connection = await Connection.connect({ address: `127.0.0.1:${temporalPort}` });
      const client = new Client({ connection });
      await client.workflow.start('runIncident', {
        workflowId: 'incident-inc-no-row',
        taskQueue: defaultTaskQueue(dir),
        args: [
          {
            incidentId: 'inc-no-row',
            key: 'no-row',
            mode: 'live',
            source: 'test',
            title: 'No row',
            severity: 'high',
            agentId: undefined,
            openedAt: new Date().toISOString(),
          },
        ],
      });
      await connection.close();
      await child.waitFor(/has no row/, 30_000);

      const t0 = Date.now();
      child.proc.kill('SIGTERM');
      await child.exited;
      expect(Date.now() - t0, child.output()).toBeLessThan(15_000);
      for (let i = 0; i < 100 && isAlive(temporalPid); i++) await new Promise((r) => setTimeout(r, 50));
      expect(isAlive(temporalPid), 'embedded Temporal server left running after SIGTERM').toBe(false);
    } finally {
      child.proc.kill('SIGKILL');
      if (temporalPid && isAlive(temporalPid)) process.kill(temporalPid, 'SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('stops with exit code 1, naming the log, when its embedded Temporal server dies', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-lost-'));
    const child = runEntry('app/start.ts', {
      DATA_DIR: dir,
      PORT: String(await freePort()),
      TEMPORAL_DEV_PORT: String(await freePort()),
      TEMPORAL_DEV_UI_PORT: String(await freePort()),
    });
    children.push(child);
    try {
      await child.waitFor(/Firebreak ready/, 90_000);
      process.kill(Number(fs.readFileSync(path.join(dir, 'temporal.pid'), 'utf8')), 'SIGKILL');
      expect(await child.exited).toBe(1);
      expect(child.output()).toContain(
        `The embedded Temporal server exited (SIGKILL); see ${dir}/temporal.log`,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('npm run api validates the connector settings too', async () => {
    const child = runEntry('app/api.ts', { DATA_DIR: dataDir, FIREBREAK_AWS_ENDPOINT: 'not a url' });
    children.push(child);
    expect(await child.exited).toBe(1);
    expect(child.output()).toMatch(/FIREBREAK_AWS_ENDPOINT/);
  });
});
