/**
 * Builds the live connectors from configuration: the kill switch (with OPA and the MCP gateway
 * as enforcement points when configured), credentials (AWS IAM,
 * PostgreSQL, HTTP systems), access restriction, evidence collection and notify. Called only
 * through the lazy `liveConnectors()` of executeAction, so drill incidents never construct a live
 * client; clients themselves connect per call.
 */
import type { JSONWebKeySet } from 'jose';
import type { Db } from '../db/client';
import { incidentExists } from '../db/incidents';
import { appendTimelineEvent } from '../db/timeline';
import { accessConnector, type AccessProviders } from './access';
import { awsIamConnector, type AwsIamOptions } from './aws-iam';
import type { ConnectorConfig } from './config';
import { credentialsConnector, type CredentialProviders } from './credentials';
import type { EnforcementPoint } from './enforcement-point';
import { evidenceCollectHandler, type EvidenceSources } from './evidence';
import { killSwitchConnector } from './kill-switch';
import { mcpGatewayEnforcementPoint } from './mcp-gateway';
import { OpaConfig, opaEnforcementPoint } from './opa';
import { opaDecisionLog } from './opa-decision-log';
import { phoenixTraceStore } from './phoenix';
import { postgresConnector } from './postgres';
import { httpSystem } from './signed-http';
import { ConnectorError, handler, type CredentialProvider, type LiveConnectors } from './types';

export interface LiveConnectorDeps {
  db: Db;
  /** The status endpoint's public keys: verification accepts documents signed by these only. */
  statusKeys: JSONWebKeySet;
  /** A fresh bearer token for reading the status endpoint back (signVerifierToken, by app/). */
  statusToken: () => Promise<string>;
  config: ConnectorConfig;
  /** Overrides for AWS (explicit credentials, secret handoff for rotation). */
  aws?: Omit<AwsIamOptions, 'endpoint' | 'region'>;
  now?: () => Date;
}

export function buildLiveConnectors(deps: LiveConnectorDeps): LiveConnectors {
  const { db, config } = deps;
  const access: AccessProviders = {};
  const creds: CredentialProviders = {};
  const sources: EvidenceSources = {};

  if (config.pgAdminUrl) {
    const pg = postgresConnector({ adminUrl: config.pgAdminUrl });
    access.postgres = pg.access;
    creds.postgres = pg.credentials;
    sources.postgres = pg.evidence;
  }
  if (config.aws) {
    const aws = awsIamConnector({ ...deps.aws, endpoint: config.aws.endpoint, region: config.aws.region });
    creds.aws_iam = aws;
    sources.aws = aws;
  }
  if (config.traceStore) sources.traceStore = phoenixTraceStore(config.traceStore);
  if (config.opaDecisionLogs)
    sources.gateway = opaDecisionLog(db, config.opaDecisionLogs.senders, {
      waitForUploadMs: config.opaDecisionLogs.waitForUploadMs,
    });
  const systems = config.httpSystems.map(httpSystem);
  for (const s of systems) access[`http:${s.name}`] = s.access;
  if (systems.length)
    creds.http = httpCredentials(Object.fromEntries(systems.map((s) => [s.name, s.credentials])));

  return {
    ...killSwitchConnector({
      db,
      keys: deps.statusKeys,
      statusToken: deps.statusToken,
      statusBaseUrl: config.statusBaseUrl,
      now: deps.now,
      enforcement: enforcementPoints(config, db),
    }),
    ...credentialsConnector(db, creds),
    ...accessConnector(access, db),
    'evidence.collect': evidenceCollectHandler({ db, sources, now: deps.now }),
    notify: notifyHandler(db, deps.now),
  };
}

/** The configured enforcement points of the kill switch (OPA), beside Firebreak's own status. */
export function enforcementPoints(config: ConnectorConfig, db: Db): EnforcementPoint[] {
  return [
    ...(config.opa ? [opaEnforcementPoint(config.opa)] : []),
    ...(config.mcpGateway ? [mcpGatewayEnforcementPoint(db, config.mcpGateway)] : []),
  ];
}

/** How often the worker re-syncs the enforcement points (the shortest configured interval). */
export function enforcementSyncIntervalMs(config: ConnectorConfig): number {
  return config.opa ? OpaConfig.parse(config.opa).sync_interval_seconds * 1000 : 30_000;
}

/** Provider `http` credentials have references `<system>:<name>`. */
function httpCredentials(systems: Record<string, CredentialProvider>): CredentialProvider {
  const pick = (reference: string) => {
    const m = /^([a-z0-9_-]+):(.+)$/.exec(reference);
    const s = m && systems[m[1]!];
    if (!m || !s)
      throw new ConnectorError(`http credential ${reference}: no configured system for it (<system>:<name>)`);
    return { s, ref: m[2]! };
  };
  return {
    revoke: (c, ctx) => {
      const { s, ref } = pick(c.reference);
      return s.revoke({ ...c, reference: ref }, ctx);
    },
    reactivate: (c, ctx) => {
      const { s, ref } = pick(c.reference);
      return s.reactivate({ ...c, reference: ref }, ctx);
    },
    isActive: (c) => {
      const { s, ref } = pick(c.reference);
      return s.isActive({ ...c, reference: ref });
    },
  };
}

/** notify, for now: recorded on the incident timeline (and, like every action, in the audit log). */
function notifyHandler(db: Db, now?: () => Date) {
  return handler('notify', {
    target: (p) => p.target ?? 'incident-channel',
    async act(p, ctx) {
      const target = p.target ?? 'incident-channel';
      if (await incidentExists(db, ctx.incidentId)) {
        await appendTimelineEvent(
          db,
          {
            incidentId: ctx.incidentId,
            kind: 'notify',
            actor: ctx.actor,
            message: p.message,
            data: { target },
            eventKey: `notify:${ctx.incidentId}:${ctx.stepId}`,
          },
          (now?.() ?? new Date()).toISOString(),
        );
      }
      return { summary: `notified ${target}`, output: { recorded: true as const, target } };
    },
  });
}

/** Builds on first use and reuses after: drill incidents never build, live ones build once. */
export function lazyLiveConnectors(build: () => LiveConnectors): () => LiveConnectors {
  let built: LiveConnectors | undefined;
  return () => (built ??= build());
}
