/**
 * The Firebreak kill switch: agent.disable / agent.enable flip an agent's status and
 * agent.tools.block / agent.tools.allow change the tools it may call, in the DB, with the incident
 * that caused it. Runtimes and gateways read the result as signed status documents
 * (connectors/status-document.ts) at `GET /v1/agents/:id/status` or as OpenFeature flags (OFREP).
 * Verification reads the document back over HTTP as a runtime would, with a token the API
 * accepts: signature by the status key, `typ`, freshness, `agent_id`, and a `version` no older
 * than the one this action produced; then the status or blocked tools. Each configured enforcement
 * point (connectors/enforcement-point.ts: OPA) is given the new state after it is stored, and
 * verification asks each one too: the action is verified only when every one enforces it.
 */
import type { JSONWebKeySet } from 'jose';
import {
  getAgent,
  setAgentStatus as storeAgentStatus,
  setToolsBlocked,
  type AgentRow,
  type StatusChange,
} from '../db/agents';
import type { Db } from '../db/client';
import { killSwitchStateOf, type EnforcementPoint, type Expectation } from './enforcement-point';
import {
  claimsOf,
  signStatus,
  verifyStatus,
  type StatusCheck,
  type StatusSigningKey,
} from './status-document';
import { handler, ConnectorError, type ActionHandler, type Verification } from './types';

/** Strong ETag of an agent's kill-switch state: it changes exactly when the version does. */
export function statusEtag(a: Pick<AgentRow, 'statusVersion'>): string {
  return `"v${a.statusVersion}"`;
}

/** The signed status document for an agent, or undefined when it is not in the inventory. */
export async function statusDocument(db: Db, key: StatusSigningKey, agentId: string, now: Date) {
  const a = await getAgent(db, agentId);
  if (!a) return undefined;
  const claims = claimsOf(a, now);
  return { jws: await signStatus(key, claims), etag: statusEtag(a), claims };
}

const missing = (agentId: string) =>
  new ConnectorError(`agent ${agentId} is not in the inventory: import it first (agents import)`);

/**
 * Sets the status; the version grows only when it actually changes (a repeat is a no-op), and a
 * change is audited as `inventory.status` by the action's actor.
 */
export async function setAgentStatus(
  db: Db,
  agentId: string,
  status: 'enabled' | 'disabled',
  at: string,
  by: StatusChange,
) {
  const r = await storeAgentStatus(db, agentId, status, at, by);
  if (!r) throw missing(agentId);
  return r;
}

export interface KillSwitchOptions {
  db: Db;
  /** Public status keys (the API's JWKS) that documents read back must be signed with. */
  keys: JSONWebKeySet;
  /** A bearer token the status endpoint accepts for every agent (Firebreak's verifier token). */
  statusToken: () => Promise<string>;
  /** Where the status endpoint is served (Firebreak's own API, or the gateway in front of it). */
  statusBaseUrl: string;
  now?: () => Date;
  timeoutMs?: number;
  /** Systems outside Firebreak that enforce the state (OPA); each is applied and verified. */
  enforcement?: EnforcementPoint[];
}

/** Gives every enforcement point the agent's stored state; failures are named, not thrown. */
async function applyToPoints(o: KillSwitchOptions, agentId: string): Promise<string> {
  const points = o.enforcement ?? [];
  if (points.length === 0) return '';
  const a = await getAgent(o.db, agentId);
  if (!a) throw missing(agentId);
  const state = killSwitchStateOf(a);
  const notes = await Promise.all(
    points.map(async (p) => {
      try {
        return `${p.name} ${(await p.apply(state)).changed ? 'updated' : 'already current'}`;
      } catch (err) {
        return `${p.name} not updated: ${(err as Error).message}`;
      }
    }),
  );
  return `; ${notes.join('; ')}`;
}

/** Asks every enforcement point whether `want` holds there. */
async function checkPoints(o: KillSwitchOptions, want: Expectation) {
  const checks = await Promise.all((o.enforcement ?? []).map((p) => p.check(want)));
  return { ok: checks.every((c) => c.ok), details: checks.map((c) => c.detail) };
}

/** The version verification requires: this action's, else (after a crash) the stored one. */
async function versionToVerify(o: KillSwitchOptions, agentId: string, output?: StatusOutput) {
  return output?.version ?? (await getAgent(o.db, agentId))?.statusVersion ?? 1;
}

/** Reads the status document back over HTTP as a runtime would, and verifies it. */
export async function readStatus(
  o: KillSwitchOptions,
  agentId: string,
  minVersion?: number,
): Promise<StatusCheck> {
  const url = `${o.statusBaseUrl.replace(/\/$/, '')}/v1/agents/${encodeURIComponent(agentId)}/status`;
  let res: Response;
  try {
    res = await fetch(url, {
      signal: AbortSignal.timeout(o.timeoutMs ?? 5000),
      headers: { 'cache-control': 'no-cache', authorization: `Bearer ${await o.statusToken()}` },
    });
  } catch (err) {
    return { ok: false, detail: `status endpoint unreachable: ${(err as Error).message}` };
  }
  const body = await res.text();
  if (!res.ok) return { ok: false, detail: `status endpoint answered ${res.status}` };
  return verifyStatus(o.keys, body.trim(), { agentId, minVersion, now: o.now?.() });
}

