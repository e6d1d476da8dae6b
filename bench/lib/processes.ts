/**
 * Firebreak deployed as in production: `npm run api` and `npm run worker` as their own processes
 * (node with the flags those scripts pass), against an embedded Temporal dev server.
 * The benchmark process itself only generates load and reads the shared SQLite file, so the load
 * generator does not steal the server's event loop.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../../app/config';
import { openServices, resolveTemporal } from '../../app/runtime';
import { closeDb } from '../../db/client';
import { projectRoot } from '../../temporal/cli-binary';
import { runEntry, type Child } from '../../test/helpers/process';
import { benchEnv } from './stack';

/** The node flags an npm script gives its process (`node <flags> --import tsx <entry>`). */
export function scriptNodeArgs(script: string): string[] {
  const pkg = JSON.parse(fs.readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const words = (pkg.scripts[script] ?? '').split(/\s+/);
  const from = words.indexOf('node') + 1;
  const to = words.indexOf('--import');
  return from > 0 && to > from ? words.slice(from, to) : [];
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
    const api = runEntry('app/api.ts', childEnv, { nodeArgs: opts.apiNodeArgs ?? scriptNodeArgs('api') });
    children.push(api);
    const url = (await api.waitFor(/API ready: (http:\/\/\S+)/))[1]!;
    const worker = runEntry('app/worker.ts', childEnv, {
      nodeArgs: opts.workerNodeArgs ?? scriptNodeArgs('worker'),
    });
    children.push(worker);
    await worker.waitFor(/worker ready/);
    const services = await openServices(config);
    return {
      url,
      db: services.db,
      target,
      api,
      worker,
      async close() {
        for (const c of children.reverse()) await c.stop();
        await closeDb(services.db);
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
