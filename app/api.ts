/**
 * `npm run api`: only the HTTP API and the intake outbox, for deployments that scale the API apart
 * from the workers. It connects to TEMPORAL_ADDRESS, or to the local dev server `npm start` embeds.
 */
import { closeDb } from '../db/client';
import { ConfigError, loadConfig } from './config';
import { secureDataDir, usePrivateUmask } from './data-dir';
import { createLogger } from './logger';
import { openServices, resolveTemporal, startApi } from './runtime';

async function main() {
  usePrivateUmask();
  const config = loadConfig();
  secureDataDir(config.dataDir);
  const log = createLogger(config.logLevel, 'firebreak-api');
  const services = await openServices(config);
  const target = await resolveTemporal(config, false, log);
  const api = await startApi(config, target, services, log);
  const stop = async () => {
    await api.close();
    await closeDb(services.db);
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  console.log(`Firebreak API ready: ${config.publicUrl ?? api.url}  Temporal ${target.address}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? err.message : `Firebreak API failed: ${String(err)}`);
  process.exit(1);
});
