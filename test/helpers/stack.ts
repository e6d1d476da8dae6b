/**
 * A whole Firebreak stack for one test file, on real dependencies: a SQLite file in a temp dir,
 * a worker on the shared Temporal dev server (its own task queue, so files never see each other's
 * workflows), the Hono app, and a real listening HTTP server on loopback.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { DefaultLogger, Runtime, type Worker } from '@temporalio/worker';
import { pino } from 'pino';
import { inject } from 'vitest';
import { createActivities, type ActivityDeps } from '../../activities';
import { createApp, type App } from '../../api/app';
import type { IntakeMetrics } from '../../api/intake-metrics';
import { loadAuditKey } from '../../app/audit-key';
import { loadConfig, type Config } from '../../app/config';
import { DEFAULT_DECISION_ROLES } from '../../app/config-file';
import type { FileConfig } from '../../app/config-file';
import type { Credentials } from '../../app/credentials';
import { loadOrCreateSigningKey, type SigningKey } from '../../app/keys';
import type { AuditVerifier } from '../../db/audit-signer';
import { openBlobStore } from '../../db/blob-store';
import { closeDb, openDatabase, type Db } from '../../db/client';
import type { DecisionSigner } from '../../domain/decision-proof';
import type { PinnedPlaybook } from '../../domain/incident';
import type { PeopleDirectory } from '../../domain/people';
import { drillStartOptions } from '../../drills/store';
import { Outbox } from '../../intake/outbox';
import type { SlackSurface } from '../../slack/app';
import { slackNotifier, slackPeople, startSlack } from '../../slack/runtime';
import { connectTemporal, type TemporalHandle } from '../../temporal/client';
import { createWorker } from '../../temporal/worker';
import { testDecisions, testDecisionStart } from './decisions';
import { createTestDatabase } from './postgres';

export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';
export const TEST_WEBHOOK_SECRET = 'test-webhook-secret-0123456789abcdef';

export interface TestStack {
  url: string;
  app: App;
  db: Db;
  dataDir: string;
  config: Config;
  credentials: Credentials;
  /** The public half of the stack's audit key (its key dir is beside the data dir). */
  auditKey: AuditVerifier;
  /** The kill switch's status key (in a key dir inside the test's data dir). */
  statusKey: SigningKey;
  temporal: TemporalHandle;
  outbox: Outbox;
  worker: Worker;
  slackApp: SlackSurface | undefined;
  /** The decision signer of the API, Slack and drills (its key is pinned into every incident). */
  decisions: DecisionSigner;
  people: PeopleDirectory;
  /** Shuts the worker down (as a crash would leave it: no more tasks polled) and waits for it. */
  stopWorker(): Promise<void>;
  /** Starts a fresh worker (new process state, empty workflow cache) on the same task queue. */
  startWorker(): Promise<void>;
  close(): Promise<void>;
}

let runtimeInstalled = false;
/** Worker logs at WARN: test output shows failures, not every state change. */
export function quietTemporalRuntime(): void {
  if (runtimeInstalled) return;
  Runtime.install({ logger: new DefaultLogger('WARN') });
  runtimeInstalled = true;
}

/** With FIREBREAK_TEST_DATABASE=postgres: the run's cluster (global setup); else undefined. */
export function runPostgresAdminUrl(): string | undefined {
  if (process.env.FIREBREAK_TEST_DATABASE !== 'postgres') return undefined;
  const url = inject('postgresAdminUrl');
  if (!url) throw new Error('FIREBREAK_TEST_DATABASE=postgres but the global setup started no PostgreSQL');
  return url;
}

export interface TestStackOptions {
  withWorker?: boolean;
  /** Extra environment for loadConfig (e.g. SLACK_* pointing at the fake Slack). */
  env?: Record<string, string>;
  /** Reuse a data dir (e.g. one a killed API process wrote); default: a fresh temp dir. */
  dataDir?: string;
  /** Sources, routing rules and users, as the config file would give them. */
  fileConfig?: FileConfig;
  metrics?: IntakeMetrics;
  now?: () => Date;
  /** The worker's live connector factory (activities build it only for live incidents). */
  liveConnectors?: ActivityDeps['liveConnectors'];
  /** A Temporal server of the test's own (e.g. one it restarts); default: the shared dev server. */
  temporalAddress?: string;
  /**
   * Run on a fresh database of this PostgreSQL cluster (its admin URL). Default: the run's cluster
   * with FIREBREAK_TEST_DATABASE=postgres, else SQLite in the data dir.
   */
  postgresAdminUrl?: string;
  /** The playbooks the outbox chooses from; default: the built-in ones. */
  playbooks?: PinnedPlaybook[];
}

