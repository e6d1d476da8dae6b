/**
 * Configuration: the one place that reads the environment. It is parsed with zod once at start,
 * and a bad value stops start-up with the variable's name; everything else receives the parsed
 * `Config` by injection. The optional YAML config file (FIREBREAK_CONFIG) carries what does not fit
 * in variables: alert sources and routing rules.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { TLSConfig } from '@temporalio/client';
import { z } from 'zod';
import { ConnectorEnv, resolveConnectorConfig, type ConnectorConfig } from '../connectors/config';
import type { EvidenceStorage } from '../db/blob-store';
import { EMPTY_FILE_CONFIG, loadFileConfig, type FileConfig } from './config-file';
import { ConsoleEnv, parseConsoleConfig, type ConsoleConfig } from './console-config';
import { defaultKeyDir } from './keys';

export type { ConsoleConfig, OidcConfig } from './console-config';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const port = z.coerce.number().int().min(0).max(65535);

const EnvSchema = z.object({
  DATA_DIR: z.string().min(1).default('./data'),
  /** `postgres://…`: PostgreSQL instead of SQLite in DATA_DIR (db/client.ts). */
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: port.default(3000),
  PUBLIC_URL: z.url().optional(),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  FIREBREAK_CONFIG: z.string().min(1).optional(),
  /** Signing keys (app/keys.ts); default outside DATA_DIR, under the user's config directory. */
  FIREBREAK_KEY_DIR: z.string().min(1).optional(),
  FIREBREAK_ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  FIREBREAK_WEBHOOK_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  /** `read`: /metrics needs a read-scope token; `none`: open, an explicit choice (private network). */
  FIREBREAK_METRICS_AUTH: z.enum(['none', 'read']).default('read'),
  TEMPORAL_ADDRESS: z.string().min(1).optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).optional(),
  TEMPORAL_API_KEY: z.string().min(1).optional(),
  TEMPORAL_TLS: bool.optional(),
  TEMPORAL_TLS_CERT_PATH: z.string().min(1).optional(),
  TEMPORAL_TLS_KEY_PATH: z.string().min(1).optional(),
  TEMPORAL_TLS_CA_PATH: z.string().min(1).optional(),
  TEMPORAL_TLS_SERVER_NAME: z.string().min(1).optional(),
  TEMPORAL_UI_URL: z.url().optional(),
  TEMPORAL_CLI: z.string().min(1).optional(),
  TEMPORAL_DEV_PORT: port.default(7233),
  TEMPORAL_DEV_UI_PORT: port.default(8233),
  /** Incident workflows a worker keeps in memory; others replay from history when they next run. */
  FIREBREAK_WORKER_CACHED_WORKFLOWS: z.coerce.number().int().min(2).max(100_000).default(250),
  /** Worker Deployment Versioning (README, "Upgrading a running deployment"). */
  FIREBREAK_DEPLOYMENT_NAME: z
    .string()
    .regex(/^[^.:]+$/, 'must not contain "." or ":" (Temporal joins name and build id with them)')
    .optional(),
  FIREBREAK_BUILD_ID: z
    .string()
    .max(255)
    .regex(/^[^:]+$/, 'must not contain ":"')
    .optional(),
  FIREBREAK_SET_CURRENT_VERSION: bool.default(true),
  SLACK_BOT_TOKEN: z.string().startsWith('xoxb-', 'must be a bot token (xoxb-…)').optional(),
  SLACK_SIGNING_SECRET: z.string().min(8).optional(),
  SLACK_APP_TOKEN: z.string().startsWith('xapp-', 'must be an app-level token (xapp-…)').optional(),
  SLACK_API_URL: z.url().optional(),
  SLACK_ANNOUNCE_CHANNEL: z.string().min(1).optional(),
  SLACK_TIMELINE_EMOJI: z
    .string()
    .regex(/^:?[a-z0-9_+'-]+:?$/, 'must be an emoji name such as pushpin')
    .transform((v) => v.replace(/:/g, ''))
    .default('pushpin'),
  SLACK_RESPONDERS: z.string().optional(),
  SLACK_USER_ROLES: z.string().optional(),
  SLACK_PRIVATE_CHANNELS: bool.default(true),
  /** Evidence storage: unset = DATA_DIR/evidence; `s3://bucket/prefix` = an S3-compatible bucket. */
  FIREBREAK_EVIDENCE_URL: z
    .string()
    .regex(
      /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/[^\s]*)?$/,
      'must be s3://<bucket>/<prefix> (a bucket name: lowercase letters, digits, dots, hyphens)',
    )
    .optional(),
  FIREBREAK_EVIDENCE_S3_ENDPOINT: z.url().optional(),
  FIREBREAK_EVIDENCE_S3_REGION: z.string().min(1).optional(),
  FIREBREAK_EVIDENCE_S3_PATH_STYLE: bool.optional(),
  ...ConsoleEnv,
  ...ConnectorEnv,
});