type StatusOutput = { agent_id: string; version: number };

/**
 * Verification shared by the four actions: a fresh, genuine document, then `holds`, then every
 * enforcement point enforcing `want` from this action's version on.
 */
async function verifyWith(
  o: KillSwitchOptions,
  p: { agent_id: string },
  output: StatusOutput | undefined,
  holds: (c: Extract<StatusCheck, { ok: true }>['claims']) => boolean,
  want: (minVersion: number) => Expectation,
): Promise<Verification> {
  const [read, points] = await Promise.all([
    readStatus(o, p.agent_id, output?.version),
    versionToVerify(o, p.agent_id, output).then((v) => checkPoints(o, want(v))),
  ]);
  if (!read.ok) return { verified: false, detail: [read.detail, ...points.details].join('; ') };
  const c = read.claims;
  const tools = c.blocked_tools.length ? `, blocked tools ${c.blocked_tools.join(', ')}` : '';
  return {
    verified: holds(c) && points.ok,
    detail: [`status endpoint says ${c.status} (version ${c.version}${tools})`, ...points.details].join('; '),
    output: { agent_id: c.agent_id, status: c.status, version: c.version, blocked_tools: c.blocked_tools },
  };
}

function statusHandler(o: KillSwitchOptions, want: 'enabled' | 'disabled'): ActionHandler {
  const now = () => (o.now?.() ?? new Date()).toISOString();
  const action = want === 'disabled' ? 'agent.disable' : 'agent.enable';
  return handler(action, {
    target: (p) => `agent:${p.agent_id}`,
    async act(p, ctx) {
      const by = { actor: ctx.actor, incidentId: ctx.incidentId, stepId: ctx.stepId };
      const r = await setAgentStatus(o.db, p.agent_id, want, now(), by);
      const applied = await applyToPoints(o, p.agent_id);
      return {
        summary:
          (r.changed
            ? `agent ${p.agent_id} ${want} (status version ${r.version})`
            : `agent ${p.agent_id} was already ${want}`) + applied,
        output: { agent_id: r.agent_id, status: r.status, version: r.version },
      };
    },
    async verify(p, output) {
      const v = await verifyWith(
        o,
        p,
        output,
        (c) => c.status === want,
        (minVersion) => ({ agentId: p.agent_id, minVersion, status: want }),
      );
      const out = v.output as { agent_id: string; status: typeof want; version: number } | undefined;
      return { ...v, output: out && { agent_id: out.agent_id, status: out.status, version: out.version } };
    },
  });
}

function toolsHandler(o: KillSwitchOptions, block: boolean): ActionHandler {
  const now = () => (o.now?.() ?? new Date()).toISOString();
  const action = block ? 'agent.tools.block' : 'agent.tools.allow';
  return handler(action, {
    target: (p) => `agent:${p.agent_id}`,
    async act(p, ctx) {
      const by = { actor: ctx.actor, incidentId: ctx.incidentId, stepId: ctx.stepId };
      const r = await setToolsBlocked(o.db, p.agent_id, p.tools, block, now(), by);
      if (!r) throw missing(p.agent_id);
      const verb = block ? 'blocked' : 'allowed';
      const applied = await applyToPoints(o, p.agent_id);
      return {
        summary:
          (r.changed
            ? `agent ${p.agent_id}: ${p.tools.join(', ')} ${verb} (status version ${r.version})`
            : `agent ${p.agent_id}: ${p.tools.join(', ')} already ${verb}`) + applied,
        output: { agent_id: r.agent_id, blocked_tools: r.blocked_tools, version: r.version },
      };
    },
    async verify(p, output) {
      const v = await verifyWith(
        o,
        p,
        output,
        (c) => p.tools.every((t) => c.blocked_tools.includes(t) === block),
        (minVersion) => ({ agentId: p.agent_id, minVersion, tools: p.tools, blocked: block }),
      );
      const out = v.output as { agent_id: string; version: number; blocked_tools: string[] } | undefined;
      return {
        ...v,
        output: out && { agent_id: out.agent_id, blocked_tools: out.blocked_tools, version: out.version },
      };
    },
  });
}

export function killSwitchConnector(o: KillSwitchOptions) {
  return {
    'agent.disable': statusHandler(o, 'disabled'),
    'agent.enable': statusHandler(o, 'enabled'),
    'agent.tools.block': toolsHandler(o, true),
    'agent.tools.allow': toolsHandler(o, false),
  };
}
