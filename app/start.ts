/**
 * `npm start`: the whole service in one process: the embedded Temporal dev server (unless
 * TEMPORAL_ADDRESS is set), the worker and the HTTP API. SIGINT/SIGTERM stop all three, the
 * Temporal child last, within STOP_WITHIN_MS: what still hangs then is cut off, so nothing is left
 * running. If the embedded server or the worker dies, the process stops too, with exit code 1.
 */
import type { Worker } from '@temporalio/worker';
import { closeDb } from '../db/client';
import { ConfigError, loadConfig } from './config';
import { warnUncoveredContainment } from './connector-check';
import { secureDataDir, usePrivateUmask } from './data-dir';
import { createLogger } from './logger';
import {
  openServices,
  resolveTemporal,
  startApi,
  startWorker,
  type RunningApi,
  type Services,
  type TemporalTarget,
} from './runtime';

const STOP_WITHIN_MS = 15_000;

/** What has been started so far; a signal during start-up stops just that. */
const running: {
  target?: TemporalTarget;
  services?: Services;
  worker?: { worker: Worker; done: Promise<void> };
  api?: RunningApi;
} = {};
let stopping = false;
let log = createLogger('info');

async function stop(reason: string, code: number): Promise<never> {
  if (stopping) return new Promise<never>(() => undefined);
  stopping = true;
  log.info({ reason }, 'shutting down');
  const force = setTimeout(() => {
    console.error(`Firebreak did not stop within ${STOP_WITHIN_MS / 1000} s (${reason}): forcing it`);
    running.target?.devServer?.kill();
    process.exit(1);
  }, STOP_WITHIN_MS);
  const step = async (what: string, fn: () => Promise<unknown> | undefined) => {
    try {
      await fn();
    } catch (err) {
      log.error({ err }, `stopping: ${what} failed`);
    }
  };
  await step('API', () => running.api?.close());
  await step('worker', async () => {
    const w = running.worker;
    if (!w) return;
    if (w.worker.getState() === 'RUNNING') w.worker.shutdown();
    await w.done;
  });
  if (running.services) await closeDb(running.services.db);
  // Within the budget left: SIGTERM first, SIGKILL if the server is slow to go.
  await step('Temporal dev server', () => running.target?.devServer?.stop(3000));
  clearTimeout(force);
  process.exit(code);
}

async function main() {
  usePrivateUmask();
  process.on('SIGINT', () => void stop('SIGINT', 0));
  process.on('SIGTERM', () => void stop('SIGTERM', 0));
  const config = loadConfig();
  log = createLogger(config.logLevel);
  secureDataDir(config.dataDir);
  running.services = await openServices(config);
  const target = await resolveTemporal(config, true, log);
  running.target = target;
  void target.devServer?.exited.then((how) => {
    if (stopping) return;
    console.error(
      `The embedded Temporal server exited (${how}); see ${config.dataDir}/temporal.log. Stopping Firebreak.`,
    );
    void stop('Temporal dev server exited', 1);
  });
  if (stopping) return;
  const worker = await startWorker(config, target, running.services.db);
  await warnUncoveredContainment(config, running.services.db, log);
  running.worker = { worker, done: worker.run() };
  running.worker.done.catch((err: unknown) => {
    if (stopping) return;
    log.fatal({ err }, 'worker failed');
    void stop('worker failed', 1);
  });
  if (stopping) return;
  const api = await startApi(config, target, running.services, log);
  running.api = api;

  const where = running.services.credentials.generatedFile
    ? ` (credentials: ${running.services.credentials.generatedFile})`
    : '';
  console.log(
    `Firebreak ready: API ${config.publicUrl ?? api.url}  Temporal UI ${target.uiUrl ?? '(not configured)'}  Temporal ${target.address}  Node ${process.version}${where}`,
  );
}

main().catch(async (err: unknown) => {
  if (err instanceof ConfigError) console.error(err.message);
  else console.error('Firebreak failed to start:', err instanceof Error ? err.message : err);
  await stop('start-up failed', 1);
});
