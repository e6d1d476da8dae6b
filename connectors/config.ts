/**
 * The shape of the connector settings: environment variables for the common cases
 * (FIREBREAK_PG_ADMIN_URL, FIREBREAK_AWS_ENDPOINT, FIREBREAK_AWS_REGION, FIREBREAK_STATUS_BASE_URL,
 * FIREBREAK_OPA_URL, FIREBREAK_OPA_TOKEN, FIREBREAK_MCP_GATEWAY_URL, FIREBREAK_MCP_GATEWAY_TOKEN,
 * FIREBREAK_PHOENIX_URL and its project and key) and the `connectors:` section of the
 * FIREBREAK_CONFIG file for the rest (in-house HTTP
 * systems). app/config.ts parses both with these schemas once, at start, in every entry point;
 * connectors receive the resulting `ConnectorConfig` by injection and never read either source.
 */
import { z } from 'zod';
import { McpGatewayConfig } from './mcp-gateway';
import { OpaConfig } from './opa';
import { PhoenixConfig } from './phoenix';
import { HttpSystemConfig } from './signed-http';

/** The trace store that agent_traces evidence is read from (docs/evidence.md). */
export const TraceStoreFileConfig = z.discriminatedUnion('type', [
  PhoenixConfig.extend({ type: z.literal('phoenix') }),
]);

/** The `connectors:` section of the config file. */
export const ConnectorsFileSection = z
  .object({
    postgres: z.object({ admin_url: z.string().startsWith('postgres') }).optional(),
    aws: z.object({ endpoint: z.url().optional(), region: z.string().min(1).optional() }).optional(),
    status_base_url: z.url().optional(),
    opa: OpaConfig.partial({ url: true }).optional(),
    mcp_gateway: McpGatewayConfig.partial({ url: true }).optional(),
    http_systems: z.array(HttpSystemConfig).default([]),
    trace_store: TraceStoreFileConfig.optional(),
  })
  .default({ http_systems: [] });
export type ConnectorsFileSection = z.output<typeof ConnectorsFileSection>;

/** The connector variables, as fields of the environment schema. */
export const ConnectorEnv = {
  FIREBREAK_PG_ADMIN_URL: z.string().startsWith('postgres').optional(),
  FIREBREAK_AWS_ENDPOINT: z.url().optional(),
  FIREBREAK_AWS_REGION: z.string().min(1).optional(),
  FIREBREAK_STATUS_BASE_URL: z.url().optional(),
  FIREBREAK_OPA_URL: z.url().optional(),
  FIREBREAK_OPA_TOKEN: z.string().min(1).optional(),
  FIREBREAK_MCP_GATEWAY_URL: z.url().optional(),
  FIREBREAK_MCP_GATEWAY_TOKEN: z.string().min(1).optional(),
  FIREBREAK_PHOENIX_URL: z.url().optional(),
  FIREBREAK_PHOENIX_PROJECT: z.string().min(1).optional(),
  FIREBREAK_PHOENIX_API_KEY: z.string().min(1).optional(),
};
export type ConnectorEnv = z.output<z.ZodObject<typeof ConnectorEnv>>;

export interface ConnectorConfig {
  pgAdminUrl: string | undefined;
  aws: { endpoint: string | undefined; region: string } | undefined;
  /** Where agent.disable verification reads the status endpoint (defaults to this API). */
  statusBaseUrl: string;
  httpSystems: z.input<typeof HttpSystemConfig>[];
  /** The OPA server the kill switch writes agents' state into and verifies through. */
  opa?: OpaConfig;
  /** The MCP gateway (ContextForge) the kill switch deactivates agents' access in. */
  mcpGateway?: McpGatewayConfig;
  /** Where agent_traces evidence is read from; absent: that kind is not available here. */
  traceStore?: { type: 'phoenix'; url: string; project: string; apiKey?: string };
  /**
   * The OPAs that upload decision logs to this Firebreak (config `opa_decision_logs.senders`, by
   * name): gateway_tool_calls evidence is read from what they uploaded; absent: not available.
   * A collection waits up to `waitForUploadMs` for their uploads to reach its end.
   */
  opaDecisionLogs?: { senders: string[]; waitForUploadMs?: number };
}

/** Merges the parsed sources: the environment wins over the file. */
export function resolveConnectorConfig(
  env: ConnectorEnv,
  file: ConnectorsFileSection,
  defaultStatusBaseUrl: string,
): ConnectorConfig {
  const awsEndpoint = env.FIREBREAK_AWS_ENDPOINT ?? file.aws?.endpoint;
  const awsRegion = env.FIREBREAK_AWS_REGION ?? file.aws?.region;
  return {
    pgAdminUrl: env.FIREBREAK_PG_ADMIN_URL ?? file.postgres?.admin_url,
    aws:
      awsEndpoint || awsRegion || file.aws
        ? { endpoint: awsEndpoint, region: awsRegion ?? 'us-east-1' }
        : undefined,
    statusBaseUrl: env.FIREBREAK_STATUS_BASE_URL ?? file.status_base_url ?? defaultStatusBaseUrl,
    httpSystems: file.http_systems,
    opa: opaConfig(env, file),
    mcpGateway: mcpGatewayConfig(env, file),
    traceStore: traceStoreOf(env, file),
  };
}

function traceStoreOf(env: ConnectorEnv, file: ConnectorsFileSection): ConnectorConfig['traceStore'] {
  const f = file.trace_store;
  const url = env.FIREBREAK_PHOENIX_URL ?? f?.url;
  if (!url) return undefined;
  const apiKey = env.FIREBREAK_PHOENIX_API_KEY;
  return {
    type: 'phoenix',
    url,
    project: env.FIREBREAK_PHOENIX_PROJECT ?? f?.project ?? 'default',
    ...(apiKey ? { apiKey } : {}),
  };
}

function opaConfig(env: ConnectorEnv, file: ConnectorsFileSection): OpaConfig | undefined {
  const url = env.FIREBREAK_OPA_URL ?? file.opa?.url;
  if (!url) return undefined;
  const token = env.FIREBREAK_OPA_TOKEN ?? file.opa?.token;
  return { ...file.opa, url, ...(token ? { token } : {}) };
}

function mcpGatewayConfig(env: ConnectorEnv, file: ConnectorsFileSection): McpGatewayConfig | undefined {
  const url = env.FIREBREAK_MCP_GATEWAY_URL ?? file.mcp_gateway?.url;
  if (!url) return undefined;
  const token = env.FIREBREAK_MCP_GATEWAY_TOKEN ?? file.mcp_gateway?.token;
  return { ...file.mcp_gateway, url, ...(token ? { token } : {}) };
}
