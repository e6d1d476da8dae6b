/**
 * `npm start` when another process holds the API's PORT: the embedded Temporal server and the
 * worker are already up by the time the API binds, so the failure must name PORT, exit 1 without
 * an unhandled 'error' event, and stop the Temporal server it started (no orphan left holding
 * DATA_DIR's temporal.db).
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../app/free-port';
import { isAlive, killTree, runEntry, type Child } from '../helpers/process';

const dirs: string[] = [];
const children: Child[] = [];
const servers: net.Server[] = [];
afterAll(async () => {
  for (const c of children) await killTree(c);
  for (const s of servers) s.close();
  for (const d of dirs) {
    // What a failing run orphaned: reap it so it does not outlive the test.
    for (const pid of processesUsing(d)) process.kill(pid, 'SIGKILL');
    fs.rmSync(d, { recursive: true, force: true });
  }
});

/** Processes whose command line names `dir` (the embedded server gets `--db-filename <dir>/…`). */
function processesUsing(dir: string): number[] {
  return fs
    .readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid)
    .filter((p) => {
      try {
        return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').join(' ').includes(dir);
      } catch {
        return false; // exited while we looked
      }
    })
    .map(Number);
}

describe('npm start with PORT already in use', () => {
  it('fails naming PORT, exits 1 and stops the embedded Temporal server it started', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-port-'));
    dirs.push(dir);
    const holder = net.createServer();
    servers.push(holder);
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', () => r()));
    const taken = (holder.address() as net.AddressInfo).port;

    const child = runEntry('app/start.ts', {
      DATA_DIR: dir,
      PORT: String(taken),
      TEMPORAL_DEV_PORT: String(await freePort()),
      TEMPORAL_DEV_UI_PORT: String(await freePort()),
    });
    children.push(child);
    // The embedded server starts before the API binds: note its pid while it runs.
    const pidFile = path.join(dir, 'temporal.pid');
    let temporalPid = 0;
    let code: number | null | undefined;
    void child.exited.then((c) => (code = c));
    while (code === undefined) {
      if (!temporalPid && fs.existsSync(pidFile)) temporalPid = Number(fs.readFileSync(pidFile, 'utf8'));
      await new Promise((r) => setTimeout(r, 25));
    }

    const out = child.output();
    expect(code, out).toBe(1);
    expect(out).toContain(`PORT: 127.0.0.1:${taken} is already in use`);
    expect(out).not.toContain("Unhandled 'error' event");
    expect(out).not.toMatch(/Firebreak ready|\n\s+at /);
    expect(temporalPid, `the embedded Temporal server never started:\n${out}`).toBeGreaterThan(0);
    // start.ts waits for the server's exit before its own, so it is gone already; no retry window.
    expect(isAlive(temporalPid), 'embedded Temporal server left running').toBe(false);
    expect(fs.existsSync(pidFile), 'temporal.pid left behind').toBe(false);
    expect(processesUsing(dir), `processes still using ${dir}`).toEqual([]);
  }, 120_000);
});
