/**
 * The example agent's kill switch: Firebreak's flags through the real OpenFeature server SDK and
 * its OFREP provider, default `false` (fail closed), with a hook that accepts an answer only when
 * its status document (metadata `status_jws`) is a genuine, fresh Ed25519 JWS from the JWKS at
 * `/.well-known/jwks.json`, for this agent, no older than one already seen, agreeing with the
 * value. Answers are kept between steps and re-evaluated:
 * - `events` mode: when the OFREP event stream (announced in the bulk evaluation's `eventStreams`)
 *   sends `refetchEvaluation`, on every step while the stream is down, and at least every 30 s;
 * - `polling` mode: when the answer is older than the poll interval (0: before every step).
 */
import { OFREPProvider } from '@openfeature/ofrep-provider';
import { OpenFeature, type Client, type Hook } from '@openfeature/server-sdk';
import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';

export const AGENT_ENABLED = 'firebreak.agent.enabled';
export const TOOL_ALLOWED = 'firebreak.tool.allowed';
/** Re-evaluation at least this often with the stream up: documents expire after 60 s. */
const MAX_AGE_MS = 30_000;
const STREAM_RETRY_MS = 1000;

export interface KillSwitchOptions {
  firebreakUrl: string;
  token: string;
  agentId: string;
  mode: 'events' | 'polling';
  pollIntervalMs: number;
  /** Called for each stream state change and notification, for the agent's log. */
  onEvent: (e: Record<string, unknown>) => void;
}

export interface Answer {
  allowed: boolean;
  version: number | undefined;
  incident: string | undefined;
  /** Why the SDK returned the default, when it did (the fail-closed cases). */
  error: string | undefined;
}

interface Held extends Answer {
  at: number;
  generation: number;
}

/**
 * The OpenFeature `after` hook: no genuine, fresh, matching document means no answer (→ false).
 * `keys` resolves the JWS key (jose's createRemoteJWKSet on `/.well-known/jwks.json`, or
 * createLocalJWKSet). The document must be for the context's `targetingKey`, and no older than the
 * newest one this hook has accepted for that agent.
 */
export function statusDocumentHook(keys: JWTVerifyGetKey): Hook {
  const highest = new Map<string, number>();
  return {
    async after(hookContext, details) {
      const jws = details.flagMetadata.status_jws;
      if (typeof jws !== 'string') throw new Error('answer carries no status document');
      const { payload } = await jwtVerify(jws, keys, { algorithms: ['EdDSA'], typ: 'firebreak-status+jwt' });
      const agent = hookContext.context.targetingKey;
      if (typeof agent !== 'string' || payload.agent_id !== agent)
        throw new Error('status document is for another agent');
      const version = payload.version;
      const held = highest.get(agent) ?? 0;
      if (typeof version !== 'number' || version < held)
        throw new Error(`status document version ${String(version)} is older than ${held}`);
      highest.set(agent, version);
      const blocked = Array.isArray(payload.blocked_tools) ? (payload.blocked_tools as unknown[]) : [];
      const tool = hookContext.context.tool;
      if (
        details.value === true &&
        (payload.status !== 'enabled' || (hookContext.flagKey === TOOL_ALLOWED && blocked.includes(tool)))
      )
        throw new Error('value contradicts the status document');
    },
  };
}

export class KillSwitch {
  private readonly flags: Client;
  private agentAnswer: Held | undefined;
  private readonly toolAnswers = new Map<string, Held>();
  /** Raised by every notification and stream state change: held answers of older ones are stale. */
  private generation = 0;
  private streamUp = false;
  private stream: AbortController | undefined;

  private constructor(private readonly o: KillSwitchOptions) {
    this.flags = OpenFeature.getClient(`firebreak-${o.agentId}`);
    this.flags.addHooks(
      statusDocumentHook(createRemoteJWKSet(new URL('/.well-known/jwks.json', o.firebreakUrl))),
    );
  }

  static async open(o: KillSwitchOptions): Promise<KillSwitch> {
    await OpenFeature.setProviderAndWait(
      `firebreak-${o.agentId}`,
      new OFREPProvider({
        baseUrl: o.firebreakUrl,
        headers: { Authorization: `Bearer ${o.token}` },
        // An unanswered evaluation is an error (→ false) after 3 s, not a hung agent.
        fetchImplementation: (input: Parameters<typeof fetch>[0], init?: RequestInit) =>
          fetch(input, { ...init, signal: AbortSignal.timeout(3000) }),
      }),
    );
    return new KillSwitch(o);
  }