export type Env = z.infer<typeof EnvSchema>;

export interface TemporalConfig {
  /** undefined: start an embedded dev server under DATA_DIR. */
  address: string | undefined;
  namespace: string;
  /** Default `firebreak-<hash of DATA_DIR>`: this install's own (see defaultTaskQueue). */
  taskQueue: string;
  apiKey: string | undefined;
  /** The SDK's TLS options, certificates already read; the client and the worker pass them as is. */
  tls: TLSConfig | undefined;
  uiUrl: string | undefined;
  cliPath: string | undefined;
  devPort: number;
  devUiPort: number;
  maxCachedWorkflows: number;
  deployment: DeploymentConfig;
}

/** Which Worker Deployment Version this worker is, and whether it routes new incidents to itself. */
export interface DeploymentConfig {
  /** undefined: the task queue's name (temporal/deployment.ts), so each install has its own. */
  name: string | undefined;
  /** undefined: `<package version>+<hash of the workflow bundle>` (temporal/deployment.ts). */
  buildId: string | undefined;
  /** Make this build the Current Version at start, unless it was current before and replaced. */
  setCurrentOnStart: boolean;
  /** Move open incidents pinned to other builds onto this one: on the embedded server only. */
  adoptOpenIncidents: boolean;
}

/** Roles and groups a Slack user acts with (approval decisions are checked against them). */
export interface SlackIdentity {
  roles: string[];
  groups: string[];
}

export interface SlackConfig {
  botToken: string;
  /** Required for the HTTP transport; Socket Mode (appToken) does not sign requests. */
  signingSecret: string | undefined;
  appToken: string | undefined;
  /** Web API base URL ending in `/`, e.g. `https://slack.com/api/`. */
  apiUrl: string;
  announceChannel: string | undefined;
  timelineEmoji: string;
  /** Slack user ids invited to every incident channel. */
  responders: string[];
  identities: Record<string, SlackIdentity>;
  /** Incident channels are created private (the default): only invited responders see them. */
  privateChannels: boolean;
}

const SlackUserRoles = z.record(
  z.string().regex(/^[UW][A-Z0-9]+$/, 'keys must be Slack user ids'),
  z.object({ roles: z.array(z.string()).default([]), groups: z.array(z.string()).default([]) }),
);

