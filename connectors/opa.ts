/**
 * The OPA enforcement point of the kill switch. Firebreak writes each agent's kill-switch state
 * into an OPA server's Data API (`PUT /v1/data/firebreak/agents/<id>`), where the shipped policy
 * (policies/firebreak.rego, package `firebreak.authz`) turns it into the decision that AI
 * gateways, Envoy ext_authz filters and MCP gateways ask for before a tool call. Verification asks
 * that decision (`POST /v1/data/firebreak/authz/decision`) as such a gateway would, and also
 * checks that it reflects this change's version or a later one: an OPA still holding an older
 * state fails it, whatever it answers.
 */
import { z } from 'zod';
import type { AgentKillSwitchState, EnforcementPoint, Expectation } from './enforcement-point';
import { registerSecret } from './redact';
import { ConnectorError } from './types';

export const OpaConfig = z.object({
  url: z.url(),
  /** Bearer token OPA requires (`opa run --authentication=token`). */
  token: z.string().min(1).optional(),
  timeout_ms: z.number().int().positive().default(5000),
});
export type OpaConfig = z.input<typeof OpaConfig>;

/** Where Firebreak keeps agents in OPA's data and which rule it asks. */
export const OPA_AGENTS_PATH = 'firebreak/agents';
export const OPA_DECISION_PATH = 'firebreak/authz/decision';

/** The decision document of policies/firebreak.rego. */
const Decision = z.object({
  allow: z.boolean(),
  agent_id: z.string().nullable(),
  version: z.number().nullable(),
  incident: z.string().nullable(),
  tool_blocked: z.boolean(),
  reasons: z.array(z.string()),
});
export type OpaDecision = z.output<typeof Decision>;

const Stored = z.object({ version: z.number() }).loose();

export interface OpaClient {
  /** The agent's document as OPA holds it, or undefined when it has none. */
  agentDocument(agentId: string): Promise<Record<string, unknown> | undefined>;
  putAgentDocument(state: AgentKillSwitchState): Promise<void>;
  decision(input: { agent_id: string; tool?: string }): Promise<OpaDecision>;
}

export function opaClient(input: OpaConfig): OpaClient {
  const cfg = OpaConfig.parse(input);
  registerSecret(cfg.token);
  const base = cfg.url.replace(/\/$/, '');

  async function call(method: string, path: string, body?: unknown) {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (cfg.token) headers.authorization = `Bearer ${cfg.token}`;
    let res: Response;
    try {
      res = await fetch(`${base}/v1/data/${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(cfg.timeout_ms),
      });
    } catch (err) {
      throw new ConnectorError(`OPA at ${base} unreachable: ${(err as Error).message}`, true);
    }
    const text = await res.text();
    if (!res.ok) {
      const hint = res.status === 401 ? ' (check the OPA token)' : '';
      throw new ConnectorError(
        `OPA at ${base}: ${method} /v1/data/${path} answered ${res.status}${hint}: ${text.slice(0, 200)}`,
        res.status >= 500 || res.status === 429,
      );
    }
    return text ? (JSON.parse(text) as { result?: unknown }) : {};
  }

  const agentPath = (id: string) => `${OPA_AGENTS_PATH}/${encodeURIComponent(id)}`;
  return {
    async agentDocument(agentId) {
      const r = await call('GET', agentPath(agentId));
      return r.result === undefined ? undefined : (r.result as Record<string, unknown>);
    },
    async putAgentDocument(state) {
      const { agent_id: _id, ...doc } = state;
      await call('PUT', agentPath(state.agent_id), doc);
    },
    async decision(decisionInput) {
      const r = await call('POST', OPA_DECISION_PATH, { input: decisionInput });
      if (r.result === undefined) {
        throw new ConnectorError(
          `OPA at ${base} has no ${OPA_DECISION_PATH} rule: load policies/firebreak.rego into it`,
        );
      }
      const d = Decision.safeParse(r.result);
      if (!d.success) {
        throw new ConnectorError(
          `OPA at ${base}: ${OPA_DECISION_PATH} is not the decision of policies/firebreak.rego: load that policy`,
        );
      }
      return d.data;
    },
  };
}

const sameState = (doc: Record<string, unknown>, s: AgentKillSwitchState) =>
  JSON.stringify([doc.status, doc.blocked_tools, doc.version, doc.incident ?? null]) ===
  JSON.stringify([s.status, s.blocked_tools, s.version, s.incident]);

/** What one decision says, for verification details. */
function describeDecision(d: OpaDecision, tool?: string): string {
  const what = tool ? `tool ${tool} of agent ${d.agent_id}` : `agent ${d.agent_id}`;
  const why = d.reasons.length ? `: ${d.reasons.join(', ')}` : '';
  return `${d.allow ? 'allow' : 'deny'} for ${what} (version ${d.version ?? 'none'}${why})`;
}

export function opaEnforcementPoint(input: OpaConfig): EnforcementPoint {
  const client = opaClient(input);
  const name = `opa ${input.url.replace(/\/$/, '')}`;

  /** The decision for one question, or why it cannot count: no state, or an older version. */
  async function ask(want: Expectation, tool?: string) {
    const d = await client.decision({ agent_id: want.agentId, ...(tool ? { tool } : {}) });
    if (d.version === null) return { d, stale: `OPA holds no state for agent ${want.agentId}` };
    if (d.version < want.minVersion)
      return {
        d,
        stale: `OPA holds version ${d.version} of agent ${want.agentId}, older than ${want.minVersion}`,
      };
    return { d, stale: undefined };
  }

  return {
    name,
    async apply(state) {
      const held = await client.agentDocument(state.agent_id);
      const stored = Stored.safeParse(held);
      // A repeat changes nothing; a newer state written by a later change is never overwritten.
      if (held && stored.success && (sameState(held, state) || stored.data.version > state.version))
        return { changed: false };
      await client.putAgentDocument(state);
      return { changed: true };
    },
    async check(want) {
      try {
        if ('status' in want) {
          const { d, stale } = await ask(want);
          if (stale) return { ok: false, detail: `${name}: ${stale}` };
          return { ok: d.allow === (want.status === 'enabled'), detail: `${name}: ${describeDecision(d)}` };
        }
        const details: string[] = [];
        let ok = true;
        for (const tool of want.tools) {
          const { d, stale } = await ask(want, tool);
          if (stale) return { ok: false, detail: `${name}: ${stale}` };
          // A blocked tool must be denied; an allowed one must no longer be blocked (the agent
          // itself may still be disabled, which denies it for another reason).
          ok &&= want.blocked ? !d.allow : !d.tool_blocked;
          details.push(describeDecision(d, tool));
        }
        return { ok, detail: `${name}: ${details.join('; ')}` };
      } catch (err) {
        return { ok: false, detail: (err as Error).message };
      }
    },
  };
}