  /** Whether the agent may take a step (held answer if still fresh, else evaluated now). */
  async agent(): Promise<Answer> {
    if (!this.fresh(this.agentAnswer)) this.agentAnswer = await this.evaluate(AGENT_ENABLED, {});
    return this.agentAnswer!;
  }

  /** Whether the agent may call this tool: the agent flag first, then the tool's own. */
  async tool(tool: string): Promise<Answer> {
    const agent = await this.agent();
    if (!agent.allowed) return agent;
    const held = this.toolAnswers.get(tool);
    if (this.fresh(held)) return held!;
    const a = await this.evaluate(TOOL_ALLOWED, { tool });
    this.toolAnswers.set(tool, a);
    return a;
  }

  /** Forgets every held answer: the next check evaluates. */
  invalidate(): void {
    this.generation += 1;
  }

  /** Starts following the event stream (events mode); `onChange` runs after each notification. */
  listen(onChange: () => void): void {
    if (this.o.mode !== 'events' || this.stream) return;
    this.stream = new AbortController();
    void this.follow(this.stream.signal, onChange);
  }

  async close(): Promise<void> {
    this.stream?.abort();
    await OpenFeature.close();
  }

  private fresh(a: Held | undefined): boolean {
    if (!a) return false;
    const age = Date.now() - a.at;
    if (this.o.mode === 'polling') return age < this.o.pollIntervalMs;
    return this.streamUp && a.generation === this.generation && age < MAX_AGE_MS;
  }

  private async evaluate(flag: string, extra: Record<string, string>): Promise<Held> {
    const generation = this.generation;
    const d = await this.flags.getBooleanDetails(flag, false, { targetingKey: this.o.agentId, ...extra });
    const version = d.flagMetadata.status_version;
    const incident = d.flagMetadata.incident_id;
    return {
      allowed: d.value === true && d.errorCode === undefined,
      version: typeof version === 'number' ? version : undefined,
      incident: typeof incident === 'string' ? incident : undefined,
      error: d.errorCode === undefined ? undefined : `${d.errorCode}: ${d.errorMessage ?? ''}`,
      at: Date.now(),
      generation,
    };
  }

  /** The stream URI as the bulk evaluation announces it (OFREP `eventStreams`). */
  private async streamUrl(): Promise<URL> {
    const res = await fetch(new URL('/ofrep/v1/evaluate/flags', this.o.firebreakUrl), {
      method: 'POST',
      headers: { authorization: `Bearer ${this.o.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ context: { targetingKey: this.o.agentId } }),
    });
    if (!res.ok) throw new Error(`bulk evaluation: HTTP ${res.status}`);
    const body = (await res.json()) as {
      eventStreams?: { type: string; endpoint?: { requestUri?: string; url?: string } }[];
    };
    const sse = body.eventStreams?.find((s) => s.type === 'sse')?.endpoint;
    const uri = sse?.url ?? sse?.requestUri;
    if (!uri) throw new Error('the bulk evaluation announces no event stream');
    return new URL(uri, this.o.firebreakUrl);
  }

  private async follow(signal: AbortSignal, onChange: () => void): Promise<void> {
    while (!signal.aborted) {
      try {
        const res = await fetch(await this.streamUrl(), {
          headers: { authorization: `Bearer ${this.o.token}`, accept: 'text/event-stream' },
          signal,
        });
        if (!res.ok || !res.body) throw new Error(`event stream: HTTP ${res.status}`);
        const decoder = new TextDecoder();
        let buffer = '';
        for await (const chunk of res.body) {
          buffer += decoder.decode(chunk as Uint8Array, { stream: true });
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const data = buffer
              .slice(0, end)
              .split('\n')
              .filter((l) => l.startsWith('data:'))
              .map((l) => l.slice(5).trim())
              .join('\n');
            buffer = buffer.slice(end + 2);
            if (data) this.onMessage(JSON.parse(data) as { type?: string; etag?: string }, onChange);
          }
        }
        throw new Error('event stream closed');
      } catch (err) {
        if (signal.aborted) return;
        if (this.streamUp) {
          this.streamUp = false;
          this.invalidate();
          this.o.onEvent({ event: 'stream', state: 'lost', error: (err as Error).message });
        }
        await new Promise((r) => setTimeout(r, STREAM_RETRY_MS));
      }
    }
  }

  private onMessage(msg: { type?: string; etag?: string }, onChange: () => void): void {
    if (msg.type === 'connected') {
      this.streamUp = true;
      this.invalidate(); // anything that changed before the stream was up is read afresh
      this.o.onEvent({ event: 'stream', state: 'connected' });
    } else if (msg.type === 'refetchEvaluation') {
      this.invalidate();
      this.o.onEvent({ event: 'notified', etag: msg.etag });
      onChange();
    }
  }
}
