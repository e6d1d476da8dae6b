/**
 * What the configured connectors can act on, for the playbook connector check: the same
 * decisions buildLiveConnectors (registry.ts) makes from the configuration, without building a
 * client. The inventory's credential providers are added when a database is at hand.
 */
import { agentCredentialsOf, listAgents } from '../db/agents';
import type { Db } from '../db/client';
import type { ConnectorCoverage } from '../domain/connector-coverage';
import type { ConnectorConfig } from './config';

export function connectorCoverage(config: ConnectorConfig): ConnectorCoverage {
  const credentialProviders: string[] = [];
  const accessProviders: string[] = [];
  if (config.pgAdminUrl) {
    credentialProviders.push('postgres');
    accessProviders.push('postgres');
  }
  if (config.aws) credentialProviders.push('aws_iam');
  if (config.httpSystems.length > 0) credentialProviders.push('http');
  for (const s of config.httpSystems) accessProviders.push(`http:${s.name}`);
  return { credentialProviders, accessProviders };
}

/** The coverage plus the providers of every credential in the inventory (and who holds them). */
export async function connectorCoverageWithInventory(
  config: ConnectorConfig,
  db: Db,
): Promise<ConnectorCoverage> {
  const agents = await listAgents(db);
  const creds = await agentCredentialsOf(
    db,
    agents.map((a) => a.id),
  );
  const inventoryProviders: Record<string, string[]> = {};
  for (const c of creds) {
    const holders = (inventoryProviders[c.provider] ??= []);
    if (!holders.includes(c.agentId)) holders.push(c.agentId);
  }
  return { ...connectorCoverage(config), inventoryProviders };
}
