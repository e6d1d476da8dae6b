/**
 * The Slack Web API client Firebreak's activities use, built from config (base URL included, so
 * tests point it at the fake Slack). It never retries on its own: every failure becomes a typed
 * `SlackCallError` saying whether Temporal should retry the activity and after how long (Slack's
 * Retry-After for 429s), so retries are durable and visible in the workflow history.
 */
import { webApi } from '@slack/bolt';
import type { SlackConfig } from '../app/config';

/** Slack error codes that no retry can fix: the token, scopes or request are wrong. */
const PERMANENT = new Set([
  'invalid_auth',
  'not_authed',
  'account_inactive',
  'token_revoked',
  'token_expired',
  'no_permission',
  'missing_scope',
  'not_allowed_token_type',
  'invalid_arguments',
  'invalid_blocks',
  'invalid_name',
  'invalid_name_specials',
  'invalid_name_maxlength',
  'channel_not_found',
  'is_archived',
  'msg_too_long',
  'restricted_action',
]);

export class SlackCallError extends Error {
  override name = 'SlackCallError';
  constructor(
    message: string,
    readonly code: string,
    readonly retryable: boolean,
    /** Slack's Retry-After, when it sent one. */
    readonly retryAfterMs: number | undefined,
  ) {
    super(message);
  }
}

export type SlackArgs = Record<string, unknown>;
export type SlackResult = Record<string, unknown> & { ok?: boolean; error?: string };

export interface SlackApi {
  call(method: string, args: SlackArgs): Promise<SlackResult>;
}

function classify(method: string, err: unknown): SlackCallError {
  const e = err as { code?: string; retryAfter?: number; statusCode?: number; data?: { error?: string } };
  if (e.code === webApi.ErrorCode.RateLimitedError) {
    const ms = (e.retryAfter ?? 1) * 1000;
    return new SlackCallError(
      `Slack rate-limited ${method}; retrying after ${ms} ms`,
      'ratelimited',
      true,
      ms,
    );
  }
  if (e.code === webApi.ErrorCode.HTTPError) {
    const status = e.statusCode ?? 0;
    const retryable = status >= 500 || status === 408;
    return new SlackCallError(
      `Slack answered HTTP ${status} to ${method}${retryable ? '; will retry' : ''}`,
      `http_${status}`,
      retryable,
      undefined,
    );
  }
  if (e.code === webApi.ErrorCode.PlatformError) {
    const code = e.data?.error ?? 'unknown_error';
    const permanent = PERMANENT.has(code);
    const hint = permanent
      ? ': check SLACK_BOT_TOKEN, the app scopes in slack/manifest.yaml, and the request'
      : '';
    return new SlackCallError(`Slack ${method} failed: ${code}${hint}`, code, !permanent, undefined);
  }
  // Connection refused, timeouts, DNS: Slack (or the network) is unavailable right now.
  return new SlackCallError(
    `Slack ${method} unreachable: ${err instanceof Error ? err.message : String(err)}`,
    'unreachable',
    true,
    undefined,
  );
}

export function createSlackApi(config: Pick<SlackConfig, 'botToken' | 'apiUrl'>): SlackApi {
  const client = new webApi.WebClient(config.botToken, {
    slackApiUrl: config.apiUrl,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    logLevel: webApi.LogLevel.ERROR,
    timeout: 10_000,
  });
  return {
    async call(method, args) {
      try {
        return (await client.apiCall(method, args)) as SlackResult;
      } catch (err) {
        throw classify(method, err);
      }
    },
  };
}
