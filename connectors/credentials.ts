/**
 * credentials.revoke / reactivate / rotate: resolves the agent's credentials from the inventory
 * (one by id, or all of a provider, or all), dispatches each to its provider connector (AWS IAM,
 * PostgreSQL, an HTTP system), records the new state in the inventory, and verifies by reading
 * every credential back from its provider.
 */
import crypto from 'node:crypto';
import { agentCredentialsOf, recordRotation, setCredentialStatus, type CredentialRow } from '../db/agents';
import type { Db } from '../db/client';
import { ConnectorError, handler, type ActionHandler, type CredentialProvider } from './types';

export type CredentialProviders = Partial<Record<CredentialRow['provider'], CredentialProvider>>;

type Params = { agent_id: string; credential_id?: string; provider?: CredentialRow['provider'] };
type Action = 'credentials.revoke' | 'credentials.reactivate' | 'credentials.rotate';

export function credentialsConnector(db: Db, providers: CredentialProviders): Record<Action, ActionHandler> {
  /** The matching credentials; `prov` is undefined where no connector handles the provider. */
  async function select(
    p: Params,
    rotatedOnly = false,
  ): Promise<{ c: CredentialRow; prov?: CredentialProvider }[]> {
    const all = (await agentCredentialsOf(db, [p.agent_id])).filter(
      (c) => (!p.credential_id || c.id === p.credential_id) && (!p.provider || c.provider === p.provider),
    );
    const chosen = rotatedOnly ? all.filter((c) => !c.id.includes('~')) : all;
    if (chosen.length === 0) {
      throw new ConnectorError(
        `agent ${p.agent_id} has no matching credential in the inventory: import it first`,
      );
    }
    const picked = chosen.map((c) => ({ c, prov: providers[c.provider] }));
    if (picked.every((x) => !x.prov)) {
      const kinds = [...new Set(chosen.map((c) => c.provider))].join(', ');
      throw new ConnectorError(
        `no connector is configured for ${kinds} credentials: configure one or run as a drill`,
      );
    }
    return picked;
  }
  /** Every credential must have a connector (rotation cannot be partial). */
  async function selectAll(
    p: Params,
    rotatedOnly = false,
  ): Promise<{ c: CredentialRow; prov: CredentialProvider }[]> {
    return (await select(p, rotatedOnly)).map(({ c, prov }) => {
      if (!prov)
        throw new ConnectorError(`no connector is configured for ${c.provider} credentials (${c.id})`);
      return { c, prov };
    });
  }
  const unhandled = (xs: { c: CredentialRow; prov?: CredentialProvider }[]) =>
    xs.filter((x) => !x.prov).map((x) => `${x.c.id} (${x.c.provider})`);

  const view = (c: CredentialRow, status: 'active' | 'inactive') => ({
    id: c.id,
    provider: c.provider,
    reference: c.reference,
    status,
  });

  const flip = (action: 'credentials.revoke' | 'credentials.reactivate', want: 'active' | 'inactive') =>
    handler(action, {
      target: (p) => `agent:${p.agent_id}/credentials${p.credential_id ? `/${p.credential_id}` : ''}`,
      // Containment acts on every credential it can and fails verification for the rest, rather
      // than leaving all of them active because one provider is not configured.
      async act(p, ctx) {
        const out = [];
        const picked = await select(p);
        for (const { c, prov } of picked) {
          if (!prov) {
            out.push(view(c, c.status));
            continue;
          }
          await (want === 'inactive' ? prov.revoke(c, ctx) : prov.reactivate(c, ctx));
          await setCredentialStatus(db, c.id, want);
          out.push(view(c, want));
        }
        const verb = want === 'inactive' ? 'revoked' : 'reactivated';
        const skipped = unhandled(picked);
        const done = out.filter((c) => c.status === want).map((c) => c.id);
        return {
          summary: `${verb} ${done.join(', ')}${skipped.length ? `; no connector for ${skipped.join(', ')}` : ''}`,
          output: { agent_id: p.agent_id, credentials: out },
        };
      },
      async verify(p) {
        const out = [];
        const picked = await select(p);
        for (const { c, prov } of picked) {
          out.push(prov ? view(c, (await prov.isActive(c)) ? 'active' : 'inactive') : view(c, c.status));
        }
        const wrong = out.filter((c) => c.status !== want);
        const skipped = unhandled(picked);
        return {
          verified: wrong.length === 0 && skipped.length === 0,
          detail: skipped.length
            ? `no connector could act on ${skipped.join(', ')}`
            : wrong.length
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
      for (const { c, prov } of await selectAll(p, true)) {
        if (!prov.rotate)
          throw new ConnectorError(`${c.provider} credentials cannot be rotated: revoke instead`);
        const next = await prov.rotate(c, ctx);
        const id = `${c.id}~${crypto.createHash('sha256').update(next.reference).digest('hex').slice(0, 8)}`;
        await recordRotation(db, c.id, {
          ...c,
          id,
          reference: next.reference,
          status: 'active',
          createdAt: new Date().toISOString(),
          lastUsedAt: null,
        });
        out.push(view(c, 'inactive'));
        issued.push({ id, reference: next.reference });
      }
      return {
        summary: `rotated ${out.map((c) => c.id).join(', ')}`,
        output: { agent_id: p.agent_id, credentials: out, issued },
      };
    },
    // After a crash `output` is unknown: the replacements are found in the inventory instead,
    // so a retry that finds the rotation done does not rotate a second time.
    async verify(p, output) {
      const olds = await selectAll(p, true);
      const out = [];
      for (const { c, prov } of olds) out.push(view(c, (await prov.isActive(c)) ? 'active' : 'inactive'));
      const issued =
        output?.issued ??
        (await agentCredentialsOf(db, [p.agent_id]))
          .filter((n) => n.status === 'active' && olds.some((o) => n.id.startsWith(`${o.c.id}~`)))
          .map((n) => ({ id: n.id, reference: n.reference }));
      const newActive = [];
      for (const n of issued) {
        const row = (await agentCredentialsOf(db, [p.agent_id])).find((c) => c.id === n.id);
        const prov = row && providers[row.provider];
        if (row && prov && (await prov.isActive(row))) newActive.push(n);
      }
      const stillActive = out.filter((c) => c.status === 'active');
      return {
        verified: stillActive.length === 0 && newActive.length > 0 && newActive.length === issued.length,
        detail: stillActive.length
          ? `old credential still active: ${stillActive.map((c) => c.id).join(', ')}`
          : `old credentials inactive; ${newActive.length} of ${issued.length} new active`,
        output: { agent_id: p.agent_id, credentials: out, issued },
      };
    },
  });

  return {
    'credentials.revoke': flip('credentials.revoke', 'inactive'),
    'credentials.reactivate': flip('credentials.reactivate', 'active'),
    'credentials.rotate': rotate,
  };
}
