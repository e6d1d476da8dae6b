/**
 * Small Web API helpers the listeners share: an ephemeral reply that never throws (a reply that
 * cannot be delivered must not fail the listener after its ack), reading one message back, and
 * the wording for an update the workflow refused.
 */
import type { webApi } from '@slack/bolt';
import type { Logger } from 'pino';
import type { Block, SlackMessage } from '../blocks/types';
import type { UpdateRefusal } from '../context';
import { safeText } from '../escape';

type Client = webApi.WebClient;

export async function ephemeral(
  client: Client,
  log: Logger,
  channel: string | undefined,
  user: string,
  text: string,
) {
  if (!channel) return;
  await client.chat.postEphemeral({ channel, user, text }).catch((err: unknown) => {
    log.warn({ err, channel }, 'could not send an ephemeral Slack reply');
  });
}

/** The message at (channel, ts) as Slack has it now: text and blocks. */
export async function fetchMessage(
  client: Client,
  channel: string,
  ts: string,
): Promise<SlackMessage | undefined> {
  const res = await client.conversations.history({ channel, latest: ts, inclusive: true, limit: 1 });
  const msg = res.messages?.find((m) => m.ts === ts);
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
