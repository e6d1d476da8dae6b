/**
 * The fake Slack must refuse what real Slack refuses, or tests passing against it mean nothing
 * (issue 17 §5). Driven through Slack's own Web API client, as Firebreak's code calls it.
 */
import { webApi } from '@slack/bolt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOT_USER, startFakeSlack, type FakeSlack } from '../helpers/fake-slack';
import { SlackClient } from '../helpers/slack-requests';

let fake: FakeSlack;
let client: webApi.WebClient;
beforeAll(async () => {
  fake = await startFakeSlack();
  client = new webApi.WebClient('xoxb-test', {
    slackApiUrl: fake.apiUrl,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    logLevel: webApi.LogLevel.ERROR,
  });
});
afterAll(async () => {
  await fake?.stop();
});

async function errorOf(p: Promise<unknown>): Promise<{ error?: string; data?: any; code?: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as { code?: string; data?: any };
    return { error: e.data?.error, data: e.data, code: e.code };
  }
  throw new Error('the fake accepted it');
}

const section = (text: string, blockId?: string) => ({
  type: 'section',
  ...(blockId ? { block_id: blockId } : {}),
  text: { type: 'mrkdwn', text },
});

describe('the fake Slack', () => {
  it('grants exactly the scopes of slack/manifest.yaml', async () => {
    expect(fake.scopes.has('chat:write')).toBe(true);
    const e = await errorOf(client.users.info({ user: 'UALICE01' }));
    expect(e.error).toBe('missing_scope');
    expect(e.data.needed).toBe('users:read');
  });

  it('checks Block Kit limits and names the field', async () => {
    const ch = fake.addChannel('limits', { members: [BOT_USER] });
    const cases: [unknown[], string][] = [
      [Array.from({ length: 51 }, (_, i) => section('x', `b${i}`)), '/blocks'],
      [[section('x'.repeat(3001))], '/blocks/0/text/text'],
      [[section('a', 'same'), section('b', 'same')], '/blocks/1/block_id'],
      [
        [{ type: 'section', fields: [{ type: 'mrkdwn', text: '&'.repeat(2001) }] }],
        '/blocks/0/fields/0/text',
      ],
      [
        [
          {
            type: 'actions',
            elements: [
              {
                type: 'button',
                action_id: 'a',
                text: { type: 'plain_text', text: 'Go' },
                value: 'v'.repeat(2001),
              },
            ],
          },
        ],
        '/blocks/0/elements/0/value',
      ],
    ];
    for (const [blocks, pointer] of cases) {
      const e = await errorOf(client.chat.postMessage({ channel: ch, text: 't', blocks: blocks as never }));
      expect(e.error).toBe('invalid_blocks');
      expect(JSON.stringify(e.data.response_metadata.messages)).toContain(pointer);
    }
    // Characters are counted as code points: 3000 emoji are within the limit.
    await client.chat.postMessage({ channel: ch, text: 't', blocks: [section('🔥'.repeat(3000))] as never });
  });

  it('refuses ephemerals to non-members, private channels to non-members, updates of missing messages', async () => {
    const pub = fake.addChannel('public-room', { members: [BOT_USER] });
    expect(
      (await errorOf(client.chat.postEphemeral({ channel: pub, user: 'UALICE01', text: 'x' }))).error,
    ).toBe('user_not_in_channel');
    const priv = fake.addChannel('secret-room', { private: true });
    expect((await errorOf(client.chat.postMessage({ channel: priv, text: 'x' }))).error).toBe(
      'channel_not_found',
    );
    expect((await errorOf(client.chat.update({ channel: pub, ts: '1.000', text: 'x' }))).error).toBe(
      'message_not_found',
    );
    const archived = fake.addChannel('old-room', { archived: true, members: [BOT_USER] });
    expect((await errorOf(client.chat.postMessage({ channel: archived, text: 'x' }))).error).toBe(
      'is_archived',
    );
  });

  it('returns thread replies only through conversations.replies', async () => {
    const ch = fake.addChannel('threads', { members: [BOT_USER] });
    const parent = fake.addMessage(ch, 'parent');
    const reply = fake.addMessage(ch, 'in the thread', 'UHUMAN01', parent);
    const history = await client.conversations.history({
      channel: ch,
      latest: reply,
      inclusive: true,
      limit: 1,
    });
    expect(history.messages?.map((m) => m.ts)).not.toContain(reply);
    const replies = await client.conversations.replies({ channel: ch, ts: parent });
    expect(replies.messages?.map((m) => m.text)).toEqual(['parent', 'in the thread']);
  });

  it('expires trigger ids after 3 s and accepts each once', async () => {
    const issuer = new SlackClient('http://unused', fake.url);
    const view = { type: 'modal', title: { type: 'plain_text', text: 'T' }, blocks: [] };
    const fresh = issuer.trigger();
    await client.views.open({ trigger_id: fresh, view: view as never });
    expect((await errorOf(client.views.open({ trigger_id: fresh, view: view as never }))).error).toBe(
      'exchanged_trigger_id',
    );
    const stale = `${Date.now() - 3500}.1.trigger`;
    expect((await errorOf(client.views.open({ trigger_id: stale, view: view as never }))).error).toBe(
      'expired_trigger_id',
    );
  });

  it('accepts at most 5 replies on one response_url', async () => {
    const path = `/respond/${Date.now()}.9.trigger`;
    const statuses: boolean[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await fetch(`${fake.url}${path}`, { method: 'POST', body: JSON.stringify({ text: 'x' }) });
      statuses.push(((await res.json()) as { ok: boolean }).ok);
    }
    expect(statuses).toEqual([true, true, true, true, true, false]);
  });

  it('stores message metadata of the shape Slack requires, and returns it only with include_all_metadata', async () => {
    const ch = fake.addChannel('metadata', { members: [BOT_USER] });
    const post = (metadata: unknown) =>
      client.apiCall('chat.postMessage', { channel: ch, text: 'x', metadata });
    expect((await errorOf(post('{not json'))).error).toBe('invalid_metadata_format');
    expect((await errorOf(post({ event_payload: { a: 1 } }))).error).toBe('invalid_metadata_schema');
    expect((await errorOf(post({ event_type: 'x', event_payload: 'flat' }))).error).toBe(
      'invalid_metadata_schema',
    );
    const metadata = { event_type: 'firebreak_message', event_payload: { ref: 'summary' } };
    const { ts } = (await post(metadata)) as unknown as { ts: string };
    const read = async (include: boolean) =>
      (
        (await client.conversations.history({ channel: ch, include_all_metadata: include })).messages ?? []
      ).find((m) => m.ts === ts);
    expect((await read(true))?.metadata).toEqual(metadata);
    expect((await read(false))?.metadata).toBeUndefined();
  });

  it('injects faults on demand: 429 with Retry-After, ok:false codes, performed-then-error', async () => {
    const ch = fake.addChannel('faults', { members: [BOT_USER] });
    let lift = fake.fault({ methods: ['chat.postMessage'], status: 429, retryAfterSeconds: 7, times: 1 });
    const limited = await errorOf(client.chat.postMessage({ channel: ch, text: 'x' }));
    expect(limited.code).toBe(webApi.ErrorCode.RateLimitedError);
    lift();
    lift = fake.fault({ methods: ['chat.postMessage'], error: 'fatal_error', performed: true, times: 1 });
    expect((await errorOf(client.chat.postMessage({ channel: ch, text: 'partial' }))).error).toBe(
      'fatal_error',
    );
    lift();
    // Performed anyway, as Slack sometimes does: the message is there.
    expect(fake.messages.get(ch)?.map((m) => m.text)).toEqual(['partial']);
  });
});
