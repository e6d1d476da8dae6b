/**
 * Who may ask about an agent's kill switch: a runtime token from the config file (`runtimes:`),
 * scoped to the agents it names (one for an agent's runtime, several for a gateway), or an API
 * token with the `read` scope (responders) or Firebreak's own verifier token, which may ask about
 * any agent. A missing or bad token, an agent outside the token's scope and an agent that does not
 * exist all get the same refusal, which every runtime treats as "stop"; refusals are rate limited
 * per client address and accepted requests per token (429 with Retry-After), so an outsider can
 * neither enumerate agents nor learn which are under investigation.
 */
import type { Context } from 'hono';
import type { JSONWebKeySet } from 'jose';
import { sha256Hex, type RuntimesConfig } from '../app/config-file';
import { verifierTokenValid } from '../connectors/status-document';
import { bearerToken, peerAddress, type ApiEnv } from './auth';
import { RateLimiter } from './rate-limit';

/** Who asked: its name (for rate limiting and logs) and the agents it may ask about. */
export interface RuntimeCaller {
  name: string;
  /** undefined: every agent (a read-scope API token). */
  agents: ReadonlySet<string> | undefined;
}

export type RuntimeRefusal = { kind: 'refused'; status: 401 | 403 } | { kind: 'limited'; retryAfter: number };
export type RuntimeDecision = { kind: 'allowed'; caller: RuntimeCaller } | RuntimeRefusal;

export class RuntimeAccess {
  private readonly byDigest = new Map<string, RuntimeCaller>();
  private readonly limiter: RateLimiter;

  constructor(
    config: RuntimesConfig,
    /** The status keys: Firebreak's own verification signs its token with them. */
    private readonly statusKeys: JSONWebKeySet,
    private readonly nowMs: () => number = () => Date.now(),
  ) {
    for (const t of config.tokens) this.byDigest.set(t.sha256, { name: t.name, agents: new Set(t.agents) });
    this.limiter = new RateLimiter((key) =>
      key.startsWith('refused:') ? config.refusedRateLimit : config.rateLimit,
    );
  }

  /** The caller behind this request's bearer token, if any. */
  async caller(c: Context<ApiEnv>): Promise<RuntimeCaller | undefined> {
    const token = bearerToken(c.req.header('authorization'));
    if (!token) return undefined;
    const runtime = this.byDigest.get(sha256Hex(token));
    if (runtime) return runtime;
    const api = await c.var.tokens.lookup(token);
    if (api.kind === 'valid' && api.user.scopes.includes('read'))
      return { name: `user:${api.user.id}`, agents: undefined };
    if (await verifierTokenValid(this.statusKeys, token, new Date(this.nowMs())))
      return { name: 'firebreak-verifier', agents: undefined };
    return undefined;
  }

  /** Refusal counted against the client's address; 429 once that address has refused too often. */
  refuse(c: Context<ApiEnv>, status: 401 | 403): RuntimeRefusal {
    const wait = this.limiter.take(`refused:${peerAddress(c) ?? 'unknown'}`, this.nowMs());
    return wait > 0 ? { kind: 'limited', retryAfter: wait } : { kind: 'refused', status };
  }

  /**
   * May this request ask about these agents? `exists` says whether each is in the inventory; it
   * is asked only once the token is known, so a refusal costs the same whatever the agent.
   */
  async decide(
    c: Context<ApiEnv>,
    agentIds: string[],
    exists: (id: string) => Promise<boolean>,
    known?: RuntimeCaller,
  ): Promise<RuntimeDecision> {
    const caller = known ?? (await this.caller(c));
    if (!caller) return this.refuse(c, 401);
    for (const id of agentIds) {
      if (caller.agents && !caller.agents.has(id)) return this.refuse(c, 403);
      if (!(await exists(id))) return this.refuse(c, 403);
    }
    const wait = this.limiter.take(`token:${caller.name}`, this.nowMs());
    return wait > 0 ? { kind: 'limited', retryAfter: wait } : { kind: 'allowed', caller };
  }
}

/** The same body for every refusal, whatever the reason: it must not tell agents apart. */
const REFUSAL = {
  401: { code: 'unauthorized', message: 'missing or invalid runtime token' },
  403: { code: 'forbidden', message: 'this token may not ask about this agent' },
} as const;

/** The HTTP answer to a refused or rate-limited request (plain JSON error, as the API's). */
export function refusalResponse(c: Context<ApiEnv>, d: RuntimeRefusal) {
  c.header('Cache-Control', 'no-store');
  if (d.kind === 'limited') {
    c.header('Retry-After', String(d.retryAfter));
    return c.json({ error: { code: 'rate_limited', message: `retry after ${d.retryAfter} s` } }, 429);
  }
  return c.json({ error: REFUSAL[d.status] }, d.status);
}
