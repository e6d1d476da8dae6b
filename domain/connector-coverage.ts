/**
 * Which live connectors an install has configured, as the playbook connector check
 * (playbooks/connector-check.ts) needs it: the credential providers and access providers that
 * can act here, and for each missing one the setting that would configure it. connectors/coverage.ts
 * builds it from the connector configuration; the kill switch (agent.disable) is always present.
 */
export interface ConnectorCoverage {
  /** Credential providers with a connector: `aws_iam`, `postgres`, `http`. */
  credentialProviders: string[];
  /** Access providers with a connector: `postgres`, `http:<system>`. */
  accessProviders: string[];
  /** Credential providers found in the agent inventory (when known), with the agents holding them. */
  inventoryProviders?: Record<string, string[]>;
}

export const CREDENTIAL_PROVIDERS = ['aws_iam', 'postgres', 'firebreak', 'http'] as const;

/** The setting that configures each provider's connector. */
export const PROVIDER_SETTING: Record<string, string> = {
  aws_iam: 'FIREBREAK_AWS_ENDPOINT / FIREBREAK_AWS_REGION or connectors.aws',
  postgres: 'FIREBREAK_PG_ADMIN_URL or connectors.postgres.admin_url',
  http: 'connectors.http_systems in FIREBREAK_CONFIG',
  firebreak: 'nothing: no connector handles provider firebreak',
};
