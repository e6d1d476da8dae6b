/**
 * The composition root shared by `npm start`, `npm run worker` and `npm run api`: resolves where
 * Temporal is (embedded dev server or an existing cluster), opens the DB, and builds the worker
 * and the HTTP server from the same parsed config.
 */
import fs from 'node:fs';
import path from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { DefaultLogger, Runtime, type Worker } from '@temporalio/worker';
import type { Logger } from 'pino';
import { createActivities } from '../activities';
import { createApp } from '../api/app';
import { startEnforcementSync } from '../connectors/enforcement-sync';
import {
  buildLiveConnectors,
  enforcementPoints,
  enforcementSyncIntervalMs,
  lazyLiveConnectors,
} from '../connectors/registry';
import { signVerifierToken, statusJwks } from '../connectors/status-document';
import type { AuditVerifier } from '../db/audit-signer';
import { openBlobStore } from '../db/blob-store';
import { openDatabase, type Db } from '../db/client';
import type { DecisionSigner } from '../domain/decision-proof';
import type { PinnedPlaybook } from '../domain/incident';
import { drillStartOptions } from '../drills/store';
import { Outbox } from '../intake/outbox';
import { slackNotifier, slackPeople, startSlack } from '../slack/runtime';
import { bundleInChild } from '../temporal/bundle';
import { findTemporalCli } from '../temporal/cli-binary';
import { connectTemporal, type TemporalHandle } from '../temporal/client';
import { PortInUseError, startDevServer, type DevServer } from '../temporal/dev-server';
import { createWorker } from '../temporal/worker';
import { loadAuditKey } from './audit-key';
import { ConfigError, type Config } from './config';
import { loadCredentials, type Credentials } from './credentials';
import { loadDecisionSigner } from './decision-signer';
import { loadOrCreateSigningKey, type SigningKey } from './keys';

export interface TemporalTarget {
  address: string;
  uiUrl: string | undefined;
  devServer: DevServer | undefined;
}

/** With TEMPORAL_ADDRESS, the cluster; otherwise start (embed) or reuse the local dev server. */
export async function resolveTemporal(config: Config, embed: boolean, log: Logger): Promise<TemporalTarget> {
  const t = config.temporal;
  if (t.address) return { address: t.address, uiUrl: t.uiUrl, devServer: undefined };
  if (!embed) {
    return {
      address: `127.0.0.1:${t.devPort}`,
      uiUrl: t.uiUrl ?? `http://127.0.0.1:${t.devUiPort}`,
      devServer: undefined,
    };
  }
  const cliPath = findTemporalCli(t.cliPath);
  log.info({ cliPath }, 'starting embedded Temporal dev server');
  const devServer = await startDevServer({
    cliPath,
    dataDir: config.dataDir,
    port: t.devPort,
    uiPort: t.devUiPort,
    namespace: t.namespace,
  }).catch((err: unknown) => {
    if (!(err instanceof PortInUseError)) throw err;
    const name = err.role === 'port' ? 'TEMPORAL_DEV_PORT' : 'TEMPORAL_DEV_UI_PORT';
    throw new ConfigError(
      `Cannot start the embedded Temporal server:\n  ${name}: ${err.message} (another Firebreak install or ` +
        `Temporal server?). Set ${name} to a free port, or TEMPORAL_ADDRESS to use that server on purpose.`,
      { cause: err },
    );
  });
  return { address: devServer.address, uiUrl: t.uiUrl ?? devServer.uiUrl, devServer };
}

export interface Services {
  db: Db;
  credentials: Credentials;
  /** Signs kill-switch status documents (FIREBREAK_KEY_DIR, purpose `status`). */
  statusKey: SigningKey;
  /** The audit key's public half (the console shows `audit verify`'s verdict). */
  auditVerifier: AuditVerifier;
}

export async function openServices(config: Config): Promise<Services> {
  const credentials = loadCredentials(config.dataDir, {
    adminToken: config.adminToken,
    webhookSecret: config.webhookSecret,
  });
  const auditKey = loadAuditKey(config.keyDir);
  const statusKey = loadOrCreateSigningKey(config.keyDir, 'status');
  const db = await openDatabase(config, {
    auditSigner: auditKey.signer,
    evidence: openBlobStore(config.evidence),
  });
  return { db, credentials, statusKey, auditVerifier: auditKey.verifier };
}

let runtimeInstalled = false;

/**
 * The SDK's runtime, installed once: we own SIGINT/SIGTERM (the SDK would otherwise stop workers
 * behind our back, racing our ordered shutdown), and its logs follow LOG_LEVEL.
 */
function installRuntime(level: Config['logLevel']): void {
  if (runtimeInstalled) return;
  const sdkLevel =
    level === 'trace' ? 'TRACE' : level === 'debug' ? 'DEBUG' : level === 'info' ? 'WARN' : 'ERROR';
  Runtime.install({ shutdownSignals: [], logger: new DefaultLogger(sdkLevel) });
  runtimeInstalled = true;
}

