/**
 * `npm start`: the whole service in one process: the embedded Temporal dev server (unless
 * TEMPORAL_ADDRESS is set), the worker and the HTTP API. SIGINT/SIGTERM stop all three, the
 * Temporal child last, so nothing is left running.
 */
import { ConfigError, loadConfig } from './config';
import { createLogger } from './logger';
import { openServices, resolveTemporal, startApi, startWorker, type TemporalTarget } from './runtime';

let target: TemporalTarget | undefined;

async function main() {
  const config = loadConfig();
  const log = createLogger(config.logLevel);
  const services = openServices(config);
  target = await resolveTemporal(config, true, log);
  const embedded = target.devServer;
  let stopping = false;
  const worker = await startWorker(config, target, services.db);
  const workerDone = worker.run();
  const api = await startApi(config, target, services, log);

  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    await api.close();
    worker.shutdown();
    await workerDone.catch((err: unknown) => log.error({ err }, 'worker stopped with an error'));
    services.db.$client.close();
    await embedded?.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  workerDone.catch(async (err: unknown) => {
    log.fatal({ err }, 'worker failed');
    await embedded?.stop();
    process.exit(1);
  });

  const where = services.credentials.generatedFile
    ? ` (credentials: ${services.credentials.generatedFile})`
    : '';
  console.log(
    `Firebreak ready: API ${config.publicUrl ?? api.url}  Temporal UI ${target.uiUrl ?? '(not configured)'}  Temporal ${target.address}  Node ${process.version}${where}`,
  );
}

main().catch(async (err: unknown) => {
  if (err instanceof ConfigError) console.error(err.message);
  else console.error('Firebreak failed to start:', err instanceof Error ? err.message : err);
  await target?.devServer?.stop();
  process.exit(1);
});
