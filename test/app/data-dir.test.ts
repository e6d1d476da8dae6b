/**
 * DATA_DIR is private to the user Firebreak runs as: `npm start` over an install whose files are
 * world-readable (as older versions left them) makes the directory 0700 and every file in it 0600,
 * and everything it then creates (the DB and its WAL, the Temporal dev server's DB and log,
 * credentials, evidence, drill reports) is owner-only too. The Temporal dev server keeps its DB
 * owner-only even when whoever starts it has a permissive umask.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../app/free-port';
import { findTemporalCli } from '../../temporal/cli-binary';
import { startDevServer } from '../../temporal/dev-server';
import { runEntry, type Child } from '../helpers/process';

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-modes-'));
let child: Child | undefined;
afterAll(async () => {
  await child?.stop();
  const pidFile = path.join(dataDir, 'temporal.pid');
  if (fs.existsSync(pidFile)) {
    try {
      process.kill(Number(fs.readFileSync(pidFile, 'utf8')), 'SIGKILL');
    } catch {
      // already gone
    }
  }
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** Every entry under `dir` (not following links) with its permission bits. */
function modes(dir: string): { path: string; dir: boolean; mode: string }[] {
  const out = [{ path: '.', dir: true, mode: (fs.statSync(dir).mode & 0o777).toString(8) }];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      const st = fs.lstatSync(p);
      out.push({
        path: path.relative(dataDir, p),
        dir: e.isDirectory(),
        mode: (st.mode & 0o777).toString(8),
      });
      if (e.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

async function eventually<T>(fn: () => Promise<T | undefined>, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('DATA_DIR file modes', () => {
  it('npm start makes DATA_DIR 0700 and every file in it 0600, old and new', async () => {
    // An install from before: a world-readable directory, a report and an evidence file.
    fs.chmodSync(dataDir, 0o755);
    fs.mkdirSync(path.join(dataDir, 'drills', 'inc-old'), { recursive: true, mode: 0o755 });
    fs.writeFileSync(path.join(dataDir, 'drills', 'inc-old', 'report.md'), '# old\n', { mode: 0o644 });
    fs.writeFileSync(path.join(dataDir, 'temporal.log'), 'old log\n', { mode: 0o644 });
    fs.chmodSync(path.join(dataDir, 'drills', 'inc-old', 'report.md'), 0o644);
    fs.chmodSync(path.join(dataDir, 'temporal.log'), 0o644);

    child = runEntry('app/start.ts', {
      DATA_DIR: dataDir,
      PORT: String(await freePort()),
      TEMPORAL_DEV_PORT: String(await freePort()),
      TEMPORAL_DEV_UI_PORT: String(await freePort()),
    });
    const api = (await child.waitFor(/Firebreak ready: API (\S+)/, 90_000))[1]!;
    const creds = JSON.parse(fs.readFileSync(path.join(dataDir, 'credentials.json'), 'utf8')) as {
      adminToken: string;
      webhookSecret: string;
    };
    const admin = { authorization: `Bearer ${creds.adminToken}`, 'content-type': 'application/json' };

    // An incident with a hand-collected artifact, and a drill that writes its report.
    const alert = await fetch(`${api}/v1/alerts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${creds.webhookSecret}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        title: 'Agent exfiltrating',
        severity: 'critical',
        source: 'gw',
        dedup_key: 'm-1',
      }),
    });
    expect(alert.status).toBe(202);
    const { incident_id } = (await alert.json()) as { incident_id: string };
    await eventually(async () => {
      const r = await fetch(`${api}/v1/incidents/${incident_id}`, { headers: admin });
      return r.status === 200 && ((await r.json()) as { started_at?: string }).started_at ? true : undefined;
    }, 'the incident to start');
    const upload = await fetch(`${api}/v1/incidents/${incident_id}/evidence?kind=log&source=test`, {
      method: 'POST',
      headers: { authorization: `Bearer ${creds.adminToken}`, 'content-type': 'text/plain' },
      body: 'secret gateway log line\n',
    });
    expect(upload.status).toBeLessThan(300);

    const drill = await fetch(`${api}/v1/drills`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({
        auto: true,
        speed: 120,
        scenario: {
          id: 'modes',
          title: 'File modes drill',
          playbook: 'agent-config-tampering',
          alerts: [{ title: 'Prompt changed', severity: 'high', agent_id: 'ops-agent' }],
          expectations: [{ id: 'done', type: 'outcome', outcome: 'completed' }],
        },
      }),
    });
    expect(drill.status).toBe(202);
    const drillId = ((await drill.json()) as { incident_id: string }).incident_id;
    const report = path.join(dataDir, 'drills', drillId, 'report.md');
    await eventually(async () => (fs.existsSync(report) ? true : undefined), 'the drill report', 90_000);

    const entries = modes(dataDir);
    const names = entries.map((e) => e.path);
    for (const expected of [
      'credentials.json',
      'firebreak.db',
      'firebreak.db-wal',
      'temporal.db',
      'temporal.log',
      'temporal.pid',
      path.join('drills', drillId, 'report.md'),
      path.join('drills', 'inc-old', 'report.md'),
    ]) {
      expect(names, `${expected} should exist`).toContain(expected);
    }
    expect(
      names.some((n) => n.startsWith('evidence' + path.sep) && !entries.find((e) => e.path === n)?.dir),
    ).toBe(true);
    const wrong = entries.filter((e) => e.mode !== (e.dir ? '700' : '600'));
    expect(wrong, 'entries that other users can read').toEqual([]);
  }, 240_000);

  it('the Temporal dev server runs under a 077 umask whatever its caller has, and leaves the caller’s', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-devmodes-'));
    const callerUmask = process.umask(0o022);
    try {
      const server = await startDevServer({
        cliPath: findTemporalCli(),
        dataDir: dir,
        port: await freePort(),
        uiPort: await freePort(),
        namespace: 'default',
      });
      try {
        expect(process.umask(0o022), 'the caller keeps its own umask').toBe(0o022);
        const files = fs.readdirSync(dir).filter((f) => f.startsWith('temporal.'));
        expect(files).toEqual(expect.arrayContaining(['temporal.db', 'temporal.log', 'temporal.pid']));
        const wrong = files.filter((f) => (fs.statSync(path.join(dir, f)).mode & 0o777) !== 0o600);
        expect(wrong).toEqual([]);
      } finally {
        await server.stop(3000);
      }
    } finally {
      process.umask(callerUmask);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
