/**
 * The Slack Web API client Firebreak's activities use, built from config (base URL included, so
 * tests point it at the fake Slack). It never retries on its own: every failure becomes a typed
 * `SlackCallError` saying whether Temporal should retry the activity and after how long (Slack's
 * Retry-After for 429s), so retries are durable and visible in the workflow history.
 */
import { webApi } from '@slack/bolt';
import type { SlackConfig } from '../app/config';

/**
 * Slack error codes a retry can fix: Slack's own transient failures. Every other code stops the
 * activity (a retry every minute forever helps nobody); the ones the notifier can repair
 * (message_not_found, not_in_channel) are handled where the call is made.
 */
const TRANSIENT = new Set([
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
  'ratelimited',
]);

/** Codes that mean the token or its scopes are wrong: the message says where to fix them. */
const AUTH = new Set([
  'invalid_auth',
  'not_authed',
  'account_inactive',
  'token_revoked',
  'token_expired',
  'no_permission',
  'missing_scope',
  'not_allowed_token_type',
]);

/** What to do next, for a permanent failure. */
function hint(code: string, data: { needed?: string; response_metadata?: { messages?: string[] } }): string {
  if (AUTH.has(code))
    return code === 'missing_scope' && data.needed
      ? `: the app lacks the ${data.needed} scope; add it in slack/manifest.yaml and reinstall the app`
      : ': check SLACK_BOT_TOKEN and the app scopes in slack/manifest.yaml';
  if (code === 'invalid_blocks' || code === 'invalid_arguments') {
    const fields = (data.response_metadata?.messages ?? []).join('; ');
    return `: Slack refused the message layout${fields ? ` (${fields})` : ''}; this is a Firebreak bug, not a token or scope problem`;
  }
  if (code === 'is_archived') return ': the channel is archived; unarchive it or configure another one';
  if (code === 'channel_not_found') return ': the channel does not exist or the bot is not in it';
  return '';
}

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
    const data = (e.data ?? {}) as {
      error?: string;
      needed?: string;
      response_metadata?: { messages?: string[] };
    };
    const code = data.error ?? 'unknown_error';
    const retryable = TRANSIENT.has(code);
    return new SlackCallError(
      `Slack ${method} failed: ${code}${retryable ? '; will retry' : hint(code, data)}`,
      code,
      retryable,
      undefined,
    );
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