export async function startTestStack(opts: TestStackOptions = {}): Promise<TestStack> {
  quietTemporalRuntime();
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-test-'));
  const taskQueue = `test-${path.basename(dataDir)}`;
  const config = loadConfig({
    DATA_DIR: dataDir,
    TEMPORAL_ADDRESS: opts.temporalAddress ?? inject('temporalAddress'),
    TEMPORAL_TASK_QUEUE: taskQueue,
    FIREBREAK_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    FIREBREAK_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
    FIREBREAK_KEY_DIR: `${dataDir}-keys`,
    LOG_LEVEL: 'silent',
    ...opts.env,
  });
  const statusKey = loadOrCreateSigningKey(config.keyDir, 'status');
  const credentials: Credentials = {
    adminToken: TEST_ADMIN_TOKEN,
    webhookSecret: TEST_WEBHOOK_SECRET,
    generatedFile: undefined,
  };
  const log = pino({ level: process.env.TEST_LOG ?? 'silent' });
  const auditKey = loadAuditKey(config.keyDir);
  const pgAdmin = opts.postgresAdminUrl ?? runPostgresAdminUrl();
  const pgDb = pgAdmin ? await createTestDatabase(pgAdmin) : undefined;
  const db = await openDatabase(
    { databaseUrl: pgDb?.url, dataDir: config.dataDir },
    { auditSigner: auditKey.signer, evidence: openBlobStore(config.evidence) },
  );
  const temporal = await connectTemporal(config.temporal, config.temporal.address!);
  const { worker } = await createWorker({
    address: config.temporal.address!,
    temporal: config.temporal,
    activities: createActivities({
      db,
      slack: slackNotifier(config, config.temporal.uiUrl),
      liveConnectors: opts.liveConnectors,
    }),
    workflowBundle: { codePath: inject('workflowBundlePath') },
  });
  let current: { worker: Worker; run: Promise<void> | undefined } = {
    worker,
    run: opts.withWorker === false ? undefined : worker.run(),
  };
  const extraConnections: { close(): Promise<void> }[] = [];
  const outbox = new Outbox({
    db,
    temporal,
    log,
    drillStartOptions,
    retryDelayMs: 100,
    ...(opts.playbooks ? { playbooks: opts.playbooks } : {}),
    decisionStart: {
      ...testDecisionStart,
      deciderRoles: opts.fileConfig?.decisionRoles ?? [...DEFAULT_DECISION_ROLES],
      ...(opts.fileConfig ? { release: opts.fileConfig.release } : {}),
    },
  });
  const people = slackPeople(config, opts.fileConfig?.users ?? config.file.users);
  const slack = await startSlack(config, { db, temporal, outbox, log, decisions: testDecisions, people });
  const app = createApp({
    db,
    temporal,
    credentials,
    outbox,
    log,
    fileConfig: opts.fileConfig,
    metrics: opts.metrics,
    now: opts.now,
    slack: slack?.http,
    statusKey,
    decisions: testDecisions,
    people,
    console: config.console,
    auditVerifier: auditKey.verifier,
  });
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
  });
  const addr = server.address();
  const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  outbox.kick(); // as startApi does: alerts a previous process stored reach their incidents now
  const stack: TestStack = {
    url,
    app,
    db,
    dataDir,
    config,
    credentials,
    auditKey: auditKey.verifier,
    statusKey,
    temporal,
    outbox,
    worker,
    slackApp: slack,
    decisions: testDecisions,
    people,
    async stopWorker() {
      if (!current.run) return;
      current.worker.shutdown();
      await current.run;
      current.run = undefined;
    },
    async startWorker() {
      const next = await createWorker({
        address: config.temporal.address!,
        temporal: config.temporal,
        activities: createActivities({
          db,
          slack: slackNotifier(config, config.temporal.uiUrl),
          liveConnectors: opts.liveConnectors,
        }),
        workflowBundle: { codePath: inject('workflowBundlePath') },
      });
      extraConnections.push(next.connection);
      current = { worker: next.worker, run: next.worker.run() };
      stack.worker = next.worker;
    },
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await slack?.stop();
      await outbox.stop();
      await stack.stopWorker();
      for (const c of extraConnections) await c.close();
      await temporal.connection.close();
      await closeDb(db);
      await pgDb?.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
      fs.rmSync(config.keyDir, { recursive: true, force: true });
    },
  };
  return stack;
}

/** Polls `fn` until it returns a truthy value (bounded), for effects that land asynchronously. */
export async function eventually<T>(
  fn: () => T | Promise<T>,
  timeoutMs = 15_000,
  what = 'condition',
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
}
