/**
 * Small helpers the listeners share: a reply through the payload's response_url that never throws
 * (a reply that cannot be delivered must not fail the listener after its ack), reading one message
 * back, and the wording for an update the workflow refused. Replies go to response_url rather than
 * chat.postEphemeral: it works for people who are not channel members and in DMs, and it does not
 * depend on the Web API (an outage or rate limit there must not swallow a refusal).
 */
import type { webApi } from '@slack/bolt';
import type { Logger } from 'pino';
import type { Block, SlackMessage } from '../blocks/types';
import type { UpdateRefusal } from '../context';
import { safeText } from '../escape';

type Client = webApi.WebClient;

export interface Reply {
  text: string;
  blocks?: Block[];
  /** 'in_channel' shows it to everyone in the channel; the default only to the person. */
  visibility?: 'ephemeral' | 'in_channel';
}

/** Posts `reply` to a payload's response_url (ephemeral by default, never replacing the original). */
export async function replyVia(responseUrl: string | undefined, log: Logger, reply: Reply): Promise<void> {
  if (!responseUrl) {
    log.warn('Slack payload without response_url: reply not delivered');
    return;
  }
  try {
    const res = await fetch(responseUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        response_type: reply.visibility ?? 'ephemeral',
        replace_original: false,
        text: reply.text,
        ...(reply.blocks ? { blocks: reply.blocks } : {}),
      }),
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) log.warn({ status: res.status }, 'Slack refused a response_url reply');
  } catch (err) {
    log.warn({ err }, 'could not deliver a response_url reply');
  }
}

/**
 * The message at (channel, ts) as Slack has it now: text and blocks. A thread reply is not in
 * conversations.history, only in conversations.replies, which is asked next.
 */
export async function fetchMessage(
  client: Client,
  channel: string,
  ts: string,
): Promise<SlackMessage | undefined> {
  const res = await client.conversations.history({ channel, latest: ts, inclusive: true, limit: 1 });
  const msg =
    res.messages?.find((m) => m.ts === ts) ??
    (await client.conversations.replies({ channel, ts, limit: 1000 })).messages?.find((m) => m.ts === ts);
  return msg ? { text: msg.text ?? '', blocks: (msg.blocks ?? []) as Block[] } : undefined;
}

export function refusalText(kind: UpdateRefusal, what: string, detail: string): string {
  switch (kind) {
    case 'unauthorized':
      return `:no_entry: You are not allowed to ${what}. ${safeText(detail, 500)}`;
    case 'already':
      return `:information_source: Already decided: ${safeText(detail, 500)}`;
    case 'expired':
      return `:hourglass: Too late: this has expired. ${safeText(detail, 500)}`;
    case 'closed':
      return ':lock: This incident is closed.';
    case 'unsupported':
      return `This incident's workflow cannot ${what} yet.`;
    case 'invalid':
      return `Not done: ${safeText(detail, 500)}`;
  }
}
