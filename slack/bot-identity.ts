/**
 * Bolt's `authorize` for Firebreak's single workspace, answered from memory so that no incoming
 * request (a click, a slash command, an event) ever waits on an outgoing Web API call. Bolt's own
 * single-token authorize calls auth.test before every request when token verification is off;
 * when Slack rate-limits or fails that call, the request is dropped. Here the bot's user and bot
 * ids are learnt by one auth.test in the background (at start, then at most once per
 * `retryAfterMs` while unknown); until then requests run with the token alone, which only costs
 * Bolt's ignoreSelf filter its ids (Firebreak reacts to no event its own bot causes).
 */
import { webApi, type AuthorizeResult } from '@slack/bolt';
import type { Logger } from 'pino';

export interface BotIds {
  botId: string;
  botUserId: string;
}

export class BotIdentity {
  private ids: BotIds | undefined;
  private lookup: Promise<void> | undefined;
  private lastTry = 0;
  private readonly client: webApi.WebClient;

  constructor(
    private readonly botToken: string,
    apiUrl: string | undefined,
    private readonly log: Logger,
    private readonly retryAfterMs = 30_000,
  ) {
    this.client = new webApi.WebClient(botToken, {
      ...(apiUrl ? { slackApiUrl: apiUrl } : {}),
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      logLevel: webApi.LogLevel.ERROR,
      timeout: 10_000,
    });
  }

  /** The bot's ids once auth.test has answered; undefined before. */
  get known(): BotIds | undefined {
    return this.ids;
  }

  /** Starts an auth.test in the background unless one ran recently; never throws, never waits. */
  learn(): void {
    if (this.ids || this.lookup || Date.now() - this.lastTry < this.retryAfterMs) return;
    this.lastTry = Date.now();
    this.lookup = this.client.auth
      .test()
      .then((res) => {
        if (res.user_id && res.bot_id) this.ids = { botId: res.bot_id, botUserId: res.user_id };
      })
      .catch((err: unknown) => {
        this.log.warn({ err }, 'Slack auth.test failed; requests are served without the bot ids');
      })
      .finally(() => {
        this.lookup = undefined;
      });
  }

  /** Resolves when a background lookup in flight has ended (shutdown, tests). */
  async settled(): Promise<void> {
    await this.lookup;
  }

  /** Bolt's authorize: the token and whatever ids are known, at once. */
  readonly authorize = (): Promise<AuthorizeResult> => {
    this.learn();
    return Promise.resolve({ botToken: this.botToken, ...(this.ids ?? {}) });
  };
}
