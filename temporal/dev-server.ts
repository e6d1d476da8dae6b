/**
 * The embedded Temporal dev server (`temporal server start-dev`) used when no TEMPORAL_ADDRESS is
 * configured. Its state lives in DATA_DIR/temporal.db so open incidents survive restarts. It runs
 * as a child process: stop() ends it, and a pid file lets the next start reap one left behind by
 * a crash of ours, so no Temporal process is ever orphaned for long.
 */
import { Connection } from '@temporalio/client';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface DevServerOptions {
  cliPath: string;
  dataDir: string;
  port: number;
  uiPort: number;
  namespace: string;
  /** Keep state in DATA_DIR/temporal.db (default) or in memory. */
  persist?: boolean;
  readyTimeoutMs?: number;
}

export interface DevServer {
  address: string;
  uiUrl: string;
  pid: number;
  stop(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function reapStale(pidFile: string): void {
  if (!fs.existsSync(pidFile)) return;
  const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
  if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
    let cmd = '';
    try {
      cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      // not Linux, or gone: fall through
    }
    if (cmd.includes('start-dev')) process.kill(pid, 'SIGKILL');
  }
  fs.rmSync(pidFile, { force: true });
}

async function waitReady(address: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`temporal dev server exited with code ${child.exitCode}`);
    try {
      const conn = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await conn.workflowService.getSystemInfo({});
        return;
      } finally {
        await conn.close();
      }
    } catch (err) {
      lastErr = err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`temporal dev server not ready at ${address} after ${timeoutMs} ms: ${String(lastErr)}`);
}

export async function startDevServer(opts: DevServerOptions): Promise<DevServer> {
  fs.mkdirSync(opts.dataDir, { recursive: true });
  const pidFile = path.join(opts.dataDir, 'temporal.pid');
  reapStale(pidFile);
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(opts.port),
    '--ui-port',
    String(opts.uiPort),
    '--namespace',
    opts.namespace,
    '--log-level',
    'warn',
    // An activity scheduled by a workflow task comes back in the task's completion response, not
    // through another poll: one server round trip less per action (README: enable it on clusters too).
    '--dynamic-config-value',
    'system.enableActivityEagerExecution=true',
  ];
  if (opts.persist !== false) args.push('--db-filename', path.join(opts.dataDir, 'temporal.db'));
  const logFile = fs.openSync(path.join(opts.dataDir, 'temporal.log'), 'a');
  const child = spawn(opts.cliPath, args, { stdio: ['ignore', logFile, logFile] });
  fs.closeSync(logFile);
  if (child.pid === undefined) throw new Error(`could not start ${opts.cliPath}`);
  fs.writeFileSync(pidFile, String(child.pid));
  const address = `127.0.0.1:${opts.port}`;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await waitReady(address, child, opts.readyTimeoutMs ?? 60_000);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message} (see ${path.join(opts.dataDir, 'temporal.log')})`, {
      cause: err,
    });
  }
  return {
    address,
    uiUrl: `http://127.0.0.1:${opts.uiPort}`,
    pid: child.pid,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      fs.rmSync(pidFile, { force: true });
    },
  };
}