function parseSlack(e: Env): SlackConfig | undefined {
  const problems: string[] = [];
  if (!e.SLACK_BOT_TOKEN) {
    const stray = (['SLACK_SIGNING_SECRET', 'SLACK_APP_TOKEN'] as const).filter((k) => e[k]);
    if (stray.length > 0) problems.push(`SLACK_BOT_TOKEN: required when ${stray.join(', ')} is set`);
    if (problems.length > 0) throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
    return undefined;
  }
  if (!e.SLACK_APP_TOKEN && !e.SLACK_SIGNING_SECRET) {
    problems.push(
      'SLACK_SIGNING_SECRET: required for /slack/events unless SLACK_APP_TOKEN (Socket Mode) is set',
    );
  }
  const responders = (e.SLACK_RESPONDERS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const badResponder = responders.find((r) => !/^[UW][A-Z0-9]+$/.test(r));
  if (badResponder) problems.push(`SLACK_RESPONDERS: ${badResponder} is not a Slack user id (U…)`);
  let identities: Record<string, SlackIdentity> = {};
  if (e.SLACK_USER_ROLES) {
    let json: unknown;
    try {
      json = JSON.parse(e.SLACK_USER_ROLES);
    } catch {
      problems.push(
        'SLACK_USER_ROLES: must be JSON like {"U123":{"roles":["approver"],"groups":["secops"]}}',
      );
    }
    const parsed = SlackUserRoles.safeParse(json);
    if (json !== undefined && !parsed.success) {
      problems.push(`SLACK_USER_ROLES: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    }
    if (parsed.success) identities = parsed.data;
  }
  if (problems.length > 0) throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  const apiUrl = e.SLACK_API_URL ?? 'https://slack.com/api/';
  return {
    botToken: e.SLACK_BOT_TOKEN,
    signingSecret: e.SLACK_SIGNING_SECRET,
    appToken: e.SLACK_APP_TOKEN,
    apiUrl: apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/`,
    announceChannel: e.SLACK_ANNOUNCE_CHANNEL,
    timelineEmoji: e.SLACK_TIMELINE_EMOJI,
    responders,
    identities,
    privateChannels: e.SLACK_PRIVATE_CHANNELS,
  };
}

export interface Config {
  dataDir: string;
  /** PostgreSQL's URL (DATABASE_URL); undefined: SQLite in DATA_DIR. */
  databaseUrl: string | undefined;
  /** Where the Ed25519 signing keys live (app/keys.ts): never inside DATA_DIR by default. */
  keyDir: string;
  host: string;
  port: number;
  publicUrl: string | undefined;
  metricsAuth: 'none' | 'read';
  logLevel: Env['LOG_LEVEL'];
  configFile: string | undefined;
  /** The parsed config file, or empty sections when FIREBREAK_CONFIG is not set. */
  file: FileConfig;
  adminToken: string | undefined;
  webhookSecret: string | undefined;
  temporal: TemporalConfig;
  /** undefined: Slack is not configured (no Bolt app; /slack/events answers 404). */
  slack: SlackConfig | undefined;
  /** Live connector settings, validated here so that every entry point refuses bad ones. */
  connectors: ConnectorConfig;
  /** Where evidence artifacts are kept: DATA_DIR/evidence, or an S3-compatible bucket. */
  evidence: EvidenceStorage;
  /** The web console: OpenID Connect sign-in, sessions and the MFA step-up rule. */
  console: ConsoleConfig;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * The task queue of this install when TEMPORAL_TASK_QUEUE is not set: named after the absolute
 * DATA_DIR, so two installs on one machine (or on one shared cluster namespace) never poll each
 * other's queue, while `npm run worker` and `npm run api` over the same DATA_DIR agree on it.
 */
export function defaultTaskQueue(dataDir: string): string {
  return `firebreak-${crypto.createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 12)}`;
}

/** The one TLS-options builder: reads the certificate files once, naming the variable on failure. */
function temporalTls(e: Env): TLSConfig {
  const read = (name: keyof Env & `TEMPORAL_TLS_${string}_PATH`): Buffer | undefined => {
    const file = e[name];
    if (file === undefined) return undefined;
    try {
      return fs.readFileSync(String(file));
    } catch (err) {
      throw new ConfigError(
        `Invalid configuration:\n  ${name}: cannot read ${String(file)}: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
  };
  const crt = read('TEMPORAL_TLS_CERT_PATH');
  const key = read('TEMPORAL_TLS_KEY_PATH');
  return {
    serverNameOverride: e.TEMPORAL_TLS_SERVER_NAME,
    serverRootCACertificate: read('TEMPORAL_TLS_CA_PATH'),
    clientCertPair: crt && key ? { crt, key } : undefined,
  };
}

function evidenceStorage(e: Env, dataDir: string, env: NodeJS.ProcessEnv): EvidenceStorage {
  const s3Only = (
    [
      'FIREBREAK_EVIDENCE_S3_ENDPOINT',
      'FIREBREAK_EVIDENCE_S3_REGION',
      'FIREBREAK_EVIDENCE_S3_PATH_STYLE',
    ] as const
  ).filter((k) => e[k] !== undefined);
  if (!e.FIREBREAK_EVIDENCE_URL) {
    if (s3Only.length > 0) {
      throw new ConfigError(
        `Invalid configuration:\n  FIREBREAK_EVIDENCE_URL: required (s3://bucket/prefix) when ${s3Only.join(', ')} is set`,
      );
    }
    return { kind: 'local', dir: path.join(dataDir, 'evidence') };
  }
  const url = new URL(e.FIREBREAK_EVIDENCE_URL);
  const prefix = decodeURIComponent(url.pathname.replace(/^\/+/, ''));
  return {
    kind: 's3',
    bucket: url.hostname,
    prefix: prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`,
    region: e.FIREBREAK_EVIDENCE_S3_REGION ?? env.AWS_REGION ?? 'us-east-1',
    endpoint: e.FIREBREAK_EVIDENCE_S3_ENDPOINT,
    // S3-compatible stores (MinIO, Ceph, moto) mostly need the bucket in the path.
    forcePathStyle: e.FIREBREAK_EVIDENCE_S3_PATH_STYLE ?? e.FIREBREAK_EVIDENCE_S3_ENDPOINT !== undefined,
  };
}

function consoleConfig(e: Env): ConsoleConfig {
  try {
    return parseConsoleConfig(e);
  } catch (err) {
    throw new ConfigError((err as Error).message, { cause: err });
  }
}

/** Parses `env` (default: process.env). Throws ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const input = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const e = parsed.data;
  const wantsTls =
    e.TEMPORAL_TLS ?? Boolean(e.TEMPORAL_TLS_CERT_PATH || e.TEMPORAL_TLS_CA_PATH || e.TEMPORAL_API_KEY);
  if (!e.TEMPORAL_ADDRESS && (e.TEMPORAL_API_KEY || e.TEMPORAL_TLS_CERT_PATH)) {
    throw new ConfigError(
      'Invalid configuration:\n  TEMPORAL_ADDRESS: required when TLS or an API key is set',
    );
  }
  if (Boolean(e.TEMPORAL_TLS_CERT_PATH) !== Boolean(e.TEMPORAL_TLS_KEY_PATH)) {
    throw new ConfigError(
      'Invalid configuration:\n  TEMPORAL_TLS_KEY_PATH: TEMPORAL_TLS_CERT_PATH and TEMPORAL_TLS_KEY_PATH go together',
    );
  }
  let file = EMPTY_FILE_CONFIG;
  if (e.FIREBREAK_CONFIG) {
    try {
      file = loadFileConfig(e.FIREBREAK_CONFIG, env);
    } catch (err) {
      throw new ConfigError(`Invalid configuration:\n  ${(err as Error).message}`, { cause: err });
    }
  }
  const dataDir = path.resolve(e.DATA_DIR);
  return {
    dataDir,
    databaseUrl: e.DATABASE_URL,
    keyDir: path.resolve(e.FIREBREAK_KEY_DIR ?? defaultKeyDir(dataDir, env)),
    host: e.HOST,
    port: e.PORT,
    publicUrl: e.PUBLIC_URL,
    metricsAuth: e.FIREBREAK_METRICS_AUTH,
    logLevel: e.LOG_LEVEL,
    configFile: e.FIREBREAK_CONFIG,
    file,
    adminToken: e.FIREBREAK_ADMIN_TOKEN,
    webhookSecret: e.FIREBREAK_WEBHOOK_SECRET,
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE ?? defaultTaskQueue(dataDir),
      apiKey: e.TEMPORAL_API_KEY,
      tls: e.TEMPORAL_ADDRESS && wantsTls ? temporalTls(e) : undefined,
      uiUrl: e.TEMPORAL_UI_URL,
      cliPath: e.TEMPORAL_CLI,
      devPort: e.TEMPORAL_DEV_PORT,
      devUiPort: e.TEMPORAL_DEV_UI_PORT,
      maxCachedWorkflows: e.FIREBREAK_WORKER_CACHED_WORKFLOWS,
      deployment: {
        name: e.FIREBREAK_DEPLOYMENT_NAME,
        buildId: e.FIREBREAK_BUILD_ID,
        setCurrentOnStart: e.FIREBREAK_SET_CURRENT_VERSION,
        adoptOpenIncidents: !e.TEMPORAL_ADDRESS,
      },
    },
    slack: parseSlack(e),
    console: consoleConfig(e),
    connectors: {
      ...resolveConnectorConfig(e, file.connectors, e.PUBLIC_URL ?? `http://${e.HOST}:${e.PORT}`),
      ...(file.opaDecisionLogs.senders.length
        ? {
            opaDecisionLogs: {
              senders: file.opaDecisionLogs.senders.map((s) => s.name),
              waitForUploadMs: file.opaDecisionLogs.waitForUploadMs,
            },
          }
        : {}),
    },
    evidence: evidenceStorage(e, dataDir, env),
  };
}
