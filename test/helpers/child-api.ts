/**
 * Runs `npm run api` (node --import tsx app/api.ts) as a real child process, so a test can SIGKILL it at any
 * point, and a TCP proxy in front of Temporal that a test can cut, so the child's outbox cannot
 * dispatch what it has stored.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { descendants, isAlive, testConfigHome } from './process';

const root = path.resolve(import.meta.dirname, '../..');

export interface ChildApi {
  url: string;
  child: ChildProcess;
  output: () => string;
}

export async function startChildApi(env: Record<string, string>, timeoutMs = 30_000): Promise<ChildApi> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'app/api.ts'], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      XDG_CONFIG_HOME: testConfigHome,
      HOST: '127.0.0.1',
      PORT: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`API child not ready in ${timeoutMs} ms:\n${out}`)),
      timeoutMs,
    );
    child.stdout!.on('data', () => {
      const m = /API ready: (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`API child exited with ${code}:\n${out}`));
    });
  });
  return { url, child, output: () => out };
}

/** SIGKILLs the tsx wrapper AND the node process running the API under it, as a crash would. */
export async function killHard(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const pids = [...descendants(child.pid).reverse(), child.pid];
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (const p of pids) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await exited;
  for (const p of pids) {
    for (let i = 0; i < 100 && isAlive(p); i += 1) await new Promise((r) => setTimeout(r, 20));
    if (isAlive(p)) throw new Error(`API process ${p} survived SIGKILL`);
  }
}

export interface CuttableProxy {
  address: string;
  /** Stops accepting and drops every open connection: the target looks down from now on. */
  cut(): Promise<void>;
}

export async function tcpProxy(target: string): Promise<CuttableProxy> {
  const [host, port] = [
    target.slice(0, target.lastIndexOf(':')),
    Number(target.slice(target.lastIndexOf(':') + 1)),
  ];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(port, host === 'localhost' ? '127.0.0.1' : host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => s.destroy());
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address() as net.AddressInfo;
  return {
    address: `127.0.0.1:${addr.port}`,
    async cut() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}
