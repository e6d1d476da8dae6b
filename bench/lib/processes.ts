/**
 * Firebreak deployed as in production: `npm run api` and `npm run worker` as their own processes
 * (node with the flags those scripts pass), against an embedded Temporal dev server.
 * The benchmark process itself only generates load and reads the shared SQLite file, so the load
 * generator does not steal the server's event loop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../../app/config';
import { openServices, resolveTemporal } from '../../app/runtime';
import { benchEnv } from './stack';

const root = path.resolve(import.meta.dirname, '..', '..');

/** The node flags an npm script gives its process (`node <flags> --import tsx <entry>`). */
export function scriptNodeArgs(script: string): string[] {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const words = (pkg.scripts[script] ?? '').split(/\s+/);
  const from = words.indexOf('node') + 1;
  const to = words.indexOf('--import');
  return from > 0 && to > from ? words.slice(from, to) : [];
}

export interface Child {
  proc: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** Starts `node --import tsx <entry>` and resolves once its output matches `ready`. */
export async function spawnEntry(
  entry: string,
  env: Record<string, string>,
  ready: RegExp,
  opts: { timeoutMs?: number; nodeArgs?: string[] } = {},
): Promise<{ child: Child; match: RegExpExecArray }> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  // nodeArgs: e.g. ['--cpu-prof'] to profile one of the processes.
  const proc = spawn(process.execPath, [...(opts.nodeArgs ?? []), '--import', 'tsx', entry], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const child: Child = {
    proc,
    output: () => out,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      await exited;
    },
  };
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${entry} not ready in ${timeoutMs} ms:\n${out}`)),
      timeoutMs,
    );
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = ready.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${entry} exited (${code}) before it was ready:\n${out}`));
    });
  });
  return { child, match };
}

export async function startProcessStack(
  opts: {
    drill?: boolean;
    env?: Record<string, string>;
    apiNodeArgs?: string[];
    workerNodeArgs?: string[];
  } = {},
) {
  const { dataDir, env } = await benchEnv(opts);
  const config = loadConfig(env);
  const target = await resolveTemporal(config, true, pino({ level: 'error' }));
  const childEnv = { ...env, TEMPORAL_ADDRESS: target.address };
  const children: Child[] = [];
  try {
    // The API migrates the database; the worker starts once it has.
    const api = await spawnEntry('app/api.ts', childEnv, /API ready: (http:\/\/\S+)/, {
      nodeArgs: opts.apiNodeArgs ?? scriptNodeArgs('api'),
    });
    children.push(api.child);
    const worker = await spawnEntry('app/worker.ts', childEnv, /worker ready/, {
      nodeArgs: opts.workerNodeArgs ?? scriptNodeArgs('worker'),
    });
    children.push(worker.child);
    const services = openServices(config);
    return {
      url: api.match[1]!,
      db: services.db,
      target,
      api: api.child,
      worker: worker.child,
      async close() {
        for (const c of children.reverse()) await c.stop();
        services.db.$client.close();
        await target.devServer?.stop();
        fs.rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    for (const c of children) await c.stop();
    await target.devServer?.stop();
    throw err;
  }
}
