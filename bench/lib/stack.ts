/**
 * A production-shaped Firebreak for benchmarks, built with the same composition root as
 * `npm start` (app/runtime.ts): an embedded Temporal dev server in a temp DATA_DIR, the worker and
 * the HTTP API on a free port. Also the tiny helpers every benchmark prints with.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../../app/config';
import { freePort } from '../../app/free-port';
import { openServices, resolveTemporal, startApi, startWorker } from '../../app/runtime';
import { closeDb } from '../../db/client';
import type { PinnedPlaybook } from '../../domain/incident';

export const BENCH_WEBHOOK_SECRET = 'bench-webhook-secret-0123456789';
export const BENCH_ADMIN_TOKEN = 'bench-admin-token-0123456789ab';

/** POSTs one generic-format alert with the bench webhook secret; returns its incident id (202 only). */
export async function postAlert(apiUrl: string, alert: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${apiUrl}/v1/alerts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${BENCH_WEBHOOK_SECRET}`, 'content-type': 'application/json' },
    body: JSON.stringify(alert),
  });
  if (res.status !== 202)
    throw new Error(`alert ${String(alert.dedup_key)}: HTTP ${res.status} ${await res.text()}`);
  return ((await res.json()) as { incident_id: string }).incident_id;
}

/** Alerts become drill incidents: the same orchestration path, actions simulated (no connector I/O). */
const DRILL_CONFIG = `rules:
  - name: bench
    match: { source: default }
    mode: drill
default_rate_limit: { per_second: 1000000, burst: 1000000 }
`;

/** A temp DATA_DIR with the bench config file, and the environment `loadConfig` reads. */
export async function benchEnv(opts: { drill?: boolean; env?: Record<string, string> } = {}) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-bench-'));
  const configFile = path.join(dataDir, 'firebreak.yaml');
  fs.writeFileSync(
    configFile,
    opts.drill ? DRILL_CONFIG : 'default_rate_limit: { per_second: 1000000, burst: 1000000 }\n',
  );
  const env: Record<string, string> = {
    FIREBREAK_CONFIG: configFile,
    ...opts.env,
    DATA_DIR: dataDir,
    FIREBREAK_KEY_DIR: path.join(dataDir, 'keys'),
    PORT: String(await freePort()),
    TEMPORAL_DEV_PORT: String(await freePort()),
    TEMPORAL_DEV_UI_PORT: String(await freePort()),
    FIREBREAK_ADMIN_TOKEN: BENCH_ADMIN_TOKEN,
    FIREBREAK_WEBHOOK_SECRET: BENCH_WEBHOOK_SECRET,
    LOG_LEVEL: 'error',
  };
  return { dataDir, env };
}

/** Everything in this process: the embedded Temporal server's client side, worker and API. */
export async function startBenchStack(
  opts: { drill?: boolean; env?: Record<string, string>; playbooks?: PinnedPlaybook[] } = {},
) {
  const { dataDir, env } = await benchEnv(opts);
  const config = loadConfig(env);
  const log = pino({ level: 'error' });
  const services = await openServices(config);
  const target = await resolveTemporal(config, true, log);
  const worker = await startWorker(config, target, services.db);
  const workerRun = worker.run();
  const api = await startApi(config, target, services, log, { playbooks: opts.playbooks });
  return {
    config,
    api,
    services,
    target,
    worker,
    async close() {
      await api.close();
      worker.shutdown();
      await workerRun;
      await closeDb(services.db);
      await target.devServer?.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** One machine-readable line per figure: `BENCH {"bench":…,"metric":…,"value":…}`. */
export function report(
  bench: string,
  metric: string,
  value: number,
  unit: string,
  extra: Record<string, unknown> = {},
) {
  console.log(`BENCH ${JSON.stringify({ bench, metric, value: Number(value.toFixed(3)), unit, ...extra })}`);
}
