/**
 * Where `drill run` plays its drill. With a Firebreak answering FIREBREAK_URL/healthz, the server
 * runs it (POST /v1/drills) and the CLI polls the report. Otherwise it boots the embedded stack in
 * this process (a Temporal dev server on free ports, the worker and the API) in a temporary
 * DATA_DIR, runs the drill through the same driver, and shuts everything down again; the data dir
 * is kept, since the report lives in it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../app/config';
import { freePort } from '../app/free-port';
import { createLogger } from '../app/logger';
import { openServices, resolveTemporal, startApi, startWorker } from '../app/runtime';
import { closeDb } from '../db/client';
import { drillRow } from '../db/drills';
import { driveDrill, openDrill, type DrillOptions, type DrillOutcome } from '../drills/driver';
import type { DrillScenario } from '../drills/schema';
import { slackNotifier } from '../slack/runtime';

export async function reachable(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1500) });
    return res.ok;
  } catch {
    return false;
  }
}

/** Follows the drill incident on the embedded API (url, admin token) until stop(). */
export type FollowDrill = (
  url: string,
  token: string,
  incidentId: string,
  startedAt: number,
) => { stop(): Promise<void> };

export async function runEmbedded(
  scenario: DrillScenario,
  opts: DrillOptions,
  follow?: FollowDrill,
): Promise<DrillOutcome> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-drill-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATA_DIR: dataDir,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  };
  // A throwaway stack signs its decisions with a throwaway key, removed with its data dir.
  env.FIREBREAK_KEY_DIR ??= path.join(dataDir, 'keys');
  env.TEMPORAL_DEV_PORT ??= String(await freePort());
  env.TEMPORAL_DEV_UI_PORT ??= String(await freePort());
  env.PORT = env.PORT && env.PORT !== '3000' ? env.PORT : String(await freePort());
  delete env.TEMPORAL_ADDRESS;
  const config = loadConfig(env);
  const log = createLogger(config.logLevel);
  const target = await resolveTemporal(config, true, log);
  // Ctrl-C, a closed pipe or a crash must not leave the dev server of a temp DATA_DIR running:
  // nothing would ever reap it. kill() is synchronous, so it also works on 'exit'.
  const reap = () => target.devServer?.kill();
  const interrupted = () => process.exit(130);
  process.on('exit', reap);
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  const services = await openServices(config);
  try {
    const worker = await startWorker(config, target, services.db);
    const workerDone = worker.run();
    const api = await startApi(config, target, services, log);
    const env = {
      decisions: api.decisions,
      db: services.db,
      temporal: api.temporal,
      outbox: api.outbox,
      dataDir,
      slack: slackNotifier(config, target.uiUrl),
    };
    const incidentId = await openDrill(env, scenario, opts);
    const startedAt = Date.parse(
      (await drillRow(services.db, incidentId))?.startedAt ?? new Date().toISOString(),
    );
    const progress = follow?.(api.url, services.credentials.adminToken, incidentId, startedAt);
    try {
      return await driveDrill(env, scenario, incidentId, opts);
    } finally {
      await progress?.stop();
      await api.close();
      worker.shutdown();
      await workerDone;
    }
  } finally {
    await closeDb(services.db);
    await target.devServer?.stop();
    process.off('exit', reap);
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
  }
}
