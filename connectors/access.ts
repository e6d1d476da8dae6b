/**
 * access.restrict / access.restore, dispatched by resource: `postgres:<role>` goes to the
 * PostgreSQL connector, `http:<system>:<name>` to that declared in-house system. Verification asks
 * the provider whether the access still works (a real login for PostgreSQL, the declared check
 * request for HTTP systems).
 *
 * A restriction acts only on a resource bound to the incident's agent in the inventory (one of
 * its credentials, or a listed permission) and held by no other agent: restricting a role other
 * agents share would stop them too, and an alert about one agent must not reach another's access.
 */
import { agentCredentialsOf, listAgents, type AgentRow, type CredentialRow } from '../db/agents';
import type { Db } from '../db/client';
import { getIncident } from '../db/incidents';
import { ConnectorError, handler, type AccessProvider, type ActionHandler } from './types';

export type AccessProviders = Record<string, AccessProvider>;

/** `postgres:reporting` → ['postgres', 'reporting']; `http:billing:a1` → ['http:billing', 'a1']. */
export function parseResource(resource: string): { provider: string; name: string } {
  const m = /^(postgres|http:[a-z0-9_-]+):(.+)$/.exec(resource);
  if (!m) {
    throw new ConnectorError(
      `resource ${resource} is not restrictable: use postgres:<role> or http:<system>:<name>`,
    );
  }
  return { provider: m[1]!, name: m[2]! };
}

function resolve(providers: AccessProviders, resource: string) {
  const { provider, name } = parseResource(resource);
  const p = providers[provider];
  if (!p)
    throw new ConnectorError(`no connector is configured for ${provider}: configure it or run as a drill`);
  return { p, name };
}

/** Whether the inventory binds `resource` to the agent: a credential of it, or a listed permission. */
function binds(agent: AgentRow, creds: CredentialRow[], resource: string): boolean {
  if (agent.permissions.includes(resource)) return true;
  const { provider, name } = parseResource(resource);
  return creds.some((c) =>
    provider === 'postgres'
      ? c.provider === 'postgres' && c.reference === name
      : c.provider === 'http' && `http:${c.reference}` === `${provider}:${name}`,
  );
}

/**
 * Refuses (non-retryable) a restriction of a resource that is not the incident's agent's alone:
 * another agent than the incident's, a resource the inventory does not bind to the agent, or one
 * it binds to other agents too.
 */
export async function assertRestrictable(
  db: Db,
  incidentId: string,
  agentId: string,
  resource: string,
): Promise<void> {
  parseResource(resource);
  const incidentAgent = (await getIncident(db, incidentId))?.agentId;
  if (incidentAgent && incidentAgent !== agentId) {
    throw new ConnectorError(
      `access.restrict: incident ${incidentId} is about agent ${incidentAgent}, not ${agentId}: a playbook restricts only its incident's agent`,
    );
  }
  const agents = await listAgents(db);
  const creds = await agentCredentialsOf(
    db,
    agents.map((a) => a.id),
  );
  const holders = agents
    .filter((a) =>
      binds(
        a,
        creds.filter((c) => c.agentId === a.id),
        resource,
      ),
    )
    .map((a) => a.id);
  if (!holders.includes(agentId)) {
    throw new ConnectorError(
      `access.restrict: ${resource} is not bound to agent ${agentId} in the inventory (no credential or permission of it names it): restrict a resource of this agent, or add it to the agent's inventory entry`,
    );
  }
  const others = holders.filter((id) => id !== agentId);
  if (others.length > 0) {
    throw new ConnectorError(
      `access.restrict: ${resource} is shared with agents ${others.join(', ')}; restricting it would cut them off too. Restrict a resource of ${agentId} alone, or disable the agent`,
    );
  }
}

export function accessConnector(
  providers: AccessProviders,
  db: Db,
): Record<'access.restrict' | 'access.restore', ActionHandler> {
  const make = (action: 'access.restrict' | 'access.restore', wantAccess: boolean) =>
    handler(action, {
      target: (p) => p.resource,
      async act(params, ctx) {
        const { p, name } = resolve(providers, params.resource);
        if (!wantAccess) await assertRestrictable(db, ctx.incidentId, params.agent_id, params.resource);
        const r = wantAccess ? await p.restore(name, ctx) : await p.restrict(name, ctx);
        return {
          summary: `${wantAccess ? 'restored' : 'restricted'} ${params.resource} for ${params.agent_id}`,
          output: { agent_id: params.agent_id, resource: params.resource, can_login: wantAccess, ...r },
        };
      },
      async verify(params) {
        const { p, name } = resolve(providers, params.resource);
        const can = await p.canAccess(name);
        return {
          verified: can === wantAccess,
          detail: `${params.resource} access ${can ? 'still works' : 'is refused'}`,
          output: { agent_id: params.agent_id, resource: params.resource, can_login: can },
        };
      },
    });
  return {
    'access.restrict': make('access.restrict', false),
    'access.restore': make('access.restore', true),
  };
}
