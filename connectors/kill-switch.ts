/**
 * The Firebreak kill switch. Agent runtimes and AI gateways poll `GET /v1/agents/:id/status`;
 * the body is signed with HMAC-SHA256 (`X-Firebreak-Status-Signature: sha256=<hex>` over the
 * exact body bytes) so a gateway can trust it over any transport, and the version only grows so
 * a replayed old "enabled" is rejected. agent.disable / agent.enable flip the status in the DB;
 * verification reads the public endpoint back over HTTP and checks signature and status.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { getAgent, setAgentStatus as storeAgentStatus, type StatusChange } from '../db/agents';
import type { Db } from '../db/client';
import { registerSecret } from './redact';
import { handler, ConnectorError, type ActionHandler, type Verification } from './types';

export const STATUS_SIGNATURE_HEADER = 'X-Firebreak-Status-Signature';

export const STATUS_KEY_FILE = 'status-signing.key';

/**
 * The dedicated key in DATA_DIR/status-signing.key when an operator put one there (so gateways
 * can be given a key that is not derived from anything else), else one derived from the webhook
 * secret with HMAC (the webhook secret itself is never used or revealed).
 */
export function statusSigningKey(opts: { dataDir?: string; webhookSecret: string }): Buffer {
  const file = opts.dataDir ? path.join(opts.dataDir, STATUS_KEY_FILE) : undefined;
  if (file && fs.existsSync(file)) {
    const key = fs.readFileSync(file, 'utf8').trim();
    if (key.length < 32) throw new Error(`${file} must hold at least 32 characters`);
    registerSecret(key);
    return Buffer.from(key, 'utf8');
  }
  return crypto.createHmac('sha256', opts.webhookSecret).update('firebreak/status-signing/v1').digest();
}

export function signStatus(key: Buffer, body: string): string {
  return `sha256=${crypto.createHmac('sha256', key).update(body).digest('hex')}`;
}

export function statusSignatureValid(key: Buffer, body: string, header: string | null | undefined): boolean {
  if (!header) return false;
  const expected = Buffer.from(signStatus(key, body));
  const got = Buffer.from(header);
  return expected.length === got.length && crypto.timingSafeEqual(expected, got);
}

export const AgentStatusBody = z.object({
  agent_id: z.string(),
  status: z.enum(['enabled', 'disabled']),
  version: z.number().int(),
  issued_at: z.string(),
});

/** The signed status document for an agent, or undefined when it is not in the inventory. */
export async function statusDocument(db: Db, key: Buffer, agentId: string, issuedAt: string) {
  const a = await getAgent(db, agentId);
  if (!a) return undefined;
  const body = JSON.stringify({
    agent_id: a.id,
    status: a.status,
    version: a.statusVersion,
    issued_at: issuedAt,
  });
  return { body, signature: signStatus(key, body), etag: `W/"${a.statusVersion}-${a.status}"` };
}

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
  if (!r)
    throw new ConnectorError(`agent ${agentId} is not in the inventory: import it first (agents import)`);
  return r;
}

export interface KillSwitchOptions {
  db: Db;
  key: Buffer;
  /** Where the status endpoint is served (Firebreak's own API, or the gateway in front of it). */
  statusBaseUrl: string;
  now?: () => Date;
  timeoutMs?: number;
}

/** Reads the status back over HTTP as a runtime would: signature first, then status. */
export async function readStatus(o: KillSwitchOptions, agentId: string) {
  const url = `${o.statusBaseUrl.replace(/\/$/, '')}/v1/agents/${encodeURIComponent(agentId)}/status`;
  const res = await fetch(url, {
    signal: AbortSignal.timeout(o.timeoutMs ?? 5000),
    headers: { 'cache-control': 'no-cache' },
  });
  const body = await res.text();
  if (!res.ok) return { ok: false as const, detail: `status endpoint answered ${res.status}` };
  if (!statusSignatureValid(o.key, body, res.headers.get(STATUS_SIGNATURE_HEADER))) {
    return { ok: false as const, detail: 'status signature is missing or invalid' };
  }
  return { ok: true as const, doc: AgentStatusBody.parse(JSON.parse(body)) };
}

function statusHandler(o: KillSwitchOptions, want: 'enabled' | 'disabled'): ActionHandler {
  const now = () => (o.now?.() ?? new Date()).toISOString();
  const verify = async (p: { agent_id: string }): Promise<Verification> => {
    const read = await readStatus(o, p.agent_id);
    if (!read.ok) return { verified: false, detail: read.detail };
    const { status, version } = read.doc;
    return {
      verified: status === want,
      detail: `status endpoint says ${status} (version ${version})`,
      output: { agent_id: p.agent_id, status, version },
    };
  };
  const action = want === 'disabled' ? 'agent.disable' : 'agent.enable';
  return handler(action, {
    target: (p) => `agent:${p.agent_id}`,
    async act(p, ctx) {
      const by = { actor: ctx.actor, incidentId: ctx.incidentId, stepId: ctx.stepId };
      const r = await setAgentStatus(o.db, p.agent_id, want, now(), by);
      return {
        summary: r.changed
          ? `agent ${p.agent_id} ${want} (status version ${r.version})`
          : `agent ${p.agent_id} was already ${want}`,
        output: { agent_id: r.agent_id, status: r.status, version: r.version },
      };
    },
    verify,
  });
}

export function killSwitchConnector(o: KillSwitchOptions) {
  return { 'agent.disable': statusHandler(o, 'disabled'), 'agent.enable': statusHandler(o, 'enabled') };
}
