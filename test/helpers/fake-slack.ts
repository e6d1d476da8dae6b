/**
 * A fake Slack Web API on loopback for tests: Bolt's client and Firebreak's activities talk to it
 * over real HTTP (SLACK_API_URL). It refuses what real Slack refuses, so a test passing here means
 * something: the bot scopes are exactly those of slack/manifest.yaml (`missing_scope`), Block Kit
 * limits are checked on every message and modal (slack-limits.ts → `invalid_blocks` with
 * `response_metadata.messages`), ephemerals need the user in the channel (`user_not_in_channel`),
 * private channels need the bot as a member (`channel_not_found`), public ones need membership
 * or chat:write.public (`not_in_channel`), chat.update needs the message (`message_not_found`),
 * archived channels refuse posts (`is_archived`), message metadata must be an object with a string
 * `event_type` and an object `event_payload` (`invalid_metadata_format`, `invalid_metadata_schema`)
 * and history returns it only with `include_all_metadata`, thread replies come only from
 * conversations.replies, trigger ids expire after 3 s and work once, and a response_url takes at
 * most 5 replies within 30 minutes. Faults come on demand (`fault()`): 429 with Retry-After, 5xx,
 * an `ok:false` code, or a call performed and then answered with an error. Every call is recorded.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseYaml } from 'yaml';
import { blockProblems, chars, LIMITS, viewProblems } from './slack-limits';

export interface SlackCall {
  method: string;
  args: Record<string, any>;
  /** true when the fake answered with an error (injected fault or refusal). */
  failed: boolean;
  /** The error code Slack answered with, when it did. */
  error?: string;
}

export interface FakeMessage {
  ts: string;
  text: string;
  blocks: unknown[];
  user: string;
  thread_ts?: string;
  client_msg_id?: string;
  /** Message metadata as chat.postMessage / chat.update set it (`event_type`, `event_payload`). */
  metadata?: { event_type: string; event_payload: Record<string, unknown> };
}

export interface FakeChannel {
  id: string;
  name: string;
  members: Set<string>;
  archived: boolean;
  private: boolean;
}

/** A fault to inject: which methods (all when omitted), how, for how long or how many calls. */
export interface Fault {
  methods?: string[];
  /** HTTP status to answer with: 429 (with Retry-After) or a 5xx. */
  status?: 429 | 500 | 502 | 503;
  /** An `ok:false` code answered with HTTP 200 (e.g. `internal_error`, `fatal_error`). */
  error?: string;
  /** With `error`: the `response_metadata.messages` Slack adds (e.g. for invalid_blocks). */
  messages?: string[];
  /** Perform the call first, then answer with the error (Slack's partial success). */
  performed?: boolean;
  retryAfterSeconds?: number;
  /** Ends after this many milliseconds … */
  forMs?: number;
  /** … or after this many calls it matched. */
  times?: number;
}

interface ActiveFault extends Fault {
  until: number;
  remaining: number;
}

export const BOT_USER = 'UBOT0001';

