/**
 * The OPA decision-log endpoint (`POST /v1/connectors/opa/decision-logs`) and the gateway record
 * read from it: a sender's own token (never stored or logged), gzip bodies as OPA sends them,
 * tool-call decisions stored verbatim once per decision_id (a retried upload adds nothing), other
 * decisions ignored but counted for how far the record reaches, a 400 naming the field of a bad
 * event, bounded bodies, and rate limits for refused and accepted uploads.
 */
import zlib from 'node:zlib';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../api/app';
import { MAX_DECISION_LOG_BYTES } from '../../api/routes/opa-decision-logs';
import { parseFileConfig, sha256Hex } from '../../app/config-file';
import { opaDecisionLog } from '../../connectors/opa-decision-log';
import { decisionEventsOf, decisionLogSenders } from '../../db/opa-decision-logs';
import { filesContaining } from '../connectors/fixtures';
import { startTestStack, TEST_ADMIN_TOKEN, type TestStack } from '../helpers/stack';

const TOKEN = 'decision-log-token-0123456789abcdef';
const OTHER = 'other-opa-token-0123456789abcdef';
const PATH = '/v1/connectors/opa/decision-logs';

const fileConfig = parseFileConfig(
  {
    opa_decision_logs: {
      senders: [
        { name: 'gateway-opa', token_env: 'DL_TOKEN' },
        { name: 'other-opa', token_sha256: sha256Hex(OTHER) },
      ],
      rate_limit: { per_second: 0.001, burst: 30 },
      refused_rate_limit: { per_second: 0.001, burst: 3 },
    },
  },
  { DL_TOKEN: TOKEN },
  'test config',
);

let stack: TestStack;
let app: App;
const logLines: string[] = [];
beforeAll(async () => {
  stack = await startTestStack({ withWorker: false });
  const log = pino({ level: 'debug' }, { write: (line: string) => void logLines.push(line) });
  app = createApp({ ...stack, log, fileConfig });
});
afterAll(async () => {
  await stack?.close();
});

let seq = 0;
/** One event as OPA 1.22 writes it for the proxy's query (fields in OPA's order). */
function event(over: { agent?: string; tool?: string; allow?: boolean; at?: string; input?: unknown } = {}) {
  seq += 1;
  return {
    labels: { app: 'opa-mcp-proxy', id: 'opa-instance-1', version: '1.22.3' },
    decision_id: `dec-${seq}-${Math.random().toString(36).slice(2)}`,
    path: 'firebreak/authz/decision',
    // An overriding input (another query's) has no tool_call: its id is then unused.
    input: (over.input ?? {
      agent_id: over.agent ?? 'agent-dl',
      tool: over.tool ?? 'lookup',
      tool_call: { id: `call-${seq}`, jsonrpc_id: seq, arguments_sha256: 'ab'.repeat(32) },
    }) as { tool_call: { id: string } },
    result: {
      agent_id: over.agent ?? 'agent-dl',
      allow: over.allow ?? true,
      reasons: over.allow === false ? ['agent disabled'] : [],
    },
    requested_by: '127.0.0.1:59236',
    timestamp: over.at ?? `2026-12-02T05:56:${String(10 + (seq % 40)).padStart(2, '0')}.6338101Z`,
    metrics: { timer_rego_query_eval_ns: 2567001 },
    req_id: seq,
  };
}

async function upload(body: unknown, opts: { token?: string; gzip?: boolean; raw?: Buffer } = {}) {
  const json = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  const gzip = opts.gzip ?? true;
  const res = await app.request(PATH, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(gzip ? { 'content-encoding': 'gzip' } : {}),
      ...(opts.token === '' ? {} : { authorization: `Bearer ${opts.token ?? TOKEN}` }),
    },
    body: opts.raw ?? (gzip ? zlib.gzipSync(json) : json),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
}

