/**
 * `npm run worker`: only the Temporal worker, for deployments that scale workers apart from the
 * API. It connects to TEMPORAL_ADDRESS, or to the local dev server that `npm start` embeds.
 */
import { closeDb } from '../db/client';
import { ConfigError, loadConfig } from './config';
import { warnUncoveredContainment } from './connector-check';
import { secureDataDir, usePrivateUmask } from './data-dir';
import { createLogger } from './logger';
import { openServices, resolveTemporal, startWorker } from './runtime';

async function main() {
  usePrivateUmask();
  const config = loadConfig();
  secureDataDir(config.dataDir);
  const log = createLogger(config.logLevel, 'firebreak-worker');
  const services = await openServices(config);
  const target = await resolveTemporal(config, false, log);
  const worker = await startWorker(config, target, services.db);
  await warnUncoveredContainment(config, services.db, log);
  process.on('SIGINT', () => worker.shutdown());
  process.on('SIGTERM', () => worker.shutdown());
  console.log(`Firebreak worker ready: Temporal ${target.address} task queue ${config.temporal.taskQueue}`);
  await worker.run();
  await closeDb(services.db);
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? err.message : `Firebreak worker failed: ${String(err)}`);
  process.exit(1);
});