/** Text as Slack encodes what people type: &, < and > escaped; its own <@U…>, <!…>, <#…> kept. */
export function slackEncoded(text: string): string {
  const entity: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };
  return text.replace(/<[@#!][^<>]*>|[&<>]/g, (m) => entity[m] ?? m);
}
const TRIGGER_TTL_MS = 3000;
const RESPONSE_URL_USES = 5;
const RESPONSE_URL_TTL_MS = 30 * 60_000;

/** The bot scopes slack/manifest.yaml asks for. */
export function manifestScopes(path = new URL('../../slack/manifest.yaml', import.meta.url)): string[] {
  const manifest = parseYaml(fs.readFileSync(path, 'utf8')) as {
    oauth_config?: { scopes?: { bot?: string[] } };
  };
  return manifest.oauth_config?.scopes?.bot ?? [];
}

function parseArgs(raw: string, contentType: string): Record<string, any> {
  if (contentType.includes('json')) return raw ? (JSON.parse(raw) as Record<string, any>) : {};
  const out: Record<string, any> = {};
  for (const [k, v] of new URLSearchParams(raw)) {
    out[k] = v.startsWith('[') || v.startsWith('{') ? safeJson(v) : v;
  }
  return out;
}

function safeJson(v: string): unknown {
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

type Answer = { status: number; body: Record<string, unknown>; headers: Record<string, string> };
const ok = (body: Record<string, unknown>): Answer => ({
  status: 200,
  body: { ok: true, ...body },
  headers: {},
});
const refuse = (error: string, extra: Record<string, unknown> = {}): Answer => ({
  status: 200,
  body: { ok: false, error, ...extra },
  headers: {},
});

export class FakeSlack {
  readonly calls: SlackCall[] = [];
  private server: http.Server | undefined;
  private faults: ActiveFault[] = [];
  private seq = 0;
  readonly channels = new Map<string, FakeChannel>();
  readonly messages = new Map<string, FakeMessage[]>();
  readonly users = new Map<string, { id: string; name: string; real_name: string }>();
  /** Trigger ids already exchanged for a modal (single use). */
  private readonly usedTriggers = new Set<string>();
  private readonly responseUses = new Map<string, number>();
  /** The bot's scopes; from slack/manifest.yaml unless the test says otherwise. */
  scopes: Set<string>;
  url = '';
  /** Users Slack will not invite (guests, deactivated): a batch with any of them is refused. */
  readonly uninvitable = new Set<string>();
  /** When set, Web API calls with another bearer token get `invalid_auth`, as Slack answers. */
  token: string | undefined;

  constructor(opts: { scopes?: string[] } = {}) {
    this.scopes = new Set(opts.scopes ?? manifestScopes());
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
      req.on('end', () => {
        const answer = this.route(
          req.url ?? '',
          raw,
          req.headers['content-type'] ?? '',
          req.headers.authorization,
        );
        res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
        res.end(JSON.stringify(answer.body));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', () => resolve()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** What SLACK_API_URL should be set to. */
  get apiUrl(): string {
    return `${this.url}/api/`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  /** Injects a fault (see Fault); returns a function that lifts it. */
  fault(f: Fault): () => void {
    const active: ActiveFault = {
      ...f,
      until: f.forMs === undefined ? Infinity : Date.now() + f.forMs,
      remaining: f.times ?? Infinity,
    };
    this.faults.push(active);
    return () => {
      this.faults = this.faults.filter((x) => x !== active);
    };
  }

  /** Every Web API call from now on fails with `status` for `ms` milliseconds (replacing other faults). */
  failFor(ms: number, status: 500 | 429, retryAfterSeconds = 1): void {
    this.clearFaults();
    this.fault({ status, forMs: ms, retryAfterSeconds });
  }

  clearFaults(): void {
    this.faults = [];
  }

  /** Successful calls of `method` (all when omitted). */
  sent(method?: string): SlackCall[] {
    return this.calls.filter((c) => !c.failed && (!method || c.method === method));
  }

  failedCalls(): SlackCall[] {
    return this.calls.filter((c) => c.failed);
  }

  channelByName(name: string) {
    return [...this.channels.values()].find((c) => c.name === name);
  }

  /** Adds a channel as if someone had created it in Slack before Firebreak. */
  addChannel(name: string, opts: { archived?: boolean; private?: boolean; members?: string[] } = {}): string {
    const id = `${opts.private ? 'G' : 'C'}${String(++this.seq).padStart(8, '0')}`;
    this.channels.set(id, {
      id,
      name,
      members: new Set(opts.members ?? []),
      archived: opts.archived ?? false,
      private: opts.private ?? false,
    });
    this.messages.set(id, []);
    return id;
  }

  /**
   * Posts a message as a person (for reactions and history tests); `threadTs` makes it a reply.
   * Slack stores what people type with &, < and > escaped, and the Web API returns it so.
   */
  addMessage(channel: string, text: string, user = 'UHUMAN01', threadTs?: string): string {
    const ts = this.nextTs();
    this.messages.get(channel)?.push({
      ts,
      text: slackEncoded(text),
      blocks: [],
      user,
      ...(threadTs ? { thread_ts: threadTs } : {}),
    });
    return ts;
  }

  /** Deletes a message as a person would (chat.update on it then gets message_not_found). */
  deleteMessage(channel: string, ts: string): void {
    const list = this.messages.get(channel);
    if (list)
      this.messages.set(
        channel,
        list.filter((m) => m.ts !== ts),
      );
  }

  message(channel: string, ts: string): FakeMessage | undefined {
    return this.messages.get(channel)?.find((m) => m.ts === ts);
  }

  /** Replies that reached `path` (`/respond/<id>`), in order. */
  responses(path: string): Record<string, any>[] {
    return this.sent('response_url')
      .filter((c) => c.args.path === path)
      .map((c) => c.args);
  }

  /** Message timestamps as Slack makes them: the post's time in seconds, unique and increasing. */
  private nextTs(): string {
    const seconds = Math.max(Math.floor(Date.now() / 1000), this.lastTsSeconds);
    this.lastTsSeconds = seconds;
    return `${seconds}.${String(++this.seq % 1_000_000).padStart(6, '0')}`;
  }
  private lastTsSeconds = 0;

  private record(method: string, args: Record<string, any>, a: Answer): Answer {
    const failed = a.status !== 200 || a.body.ok === false;
    this.calls.push({ method, args, failed, ...(failed ? { error: String(a.body.error) } : {}) });
    return a;
  }

  private route(url: string, raw: string, contentType: string, authorization: string | undefined): Answer {
    const path = url.split('?')[0] ?? '';
    const args = parseArgs(raw, contentType);
    if (path.startsWith('/respond/'))
      return this.record('response_url', { ...args, path }, this.respond(path, args));
    const method = path.replace(/^\/api\//, '');
    const fault = this.faults.find(
      (f) => Date.now() < f.until && f.remaining > 0 && (!f.methods || f.methods.includes(method)),
    );
    if (fault) {
      fault.remaining--;
      if (fault.performed) this.answer(method, args);
      if (fault.status) {
        return this.record(method, args, {
          status: fault.status,
          body: { ok: false, error: fault.status === 429 ? 'ratelimited' : 'internal_error' },
          headers: fault.status === 429 ? { 'retry-after': String(fault.retryAfterSeconds ?? 1) } : {},
        });
      }
      const extra = fault.messages ? { response_metadata: { messages: fault.messages } } : {};
      return this.record(method, args, refuse(fault.error ?? 'internal_error', extra));
    }
    if (this.token && authorization !== `Bearer ${this.token}`)
      return this.record(method, args, refuse('invalid_auth'));
    return this.record(method, args, this.answer(method, args));
  }

  /** A response_url: at most 5 replies, within 30 minutes of the payload (ids carry their time). */
  private respond(path: string, args: Record<string, any>): Answer {
    const issued = Number(/^\/respond\/(\d+)\./.exec(path)?.[1]);
    if (Number.isFinite(issued) && Date.now() - issued > RESPONSE_URL_TTL_MS) return refuse('expired_url');
    const uses = (this.responseUses.get(path) ?? 0) + 1;
    if (uses > RESPONSE_URL_USES) return refuse('used_url');
    this.responseUses.set(path, uses);
    const problems = blockProblems(args.blocks, 'message');
    if (problems.length > 0) return refuse('invalid_blocks', { response_metadata: { messages: problems } });
    return ok({});
  }

  /** The scope `method` needs on `channel` (public and private channels need different ones). */
  private scopeFor(method: string, a: Record<string, any>): string | undefined {
    const priv = a.is_private === true || a.is_private === 'true' || this.channels.get(a.channel)?.private;
    switch (method) {
      case 'chat.postMessage':
      case 'chat.update':
      case 'chat.postEphemeral':
        return 'chat:write';
      case 'conversations.create':
      case 'conversations.invite':
        return priv ? 'groups:write' : 'channels:manage';
      case 'conversations.join':
        return 'channels:join';
      case 'conversations.list':
        return String(a.types ?? 'public_channel').includes('private') ? 'groups:read' : 'channels:read';
      case 'conversations.info':
        return priv ? 'groups:read' : 'channels:read';
      case 'conversations.history':
      case 'conversations.replies':
        return priv ? 'groups:history' : 'channels:history';
      case 'users.info':
        return 'users:read';
      case 'reactions.get':
        return 'reactions:read';
      case 'reactions.add':
        return 'reactions:write';
      default:
        return undefined;
    }
  }

  private answer(method: string, a: Record<string, any>): Answer {
    const needed = this.scopeFor(method, a);
    if (needed && !this.scopes.has(needed))
      return refuse('missing_scope', { needed, provided: [...this.scopes].join(',') });
    if (method.startsWith('conversations.list')) return this.list(a);
    switch (method) {
      case 'auth.test':
        return ok({ user_id: BOT_USER, bot_id: 'BBOT0001', team_id: 'T0001', user: 'firebreak' });
      case 'conversations.create':
        return this.create(a);
      case 'conversations.join':
      case 'conversations.info':
        return this.joinOrInfo(method, a);
      case 'conversations.invite':
        return this.invite(a);
      case 'conversations.history':
      case 'conversations.replies':
        return this.read(method, a);
      case 'chat.postMessage':
        return this.post(a);
      case 'chat.update':
        return this.update(a);
      case 'chat.postEphemeral':
        return this.ephemeral(a);
      case 'views.open':
        return this.openView(a);
      case 'users.info': {
        const u = this.users.get(a.user) ?? {
          id: a.user,
          name: String(a.user).toLowerCase(),
          real_name: a.user,
        };
        return ok({ user: u });
      }
      case 'reactions.add':
      case 'reactions.get':
        return ok({});
      default:
        return refuse('unknown_method');
    }
  }

  /** A channel the bot can see: public ones always, private ones only as a member. */
  private visible(id: unknown): FakeChannel | undefined {
    const c = this.channels.get(String(id));
    return c && (!c.private || c.members.has(BOT_USER)) ? c : undefined;
  }

  private list(a: Record<string, any>): Answer {
    const types = String(a.types ?? 'public_channel');
    const channels = [...this.channels.values()]
      .filter((c) =>
        c.private
          ? types.includes('private_channel') && c.members.has(BOT_USER)
          : types.includes('public_channel'),
      )
      .map((c) => ({ id: c.id, name: c.name, is_archived: c.archived, is_private: c.private }));
    return ok({ channels, response_metadata: { next_cursor: '' } });
  }

  private create(a: Record<string, any>): Answer {
    const name = String(a.name ?? '');
    if (!/^[a-z0-9][a-z0-9_-]*$/.test(name)) return refuse('invalid_name_specials');
    if (chars(name) > 80) return refuse('invalid_name_maxlength');
    if (this.channelByName(name)) return refuse('name_taken');
    const priv = a.is_private === true || a.is_private === 'true';
    const id = this.addChannel(name, { private: priv, members: [BOT_USER] });
    return ok({ channel: { id, name, is_channel: true, is_private: priv } });
  }

  private joinOrInfo(method: string, a: Record<string, any>): Answer {
    const raw = this.channels.get(String(a.channel));
    if (method === 'conversations.join' && raw?.private)
      return refuse('method_not_supported_for_channel_type');
    const c = this.visible(a.channel);
    if (!c) return refuse('channel_not_found');
    if (method === 'conversations.join') {
      if (c.archived) return refuse('is_archived');
      c.members.add(BOT_USER);
    }
    return ok({ channel: { id: c.id, name: c.name, is_archived: c.archived, is_private: c.private } });
  }

  private invite(a: Record<string, any>): Answer {
    const c = this.visible(a.channel);
    if (!c) return refuse('channel_not_found');
    if (c.archived) return refuse('is_archived');
    if (!c.members.has(BOT_USER)) return refuse('not_in_channel');
    const users = String(a.users).split(',').filter(Boolean);
    if (users.length === 0) return refuse('no_user');
    if (users.some((u) => this.uninvitable.has(u))) return refuse('cant_invite');
    if (users.every((u) => c.members.has(u))) return refuse('already_in_channel');
    users.forEach((u) => c.members.add(u));
    return ok({ channel: { id: c.id } });
  }

  /** history: top-level messages only (newest first, bounded by latest/inclusive); replies: a thread. */
  private read(method: string, a: Record<string, any>): Answer {
    const c = this.visible(a.channel);
    if (!c) return refuse('channel_not_found');
    if (!c.members.has(BOT_USER)) return refuse('not_in_channel');
    const all = this.messages.get(c.id) ?? [];
    const limit = Number(a.limit ?? 100);
    if (method === 'conversations.replies') {
      // Slack takes the parent's ts or any reply's; either way, the thread comes back.
      const hit = all.find((m) => m.ts === a.ts);
      const parent = hit?.thread_ts ? all.find((m) => m.ts === hit.thread_ts) : hit;
      if (!parent) return refuse('thread_not_found');
      const thread = [parent, ...all.filter((m) => m.thread_ts === parent.ts && m.ts !== parent.ts)];
      return ok({ messages: thread.slice(0, limit), has_more: false });
    }
    const inclusive = a.inclusive === true || a.inclusive === 'true';
    const latest = a.latest === undefined ? Infinity : Number(a.latest);
    const oldest = a.oldest === undefined ? 0 : Number(a.oldest);
    const withMetadata = a.include_all_metadata === true || a.include_all_metadata === 'true';
    const top = all
      .filter((m) => !m.thread_ts || m.thread_ts === m.ts)
      .filter((m) => (inclusive ? Number(m.ts) <= latest : Number(m.ts) < latest))
      .filter((m) => (inclusive ? Number(m.ts) >= oldest : Number(m.ts) > oldest))
      .sort((x, y) => Number(y.ts) - Number(x.ts))
      .map((m) => (withMetadata || !m.metadata ? m : { ...m, metadata: undefined }));
    return ok({ messages: top.slice(0, limit), has_more: top.length > limit });
  }

  /** Where the bot may post: private only as a member; public as a member or with chat:write.public. */
  private postable(channel: unknown): FakeChannel | Answer {
    const id = String(channel);
    const c = this.visible(id) ?? (id.startsWith('#') ? this.channelByName(id.slice(1)) : undefined);
    if (!c || (c.private && !c.members.has(BOT_USER))) return refuse('channel_not_found');
    if (c.archived) return refuse('is_archived');
    if (!c.members.has(BOT_USER) && !this.scopes.has('chat:write.public')) return refuse('not_in_channel');
    return c;
  }

  private content(a: Record<string, any>): Answer | undefined {
    if (!a.text && !a.blocks) return refuse('no_text');
    if (typeof a.text === 'string' && chars(a.text) > LIMITS.messageText) return refuse('msg_too_long');
    const problems = blockProblems(a.blocks, 'message');
    return problems.length > 0
      ? refuse('invalid_blocks', { response_metadata: { messages: problems } })
      : undefined;
  }

  /**
   * Message metadata as Slack checks it: JSON (a form field arrives as a string), an object with
   * a non-empty string `event_type` and an object `event_payload`.
   */
  private metadataOf(raw: unknown): FakeMessage['metadata'] | Answer | undefined {
    if (raw === undefined) return undefined;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
      return refuse('invalid_metadata_format');
    const m = raw as Record<string, unknown>;
    const payload = m.event_payload;
    if (
      typeof m.event_type !== 'string' ||
      m.event_type === '' ||
      typeof payload !== 'object' ||
      payload === null ||
      Array.isArray(payload)
    )
      return refuse('invalid_metadata_schema');
    return { event_type: m.event_type, event_payload: payload as Record<string, unknown> };
  }

  private post(a: Record<string, any>): Answer {
    const c = this.postable(a.channel);
    if (!('id' in c)) return c;
    const bad = this.content(a);
    if (bad) return bad;
    const metadata = this.metadataOf(a.metadata);
    if (metadata && 'status' in metadata) return metadata;
    if (a.thread_ts && !this.message(c.id, String(a.thread_ts))) return refuse('thread_not_found');
    const ts = this.nextTs();
    const msg: FakeMessage = {
      ts,
      text: a.text ?? '',
      blocks: a.blocks ?? [],
      user: BOT_USER,
      ...(a.thread_ts ? { thread_ts: String(a.thread_ts) } : {}),
      ...(a.client_msg_id ? { client_msg_id: String(a.client_msg_id) } : {}),
      ...(metadata ? { metadata } : {}),
    };
    this.messages.get(c.id)!.push(msg);
    return ok({ channel: c.id, ts, message: msg });
  }

  private update(a: Record<string, any>): Answer {
    const c = this.visible(a.channel);
    if (!c) return refuse('channel_not_found');
    if (c.archived) return refuse('is_archived');
    const msg = this.message(c.id, String(a.ts));
    if (!msg) return refuse('message_not_found');
    if (msg.user !== BOT_USER) return refuse('cant_update_message');
    const bad = this.content({ text: a.text ?? msg.text, blocks: a.blocks });
    if (bad) return bad;
    const metadata = this.metadataOf(a.metadata);
    if (metadata && 'status' in metadata) return metadata;
    if (metadata) msg.metadata = metadata;
    msg.text = a.text ?? msg.text;
    msg.blocks = a.blocks ?? msg.blocks;
    return ok({ channel: c.id, ts: msg.ts, text: msg.text });
  }

  private ephemeral(a: Record<string, any>): Answer {
    const c = this.postable(a.channel);
    if (!('id' in c)) return c;
    if (!c.members.has(String(a.user))) return refuse('user_not_in_channel');
    const bad = this.content(a);
    return bad ?? ok({ message_ts: this.nextTs() });
  }

  /** Trigger ids as the test client issues them (`<ms>.<n>.trigger`): 3 s to live, one use. */
  private openView(a: Record<string, any>): Answer {
    const trigger = String(a.trigger_id ?? '');
    const issued = Number(/^(\d+)\.\d+\.trigger$/.exec(trigger)?.[1]);
    if (!Number.isFinite(issued)) return refuse('invalid_trigger_id');
    if (Date.now() - issued > TRIGGER_TTL_MS) return refuse('expired_trigger_id');
    if (this.usedTriggers.has(trigger)) return refuse('exchanged_trigger_id');
    const view = (typeof a.view === 'object' && a.view !== null ? a.view : {}) as Record<string, any>;
    const problems = viewProblems(view);
    if (problems.length > 0)
      return refuse('invalid_arguments', { response_metadata: { messages: problems } });
    this.usedTriggers.add(trigger);
    return ok({ view: { id: `V${++this.seq}`, ...view } });
  }
}

export async function startFakeSlack(opts: { scopes?: string[] } = {}): Promise<FakeSlack> {
  return new FakeSlack(opts).start();
}
