import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../api/app';
import { createSlackApp } from '../../slack/app';
import { sign } from '../helpers/slack-requests';
import { eventually } from '../helpers/stack';
import { startSlackStack, type SlackStack } from './setup';

let s: SlackStack;
beforeAll(async () => {
  s = await startSlackStack();
});
afterAll(async () => {
  await s?.close();
});

const commandBody = new URLSearchParams({
  command: '/incident',
  text: 'help',
  user_id: 'UALICE01',
}).toString();

describe('POST /slack/events transport', () => {
  it('rejects an unsigned request with 401', async () => {
    const res = await s.slack.post(commandBody, 'application/x-www-form-urlencoded', {});
    expect(res.status).toBe(401);
  });

  it('rejects a signature made with another secret with 401', async () => {
    const res = await s.slack.post(
      commandBody,
      'application/x-www-form-urlencoded',
      sign(commandBody, undefined, 'not-the-signing-secret-0123'),
    );
    expect(res.status).toBe(401);
  });

  it('rejects a correctly signed but stale (or future) request with 401', async () => {
    const sixMinutes = 6 * 60;
    const old = Math.floor(Date.now() / 1000) - sixMinutes;
    expect(
      (await s.slack.post(commandBody, 'application/x-www-form-urlencoded', sign(commandBody, old))).status,
    ).toBe(401);
    const future = Math.floor(Date.now() / 1000) + sixMinutes;
    expect(
      (await s.slack.post(commandBody, 'application/x-www-form-urlencoded', sign(commandBody, future)))
        .status,
    ).toBe(401);
  });

  it('rejects a body altered after signing with 401', async () => {
    const headers = sign(commandBody);
    const res = await s.slack.post(
      commandBody.replace('help', 'resolve'),
      'application/x-www-form-urlencoded',
      headers,
    );
    expect(res.status).toBe(401);
  });

  it('answers the url_verification challenge', async () => {
    const body = JSON.stringify({ type: 'url_verification', challenge: 'abc123', token: 't' });
    const res = await s.slack.post(body, 'application/json');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ challenge: 'abc123' });
  });

  it('refuses a signed body whose workspace id is an inherited property name with 400, and keeps serving', async () => {
    // Bolt keys its Web API clients by workspace id in a plain object, so `valueOf` once came back
    // as a 500 (found by the Slack fuzz test).
    const bodies: [string, string][] = [
      [
        new URLSearchParams({ team_id: 'valueOf', command: '/incident' }).toString(),
        'application/x-www-form-urlencoded',
      ],
      [
        new URLSearchParams({ team_id: '__proto__', command: '/incident', text: 'help' }).toString(),
        'application/x-www-form-urlencoded',
      ],
      [
        `payload=${encodeURIComponent(JSON.stringify({ type: 'block_actions', user: { id: 'UALICE01', team_id: 'constructor' }, actions: [{ action_id: 'x' }] }))}`,
        'application/x-www-form-urlencoded',
      ],
      [
        JSON.stringify({
          type: 'event_callback',
          event: { type: 'app_mention' },
          authorizations: [{ team_id: 'toString' }],
        }),
        'application/json',
      ],
    ];
    for (const [body, type] of bodies) {
      const res = await s.slack.post(body, type, sign(body));
      expect(res.status, body).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: 'invalid_request' } });
    }
    const { res } = await s.slack.command('help', { channel: 'CRANDOM01' });
    expect(res.status).toBe(200);
  });

  it('acks a signed slash command at once and replies through response_url', async () => {
    const started = Date.now();
    const { res, responsePath } = await s.slack.command('help', { channel: 'CRANDOM01' });
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(3000);
    const reply = await eventually(() =>
      s.fake.sent('response_url').find((c) => c.args.path === responsePath),
    );
    expect(reply.args.text).toContain('/incident declare');
  });

  it('answers 404 with a clear message when Slack is not configured', async () => {
    const app = createApp({
      ...s.stack,
      log: pino({ level: 'silent' }),
      slack: undefined,
    });
    const res = await app.request('/slack/events', {
      method: 'POST',
      body: commandBody,
      headers: sign(commandBody),
    });
    expect(res.status).toBe(404);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('slack_not_configured');
    expect(body.error.message).toContain('SLACK_BOT_TOKEN');
  });

  it('uses Socket Mode, with no HTTP endpoint, when SLACK_APP_TOKEN is set', () => {
    const surface = createSlackApp({
      ...s.stack,
      log: pino({ level: 'silent' }),
      config: { ...s.stack.config.slack!, appToken: 'xapp-1-test', signingSecret: undefined },
    });
    expect(surface.http).toBeUndefined();
    const http = createSlackApp({
      ...s.stack,
      log: pino({ level: 'silent' }),
      config: s.stack.config.slack!,
    });
    expect(http.http).toBeDefined();
  });
});
