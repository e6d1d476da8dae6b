/**
 * The embedded Temporal dev server (`temporal server start-dev`) used when no TEMPORAL_ADDRESS is
 * configured. Its state lives in DATA_DIR/temporal.db so open incidents survive restarts. It runs
 * as a child process: stop() ends it, and a pid file lets the next start reap one left behind by
 * a crash of ours, so no Temporal process is ever orphaned for long. Its ports are checked before
 * it is spawned: if another server holds one, the readiness probe would otherwise succeed against
 * that server and this install would run on someone else's Temporal. It is spawned with a 077
 * umask whatever the caller's, so its DB (every incident's history) and its WAL are owner-only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';

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
  /** Resolves with the exit code (or signal) when the server process ends, whoever ended it. */
  exited: Promise<string>;
  /** SIGTERM, then SIGKILL if it is still running after `killAfterMs`; resolves once it is gone. */
  stop(killAfterMs?: number): Promise<void>;
  /** SIGKILL now, for a process about to exit that cannot wait. */
  kill(): void;
}

/** A port the dev server needs is held by another process (another install, another Temporal). */
export class PortInUseError extends Error {
  override name = 'PortInUseError';
  constructor(
    readonly port: number,
    readonly role: 'port' | 'uiPort',
  ) {
    super(`127.0.0.1:${port} is already in use`);
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', (err: NodeJS.ErrnoException) =>
      err.code === 'EADDRINUSE' || err.code === 'EACCES' ? resolve(false) : reject(err),
    );
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Kills the server a crash of ours left behind, and waits until it is gone (its ports with it). */
async function reapStale(pidFile: string): Promise<void> {
  if (!fs.existsSync(pidFile)) return;
  const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
  if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
    let cmd = '';
    try {
      cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      // not Linux, or gone: fall through
    }
    if (cmd.includes('start-dev')) {
      process.kill(pid, 'SIGKILL');
      for (let i = 0; i < 250 && alive(pid); i += 1) await new Promise((r) => setTimeout(r, 20));
    }
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
        // Whoever answered, our child must still be running, or it was not our server.
        if (child.exitCode !== null) continue;
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

/** The umask the server runs under: it creates its DB files 0600. */
const SERVER_UMASK = 0o077;

/** How many times a start that lost a race for one of the server's own internal ports is retried. */
const BIND_RACE_ATTEMPTS = 4;
const BIND_FAILURE = /listen tcp 127\.0\.0\.1:(\d+): bind: address already in use/;

/**
 * Besides --port and --ui-port, the dev server picks free ports for its internal services (HTTP,
 * history, matching, worker, membership) itself, by binding and releasing them; another process can
 * take one in between, and the server then exits at start-up. Those ports are picked anew on each
 * start, so such a start is retried; a bind failure on one of our two ports is reported as such.
 */
export async function startDevServer(opts: DevServerOptions): Promise<DevServer> {
  fs.mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  const pidFile = path.join(opts.dataDir, 'temporal.pid');
  await reapStale(pidFile);
  for (let attempt = 1; ; attempt += 1) {
    if (!(await portFree(opts.port))) throw new PortInUseError(opts.port, 'port');
    if (!(await portFree(opts.uiPort))) throw new PortInUseError(opts.uiPort, 'uiPort');
    const started = await spawnOnce(opts, pidFile);
    if ('server' in started) return started.server;
    const taken = Number(BIND_FAILURE.exec(started.log)?.[1] ?? NaN);
    if (taken === opts.port) throw new PortInUseError(opts.port, 'port');
    if (taken === opts.uiPort) throw new PortInUseError(opts.uiPort, 'uiPort');
    if (Number.isNaN(taken) || attempt >= BIND_RACE_ATTEMPTS) throw started.error;
  }
}

async function spawnOnce(
  opts: DevServerOptions,
  pidFile: string,
): Promise<{ server: DevServer } | { error: Error; log: string }> {
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
  const logPath = path.join(opts.dataDir, 'temporal.log');
  const logFile = fs.openSync(logPath, 'a', 0o600);
  const logStart = fs.fstatSync(logFile).size;
  fs.fchmodSync(logFile, 0o600); // a log left by an older install
  // The child inherits the umask at spawn: set it only around the (synchronous) fork.
  const callerUmask = process.umask(SERVER_UMASK);
  let child: ChildProcess;
  try {
    child = spawn(opts.cliPath, args, { stdio: ['ignore', logFile, logFile] });
  } finally {
    process.umask(callerUmask);
    fs.closeSync(logFile);
  }
  if (child.pid === undefined) throw new Error(`could not start ${opts.cliPath}`);
  fs.writeFileSync(pidFile, String(child.pid), { mode: 0o600 });
  const address = `127.0.0.1:${opts.port}`;
  const exited = new Promise<string>((resolve) =>
    child.once('exit', (code, signal) => resolve(signal ?? `code ${code}`)),
  );
  try {
    await waitReady(address, child, opts.readyTimeoutMs ?? 60_000);
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    fs.rmSync(pidFile, { force: true });
    const log = fs.readFileSync(logPath).subarray(logStart).toString('utf8');
    const last = log.trim().split('\n').at(-1) ?? '';
    const error = new Error(`${(err as Error).message}: ${last.slice(0, 500)} (see ${logPath})`, {
      cause: err,
    });
    return { error, log };
  }
  const server: DevServer = {
    address,
    uiUrl: `http://127.0.0.1:${opts.uiPort}`,
    pid: child.pid,
    exited,
    async stop(killAfterMs = 10_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
        await exited;
        clearTimeout(timer);
      }
      fs.rmSync(pidFile, { force: true });
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      fs.rmSync(pidFile, { force: true });
    },
  };
  return { server };
}
