/**
 * Connector configuration, parsed with zod once at start: environment variables for the common
 * cases (FIREBREAK_PG_ADMIN_URL, FIREBREAK_AWS_ENDPOINT, FIREBREAK_AWS_REGION,
 * FIREBREAK_STATUS_BASE_URL) and the `connectors:` section of the FIREBREAK_CONFIG YAML file for
 * the rest (in-house HTTP systems). Environment wins. A bad value fails start-up naming it.
 */
import fs from 'node:fs';
import YAML from 'yaml';
import { z } from 'zod';
import type { Config } from '../app/config';
import { HttpSystemConfig } from './signed-http';

const FileSection = z
  .object({
    postgres: z.object({ admin_url: z.string().startsWith('postgres') }).optional(),
    aws: z.object({ endpoint: z.url().optional(), region: z.string().min(1).optional() }).optional(),
    status_base_url: z.url().optional(),
    http_systems: z.array(HttpSystemConfig).default([]),
  })
  .default({ http_systems: [] });

const Env = z.object({
  FIREBREAK_PG_ADMIN_URL: z.string().startsWith('postgres').optional(),
  FIREBREAK_AWS_ENDPOINT: z.url().optional(),
  FIREBREAK_AWS_REGION: z.string().min(1).optional(),
  FIREBREAK_STATUS_BASE_URL: z.url().optional(),
});

export interface ConnectorConfig {
  pgAdminUrl: string | undefined;
  aws: { endpoint: string | undefined; region: string } | undefined;
  /** Where agent.disable verification reads the status endpoint (defaults to this API). */
  statusBaseUrl: string;
  httpSystems: z.input<typeof HttpSystemConfig>[];
}

export function loadConnectorConfig(config: Config, env: NodeJS.ProcessEnv = process.env): ConnectorConfig {
  const e = Env.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v)));
  if (!e.success) {
    const i = e.error.issues[0];
    throw new Error(`Invalid configuration:\n  ${i?.path.join('.')}: ${i?.message}`);
  }
  let file: z.output<typeof FileSection> = { http_systems: [] };
  if (config.configFile) {
    const doc = YAML.parse(fs.readFileSync(config.configFile, 'utf8')) as { connectors?: unknown } | null;
    const parsed = FileSection.safeParse(doc?.connectors);
    if (!parsed.success) {
      const i = parsed.error.issues[0];
      throw new Error(
        `Invalid configuration in ${config.configFile}:\n  connectors.${i?.path.join('.')}: ${i?.message}`,
      );
    }
    file = parsed.data;
  }
  const awsEndpoint = e.data.FIREBREAK_AWS_ENDPOINT ?? file.aws?.endpoint;
  const awsRegion = e.data.FIREBREAK_AWS_REGION ?? file.aws?.region;
  return {
    pgAdminUrl: e.data.FIREBREAK_PG_ADMIN_URL ?? file.postgres?.admin_url,
    aws:
      awsEndpoint || awsRegion || file.aws
        ? { endpoint: awsEndpoint, region: awsRegion ?? 'us-east-1' }
        : undefined,
    statusBaseUrl:
      e.data.FIREBREAK_STATUS_BASE_URL ??
      file.status_base_url ??
      config.publicUrl ??
      `http://${config.host}:${config.port}`,
    httpSystems: file.http_systems,
  };
}
