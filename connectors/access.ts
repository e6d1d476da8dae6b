/**
 * access.restrict / access.restore, dispatched by resource: `postgres:<role>` goes to the
 * PostgreSQL connector, `http:<system>:<name>` to that declared in-house system. Verification asks
 * the provider whether the access still works (a real login for PostgreSQL, the declared check
 * request for HTTP systems).
 */
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

export function accessConnector(
  providers: AccessProviders,
): Record<'access.restrict' | 'access.restore', ActionHandler> {
  const make = (action: 'access.restrict' | 'access.restore', wantAccess: boolean) =>
    handler(action, {
      target: (p) => p.resource,
      async act(params, ctx) {
        const { p, name } = resolve(providers, params.resource);
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