export async function startWorker(config: Config, target: TemporalTarget, db: Db): Promise<Worker> {
  installRuntime(config.logLevel);
  // The kill switch verifies what runtimes read: documents signed by this key, read back with a
  // verifier token it signs. Live clients are built on the first live action only (never in a drill).
  const statusKey = loadOrCreateSigningKey(config.keyDir, 'status');
  const statusKeys = statusJwks([statusKey]);
  const liveConnectors = lazyLiveConnectors(() =>
    buildLiveConnectors({
      db,
      statusKeys,
      statusToken: () => signVerifierToken(statusKey),
      config: config.connectors,
    }),
  );
  // Gateways asking OPA deny agents it holds no state for: write every agent there, and again
  // periodically (an OPA restart loses pushed data). No-op without OPA configured.
  startEnforcementSync(
    db,
    enforcementPoints(config.connectors, db),
    enforcementSyncIntervalMs(config.connectors),
    (r) => process.emitWarning(`kill-switch sync to ${r.point} failed: ${r.error}`),
  );
  const bundle = await bundleInChild(path.join(config.dataDir, 'workflow-bundle', `${process.pid}.js`));
  const { worker } = await createWorker({
    address: target.address,
    temporal: config.temporal,
    activities: createActivities({ db, slack: slackNotifier(config, target.uiUrl), liveConnectors }),
    workflowBundle: { codePath: bundle },
  });
  fs.rmSync(bundle, { force: true }); // read by Worker.create; the next start builds its own
  return worker;
}

export interface RunningApi {
  url: string;
  server: ServerType;
  outbox: Outbox;
  temporal: TemporalHandle;
  /** The decision signer the API and Slack use (drills run through it too). */
  decisions: DecisionSigner;
  close(): Promise<void>;
}

/**
 * Listens on host:port, or rejects: a bind failure is an 'error' event on the server, which would
 * otherwise be unhandled and end the process before anything started could be stopped.
 */
function listen(fetch: Parameters<typeof serve>[0]['fetch'], host: string, port: number) {
  return new Promise<ServerType>((resolve, reject) => {
    const s = serve({ fetch, hostname: host, port }, () => {
      s.off('error', onError);
      resolve(s);
    });
    const onError = (err: NodeJS.ErrnoException) => {
      const why =
        err.code === 'EADDRINUSE'
          ? `PORT: ${host}:${port} is already in use (another Firebreak or server?). Set PORT to a free port, or stop the process that holds it.`
          : err.code === 'EACCES' || err.code === 'EADDRNOTAVAIL'
            ? `HOST, PORT: cannot listen on ${host}:${port} (${err.code}). Use an address of this machine and a port above 1023.`
            : undefined;
      reject(why ? new ConfigError(`Cannot start the HTTP API:\n  ${why}`, { cause: err }) : err);
    };
    s.once('error', onError);
  });
}

/** `playbooks`: the set intake selects from (default: the built-in playbooks; benchmarks add variants). */
export async function startApi(
  config: Config,
  target: TemporalTarget,
  services: Services,
  log: Logger,
  opts: { playbooks?: PinnedPlaybook[] } = {},
): Promise<RunningApi> {
  const temporal = await connectTemporal(config.temporal, target.address);
  const decisions = loadDecisionSigner(config.keyDir);
  const people = slackPeople(config);
  const outbox = new Outbox({
    db: services.db,
    temporal,
    log,
    drillStartOptions,
    ...(opts.playbooks ? { playbooks: opts.playbooks } : {}),
    decisionStart: {
      decisionKey: decisions.publicKeyHex,
      deciderRoles: config.file.decisionRoles,
      release: config.file.release,
    },
  });
  const slack = await startSlack(config, { db: services.db, temporal, outbox, log, decisions, people });
  const app = createApp({
    db: services.db,
    temporal,
    credentials: services.credentials,
    outbox,
    log,
    fileConfig: config.file,
    slack: slack?.http,
    slackNotifier: slackNotifier(config, target.uiUrl),
    metricsAuth: config.metricsAuth,
    statusKey: services.statusKey,
    decisions,
    people,
    console: config.console,
    auditVerifier: services.auditVerifier,
  });
  const server = await listen(app.fetch, config.host, config.port).catch(async (err: unknown) => {
    // Nothing listens, so nothing will close these: release them before reporting.
    await slack?.stop();
    await outbox.stop();
    await temporal.connection.close();
    throw err;
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  outbox.kick(); // alerts stored before a crash reach their incidents now
  return {
    url: `http://${config.host}:${port}`,
    server,
    outbox,
    temporal,
    decisions,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Keep-alive connections would hold close() open until their clients leave.
      if ('closeIdleConnections' in server) server.closeIdleConnections();
      await closed;
      await slack?.stop();
      await outbox.stop();
      await temporal.connection.close();
    },
  };
}
