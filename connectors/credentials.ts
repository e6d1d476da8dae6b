/**
 * credentials.revoke / reactivate / rotate: resolves the agent's credentials from the inventory
 * (one by id, or all of a provider, or all), dispatches each to its provider connector (AWS IAM,
 * PostgreSQL, an HTTP system), records the new state in the inventory, and verifies by reading
 * every credential back from its provider.
 */
import crypto from 'node:crypto';
import type { Db } from '../db/client';
import { agentCredentials } from '../db/schema';
import { agentCredentialsOf, setCredentialStatus, type CredentialRow } from './inventory';
import { ConnectorError, handler, type ActionHandler, type CredentialProvider } from './types';

export type CredentialProviders = Partial<Record<CredentialRow['provider'], CredentialProvider>>;

type Params = { agent_id: string; credential_id?: string; provider?: CredentialRow['provider'] };
type Action = 'credentials.revoke' | 'credentials.reactivate' | 'credentials.rotate';

export function credentialsConnector(db: Db, providers: CredentialProviders): Record<Action, ActionHandler> {
  function select(p: Params, rotatedOnly = false): { c: CredentialRow; prov: CredentialProvider }[] {
    const all = agentCredentialsOf(db, [p.agent_id]).filter(
      (c) => (!p.credential_id || c.id === p.credential_id) && (!p.provider || c.provider === p.provider),
    );
    const chosen = rotatedOnly ? all.filter((c) => !c.id.includes('~')) : all;
    if (chosen.length === 0) {
      throw new ConnectorError(
        `agent ${p.agent_id} has no matching credential in the inventory: import it first`,
      );
    }
    return chosen.map((c) => {
      const prov = providers[c.provider];
      if (!prov)
        throw new ConnectorError(`no connector is configured for ${c.provider} credentials (${c.id})`);
      return { c, prov };
    });
  }
  const view = (c: CredentialRow, status: 'active' | 'inactive') => ({
    id: c.id,
    provider: c.provider,
    reference: c.reference,
    status,
  });

  const flip = (action: 'credentials.revoke' | 'credentials.reactivate', want: 'active' | 'inactive') =>
    handler(action, {
      target: (p) => `agent:${p.agent_id}/credentials${p.credential_id ? `/${p.credential_id}` : ''}`,
      async act(p, ctx) {
        const out = [];
        for (const { c, prov } of select(p)) {
          await (want === 'inactive' ? prov.revoke(c, ctx) : prov.reactivate(c, ctx));
          setCredentialStatus(db, c.id, want);
          out.push(view(c, want));
        }
        const verb = want === 'inactive' ? 'revoked' : 'reactivated';
        return {
          summary: `${verb} ${out.map((c) => c.id).join(', ')}`,
          output: { agent_id: p.agent_id, credentials: out },
        };
      },
      async verify(p) {
        const out = [];
        for (const { c, prov } of select(p))
          out.push(view(c, (await prov.isActive(c)) ? 'active' : 'inactive'));
        const wrong = out.filter((c) => c.status !== want);
        return {
          verified: wrong.length === 0,
          detail: wrong.length
            ? `still ${wrong[0]!.status}: ${wrong.map((c) => c.id).join(', ')}`
            : `all ${want}`,
          output: { agent_id: p.agent_id, credentials: out },
        };
      },
    });

  const rotate = handler('credentials.rotate', {
    target: (p) => `agent:${p.agent_id}/credentials${p.credential_id ? `/${p.credential_id}` : ''}`,
    async act(p, ctx) {
      const out = [];
      const issued = [];
      for (const { c, prov } of select(p, true)) {
        if (!prov.rotate)
          throw new ConnectorError(`${c.provider} credentials cannot be rotated: revoke instead`);
        const next = await prov.rotate(c, ctx);
        const id = `${c.id}~${crypto.createHash('sha256').update(next.reference).digest('hex').slice(0, 8)}`;
        db.insert(agentCredentials)
          .values({
            ...c,
            id,
            reference: next.reference,
            status: 'active',
            createdAt: new Date().toISOString(),
            lastUsedAt: null,
          })
          .onConflictDoNothing()
          .run();
        setCredentialStatus(db, c.id, 'inactive');
        out.push(view(c, 'inactive'));
        issued.push({ id, reference: next.reference });
      }
      return {
        summary: `rotated ${out.map((c) => c.id).join(', ')}`,
        output: { agent_id: p.agent_id, credentials: out, issued },
      };
    },
    async verify(p, output) {
      const out = [];
      for (const { c, prov } of select(p, true))
        out.push(view(c, (await prov.isActive(c)) ? 'active' : 'inactive'));
      const stillActive = out.filter((c) => c.status === 'active');
      return {
        verified: stillActive.length === 0 && (output?.issued?.length ?? 0) > 0,
        detail: stillActive.length
          ? `old credential still active: ${stillActive.map((c) => c.id).join(', ')}`
          : 'old credentials inactive',
      };
    },
  });

  return {
    'credentials.revoke': flip('credentials.revoke', 'inactive'),
    'credentials.reactivate': flip('credentials.reactivate', 'active'),
    'credentials.rotate': rotate,
  };
}
