/**
 * Requests to /slack/events built exactly as Slack sends them: slash commands as form fields,
 * interactions as form-encoded `payload=<json>`, Events API callbacks as JSON, each signed with
 * the v0 HMAC of `v0:<timestamp>:<raw body>` under the app's signing secret.
 */
import crypto from 'node:crypto';
import { slackEncoded } from './fake-slack';

export const TEST_SIGNING_SECRET = 'test-signing-secret-0123456789abcdef';
export const TEAM = { id: 'T0001', domain: 'firebreak-test' };

export function sign(body: string, timestamp = Math.floor(Date.now() / 1000), secret = TEST_SIGNING_SECRET) {
  const sig = crypto.createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex');
  return { 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': `v0=${sig}` };
}

export class SlackClient {
  private n = 0;
  constructor(
    private readonly baseUrl: string,
    private readonly responseBase: string,
  ) {}

  /** A trigger id as Slack issues them: it encodes its time, so the fake can expire it after 3 s. */
  trigger(): string {
    return `${Date.now()}.${++this.n}.trigger`;
  }

  async post(body: string, contentType: string, headers: Record<string, string> = sign(body)) {
    return fetch(`${this.baseUrl}/slack/events`, {
      method: 'POST',
      headers: { 'content-type': contentType, ...headers },
      body,
    });
  }

  /** `/incident <text>` typed by `user` in `channel`. */
  async command(text: string, opts: { channel: string; user?: string; userName?: string }) {
    const trigger = this.trigger();
    const body = new URLSearchParams({
      token: 'deprecated-verification-token',
      team_id: TEAM.id,
      team_domain: TEAM.domain,
      channel_id: opts.channel,
      channel_name: 'incident',
      user_id: opts.user ?? 'UALICE01',
      user_name: opts.userName ?? 'alice',
      command: '/incident',
      text: slackEncoded(text),
      api_app_id: 'A0001',
      is_enterprise_install: 'false',
      response_url: `${this.responseBase}/respond/${trigger}`,
      trigger_id: trigger,
    }).toString();
    return {
      res: await this.post(body, 'application/x-www-form-urlencoded'),
      responsePath: `/respond/${trigger}`,
    };
  }

  async interaction(payload: Record<string, unknown>) {
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    return this.post(body, 'application/x-www-form-urlencoded');
  }

  /** A click on a button of a message Firebreak posted. */
  async click(opts: {
    actionId: string;
    value: string;
    channel: string;
    message: { ts: string; text: string; blocks: unknown[] };
    user?: { id: string; name: string };
  }) {
    const user = opts.user ?? { id: 'UALICE01', name: 'alice' };
    const trigger = this.trigger();
    const responsePath = `/respond/${trigger}`;
    const res = await this.interaction({
      type: 'block_actions',
      user: { id: user.id, username: user.name, name: user.name, team_id: TEAM.id },
      api_app_id: 'A0001',
      token: 'deprecated-verification-token',
      container: {
        type: 'message',
        message_ts: opts.message.ts,
        channel_id: opts.channel,
        is_ephemeral: false,
      },
      trigger_id: trigger,
      team: TEAM,
      channel: { id: opts.channel, name: 'incident' },
      message: {
        type: 'message',
        user: 'UBOT0001',
        ts: opts.message.ts,
        text: opts.message.text,
        blocks: opts.message.blocks,
      },
      response_url: `${this.responseBase}${responsePath}`,
      actions: [
        {
          type: 'button',
          action_id: opts.actionId,
          block_id: 'approval_actions',
          value: opts.value,
          text: { type: 'plain_text', text: 'x' },
          action_ts: `${Date.now() / 1000}`,
        },
      ],
    });
    // The response_url's path, to find the replies sent to this click (fake.responses(path)).
    return Object.assign(res, { responsePath });
  }

  /** A modal submitted with `values` ({blockId: {value: …}} as Slack structures them). */
  async submitView(opts: {
    callbackId: string;
    privateMetadata: string;
    values: Record<string, Record<string, unknown>>;
    user?: { id: string; name: string };
    viewId?: string;
  }) {
    const user = opts.user ?? { id: 'UALICE01', name: 'alice' };
    return this.interaction({
      type: 'view_submission',
      team: TEAM,
      user: { id: user.id, username: user.name, name: user.name, team_id: TEAM.id },
      api_app_id: 'A0001',
      token: 'deprecated-verification-token',
      trigger_id: this.trigger(),
      view: {
        id: opts.viewId ?? `V${Date.now()}${++this.n}`,
        team_id: TEAM.id,
        type: 'modal',
        callback_id: opts.callbackId,
        private_metadata: opts.privateMetadata,
        state: { values: opts.values },
        hash: 'h',
        title: { type: 'plain_text', text: 'x' },
        blocks: [],
      },
      response_urls: [],
    });
  }

  async event(event: Record<string, unknown>) {
    const body = JSON.stringify({
      token: 'deprecated-verification-token',
      team_id: TEAM.id,
      api_app_id: 'A0001',
      event,
      type: 'event_callback',
      event_id: `Ev${Date.now()}${++this.n}`,
      event_time: Math.floor(Date.now() / 1000),
      authorizations: [{ team_id: TEAM.id, user_id: 'UBOT0001', is_bot: true }],
    });
    return this.post(body, 'application/json');
  }
}

/** A Slack text input's value as view_submission reports it. */
export const text = (value: string) => ({ value: { type: 'plain_text_input', value } });
