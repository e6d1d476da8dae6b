/**
 * A fake Slack Web API on loopback for tests: Bolt's client and Firebreak's activities talk to it
 * over real HTTP (SLACK_API_URL), it answers the methods Firebreak uses the way Slack does
 * (`{ok, …}` bodies, `name_taken`, `already_in_channel`), keeps channels and messages so chat.update
 * and conversations.history see what was posted, records every call, and can be told to fail
 * (HTTP 500, or 429 with Retry-After) for a while to simulate an outage. It also accepts the
 * POSTs Bolt makes to a command's response_url (at /respond/<id>).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SlackCall {
  method: string;
  args: Record<string, any>;
  /** true when the fake answered with an injected failure. */
  failed: boolean;
}

interface Message {
  ts: string;
  text: string;
  blocks: unknown[];
  user: string;
}

export const BOT_USER = 'UBOT0001';

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

export class FakeSlack {
  readonly calls: SlackCall[] = [];
  private server: http.Server | undefined;
  private failure: { status: 500 | 429; retryAfter: number; until: number } | undefined;
  private seq = 0;
  readonly channels = new Map<
    string,
    { id: string; name: string; members: Set<string>; archived: boolean }
  >();
  readonly messages = new Map<string, Message[]>();
  readonly users = new Map<string, { id: string; name: string; real_name: string }>();
  url = '';
  /** When set, Web API calls with another bearer token get `invalid_auth`, as Slack answers. */
  token: string | undefined;

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

  /** Every Web API call from now on fails with `status` for `ms` milliseconds. */
  failFor(ms: number, status: 500 | 429, retryAfterSeconds = 1): void {
    this.failure = { status, retryAfter: retryAfterSeconds, until: Date.now() + ms };
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
  addChannel(name: string, opts: { archived?: boolean } = {}): string {
    const id = `C${String(++this.seq).padStart(8, '0')}`;
    this.channels.set(id, { id, name, members: new Set(), archived: opts.archived ?? false });
    this.messages.set(id, []);
    return id;
  }

  /** Posts a message as a person (for reactions and history tests). */
  addMessage(channel: string, text: string, user = 'UHUMAN01'): string {
    const ts = this.nextTs();
    this.messages.get(channel)?.push({ ts, text, blocks: [], user });
    return ts;
  }

  message(channel: string, ts: string): Message | undefined {
    return this.messages.get(channel)?.find((m) => m.ts === ts);
  }

  private nextTs(): string {
    return `${1_700_000_000 + ++this.seq}.000${String(this.seq).padStart(3, '0')}`;
  }

  private route(url: string, raw: string, contentType: string, authorization: string | undefined) {
    const path = url.split('?')[0] ?? '';
    const args = parseArgs(raw, contentType);
    if (path.startsWith('/respond/')) {
      this.calls.push({ method: 'response_url', args: { ...args, path }, failed: false });
      return { status: 200, body: { ok: true }, headers: {} };
    }
    const method = path.replace(/^\/api\//, '');
    if (this.failure && Date.now() < this.failure.until) {
      this.calls.push({ method, args, failed: true });
      const { status, retryAfter } = this.failure;
      return {
        status,
        body: { ok: false, error: status === 429 ? 'ratelimited' : 'internal_error' },
        headers: status === 429 ? { 'retry-after': String(retryAfter) } : {},
      };
    }
    if (this.token && authorization !== `Bearer ${this.token}`) {
      this.calls.push({ method, args, failed: true });
      return { status: 200, body: { ok: false, error: 'invalid_auth' }, headers: {} };
    }
    this.calls.push({ method, args, failed: false });
    return { status: 200, body: this.answer(method, args), headers: {} };
  }

  private answer(method: string, a: Record<string, any>): Record<string, unknown> {
    const ch = (id: string) => this.channels.get(id);
    switch (method) {
      case 'auth.test':
        return { ok: true, user_id: BOT_USER, bot_id: 'BBOT0001', team_id: 'T0001', user: 'firebreak' };
      case 'conversations.create': {
        if (this.channelByName(a.name)) return { ok: false, error: 'name_taken' };
        const id = this.addChannel(a.name);
        ch(id)!.members.add(BOT_USER);
        return { ok: true, channel: { id, name: a.name, is_channel: true } };
      }
      case 'conversations.list':
        return {
          ok: true,
          channels: [...this.channels.values()].map((c) => ({
            id: c.id,
            name: c.name,
            is_archived: c.archived,
          })),
          response_metadata: { next_cursor: '' },
        };
      case 'conversations.join':
      case 'conversations.info': {
        const c = ch(a.channel);
        if (!c) return { ok: false, error: 'channel_not_found' };
        if (method === 'conversations.join') c.members.add(BOT_USER);
        return { ok: true, channel: { id: c.id, name: c.name, is_archived: c.archived } };
      }
      case 'conversations.invite': {
        const c = ch(a.channel);
        if (!c) return { ok: false, error: 'channel_not_found' };
        const users = String(a.users).split(',');
        if (users.every((u) => c.members.has(u))) return { ok: false, error: 'already_in_channel' };
        users.forEach((u) => c.members.add(u));
        return { ok: true, channel: { id: c.id } };
      }
      case 'conversations.history': {
        const list = this.messages.get(a.channel) ?? [];
        const hit = list.find((m) => m.ts === a.latest);
        return { ok: true, messages: hit ? [hit] : [], has_more: false };
      }
      case 'chat.postMessage': {
        const id = this.channels.has(a.channel)
          ? a.channel
          : this.channelByName(String(a.channel).replace(/^#/, ''))?.id;
        if (!id) return { ok: false, error: 'channel_not_found' };
        const ts = this.nextTs();
        const msg = { ts, text: a.text ?? '', blocks: a.blocks ?? [], user: BOT_USER };
        this.messages.get(id)!.push(msg);
        return { ok: true, channel: id, ts, message: msg };
      }
      case 'chat.update': {
        const msg = this.message(a.channel, a.ts);
        if (!msg) return { ok: false, error: 'message_not_found' };
        msg.text = a.text ?? msg.text;
        msg.blocks = a.blocks ?? msg.blocks;
        return { ok: true, channel: a.channel, ts: a.ts, text: msg.text };
      }
      case 'chat.postEphemeral':
        return { ok: true, message_ts: this.nextTs() };
      case 'views.open':
        return { ok: true, view: { id: `V${++this.seq}`, ...(typeof a.view === 'object' ? a.view : {}) } };
      case 'users.info': {
        const u = this.users.get(a.user) ?? { id: a.user, name: a.user.toLowerCase(), real_name: a.user };
        return { ok: true, user: u };
      }
      case 'reactions.add':
      case 'reactions.get':
        return { ok: true };
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }
}

export async function startFakeSlack(): Promise<FakeSlack> {
  return new FakeSlack().start();
}