describe('OPA decision-log uploads', () => {
  it('stores the tool-call decisions of a gzip upload verbatim, once per decision_id', async () => {
    const allowed = event({ tool: 'lookup', at: '2026-12-02T05:56:01.1Z' });
    const refused = event({ tool: 'query', allow: false, at: '2026-12-02T05:56:02.123456789Z' });
    // Firebreak's own verification query (no tool_call) and a data read: not tool calls.
    const verification = event({ input: { agent_id: 'agent-dl' }, at: '2026-12-02T05:56:03.5Z' });
    const first = await upload([allowed, refused, verification]);
    expect(first).toMatchObject({
      status: 200,
      body: { received: 3, tool_calls: 2, stored: 2, duplicates: 0 },
    });
    // OPA retries an upload it got no 2xx for: the same events again add nothing.
    const again = await upload([refused, allowed]);
    expect(again.body).toMatchObject({ received: 2, tool_calls: 2, stored: 0, duplicates: 2 });

    const log = opaDecisionLog(stack.db, ['gateway-opa']);
    const r = await log.toolCalls({
      agentId: 'agent-dl',
      start: new Date('2026-12-02T05:56:00Z'),
      end: new Date('2026-12-02T05:56:02.123Z'),
    });
    expect(r.calls).toEqual([
      {
        at: '2026-12-02T05:56:01.100000000Z',
        tool: 'lookup',
        call_id: allowed.input.tool_call.id,
        outcome: 'allowed',
        stored: allowed,
      },
      // The window's end bound covers its whole millisecond.
      {
        at: '2026-12-02T05:56:02.123456789Z',
        tool: 'query',
        call_id: refused.input.tool_call.id,
        outcome: 'refused',
        stored: refused,
      },
    ]);
    // How far the record reaches counts every decision, the verification query included.
    expect(r.coverage).toEqual([
      {
        from: 'gateway-opa (OPA opa-instance-1)',
        newest_event_at: '2026-12-02T05:56:03.500000000Z',
        last_upload_at: expect.any(String),
      },
    ]);
    // Another agent's calls and another sender's are not in this agent's record.
    await upload([event({ agent: 'agent-other', at: '2026-12-02T05:56:01.5Z' })]);
    await upload([event({ at: '2026-12-02T05:56:01.7Z' })], { token: OTHER });
    const again2 = await log.toolCalls({
      agentId: 'agent-dl',
      start: new Date('2026-12-02T05:56:00Z'),
      end: new Date('2026-12-02T05:56:03Z'),
    });
    expect(again2.calls.map((c) => c.call_id)).toEqual([
      allowed.input.tool_call.id,
      refused.input.tool_call.id,
    ]);
    expect((await decisionLogSenders(stack.db)).map((s) => s.sender)).toEqual(['gateway-opa', 'other-opa']);
    // Stored as OPA sent it: the same JSON text, keys in OPA's order.
    const rows = await decisionEventsOf(stack.db, { agentId: 'agent-dl', start: '0', end: '9' });
    expect(rows.find((x) => x.decisionId === refused.decision_id)?.event).toBe(JSON.stringify(refused));
  });

  it('keeps the newest decision time when an older batch arrives later', async () => {
    await upload([event({ at: '2026-12-02T06:10:00Z' })], { token: OTHER });
    await upload([event({ at: '2026-12-02T06:00:00Z' })], { token: OTHER });
    const other = (await decisionLogSenders(stack.db)).find((s) => s.sender === 'other-opa');
    expect(other?.newestAt).toBe('2026-12-02T06:10:00.000000000Z');
  });

  it('accepts a plain JSON body too', async () => {
    const r = await upload([event()], { gzip: false });
    expect(r).toMatchObject({ status: 200, body: { stored: 1 } });
  });

  it('refuses malformed uploads with a 400 naming the field, storing nothing of them', async () => {
    const ok = event();
    const cases: [unknown, string][] = [
      [{ decision_id: 'x' }, '(body)'],
      [[ok, { ...event(), decision_id: undefined }], '1.decision_id'],
      [[{ ...event(), timestamp: 'yesterday' }], '0.timestamp'],
      [[{ ...event(), labels: 'opa' }], '0.labels'],
    ];
    for (const [body, field] of cases) {
      const r = await upload(body);
      expect(r.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(r.body.error.field).toBe(field);
    }
    const notJson = await upload('[{"decision_id":');
    expect(notJson).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid_json', field: '(body)' } },
    });
    const notGzip = await upload([], { raw: Buffer.from('not gzip') });
    expect(notGzip).toMatchObject({ status: 400, body: { error: { field: '(body)' } } });
    const log = opaDecisionLog(stack.db, ['gateway-opa'], { waitForUploadMs: 0 });
    const calls = await log.toolCalls({ agentId: 'agent-dl', start: new Date(0), end: new Date() });
    expect(calls.calls.map((c) => c.call_id)).not.toContain(ok.input.tool_call.id);

    const res = await app.request(PATH, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-encoding': 'br' },
      body: '[]',
    });
    expect(res.status).toBe(415);
    expect(((await res.json()) as any).error.field).toBe('content-encoding');
  });

  it('a collection waits for the upload that reaches its end, and says how far it got when none comes', async () => {
    const end = new Date();
    const log = opaDecisionLog(stack.db, ['gateway-opa'], { waitForUploadMs: 120_000, pollMs: 20 });
    let settled = false;
    const pending = log.toolCalls({ agentId: 'agent-wait', start: new Date(end.getTime() - 60_000), end });
    void pending.then(() => (settled = true));
    // An upload whose newest decision is before the end does not complete the record.
    const early = event({ agent: 'agent-wait', at: new Date(end.getTime() - 1000).toISOString() });
    expect((await upload([early])).status).toBe(200);
    expect(settled).toBe(false);
    // The refusal OPA decided just before the end arrives with the batch that reaches past it.
    const refusedAtEnd = event({
      agent: 'agent-wait',
      allow: false,
      at: new Date(end.getTime() - 1).toISOString(),
    });
    const past = event({
      input: { agent_id: 'agent-wait' },
      at: new Date(end.getTime() + 500).toISOString(),
    });
    expect((await upload([refusedAtEnd, past])).status).toBe(200);
    const r = await pending;
    expect(r.calls.map((c) => [c.call_id, c.outcome])).toEqual([
      [early.input.tool_call.id, 'allowed'],
      [refusedAtEnd.input.tool_call.id, 'refused'],
    ]);

    // No upload past the end within the wait: the answer comes anyway, saying where the record stops.
    const later = new Date(Date.now() + 3_600_000);
    const short = opaDecisionLog(stack.db, ['gateway-opa'], { waitForUploadMs: 50, pollMs: 10 });
    const behind = await short.toolCalls({ agentId: 'agent-wait', start: new Date(0), end: later });
    const reach = behind.coverage.find((c) => c.from.startsWith('gateway-opa'))!;
    expect(Date.parse(reach.newest_event_at)).toBeLessThan(later.getTime());
  });

  it('refuses a body that decompresses past the limit with 413', async () => {
    const bomb = zlib.gzipSync(Buffer.alloc(MAX_DECISION_LOG_BYTES + 1, 0x20));
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const r = await upload([], { raw: bomb });
    expect(r).toMatchObject({ status: 413, body: { error: { code: 'payload_too_large' } } });
  });

  it('refuses a missing or unknown token with 401, then rate limits the address', async () => {
    const none = await upload([event()], { token: '' });
    expect(none).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
    const bad = await upload([event()], { token: 'not-a-decision-log-token' });
    expect(bad.status).toBe(401);
    // A runtime or API token is no decision-log token either.
    const admin = await upload([event()], { token: TEST_ADMIN_TOKEN });
    expect(admin.status).toBe(401);
    const limited = await upload([event()], { token: 'still-not-a-token' });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('rate limits a sender once its burst is spent, with Retry-After', async () => {
    let last;
    for (let i = 0; i < 40; i++) {
      last = await upload([event()], { token: OTHER });
      if (last.status !== 200) break;
    }
    expect(last!.status).toBe(429);
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('never writes a decision-log token to the logs or the database', () => {
    for (const t of [TOKEN, OTHER]) {
      expect(logLines.join('\n')).not.toContain(t);
      expect(filesContaining(stack.dataDir, t)).toEqual([]);
    }
  });

  it('refuses a short token and a duplicate sender name at start-up, naming the setting', () => {
    expect(() =>
      parseFileConfig(
        { opa_decision_logs: { senders: [{ name: 'a', token_env: 'T' }] } },
        { T: 'short' },
        'cfg',
      ),
    ).toThrow(/opa_decision_logs\.senders\.0\.token_env: .*at least 16/);
    expect(() =>
      parseFileConfig(
        {
          opa_decision_logs: {
            senders: [
              { name: 'a', token_sha256: sha256Hex('x') },
              { name: 'a', token_sha256: sha256Hex('y') },
            ],
          },
        },
        {},
        'cfg',
      ),
    ).toThrow(/opa_decision_logs\.senders: name a appears twice/);
  });
});
