/**
 * How Firebreak recognises its own messages in Slack: every post carries message metadata
 * (`event_type` firebreak_message, the incident and the message's ref in `event_payload`). When
 * chat.postMessage answers with an error Slack may still have performed (internal_error,
 * fatal_error, a 5xx, a timeout), the next attempt reads the channel's history from just before
 * that post (`include_all_metadata`) and adopts the message it finds instead of posting a second
 * one; copies beyond the first are superseded (see blocks/superseded.ts).
 */
import { supersededMessage } from './blocks/superseded';
import type { SlackMessage } from './blocks/types';
import type { SlackApi } from './client';

export const MESSAGE_EVENT = 'firebreak_message';

export interface MessageMetadata {
  event_type: string;
  event_payload: { incident_id: string; ref: string; superseded?: boolean };
}

export function metadataFor(incidentId: string, ref: string): MessageMetadata {
  return { event_type: MESSAGE_EVENT, event_payload: { incident_id: incidentId, ref } };
}

/** A Slack ts for `ms` since the epoch (history's `oldest`). */
export function slackTs(ms: number): string {
  return (ms / 1000).toFixed(6);
}

interface HistoryMessage {
  ts: string;
  metadata?: { event_type?: string; event_payload?: Record<string, unknown> };
}

/**
 * Firebreak's live copies of message `ref` posted in `channel` since `oldest`, oldest first.
 * Pages back through history with `latest` (at most 5 pages of 200).
 */
export async function findPosted(
  api: SlackApi,
  channel: string,
  oldest: string,
  incidentId: string,
  ref: string,
): Promise<string[]> {
  const found: string[] = [];
  let latest: string | undefined;
  for (let page = 0; page < 5; page++) {
    const res = await api.call('conversations.history', {
      channel,
      oldest,
      inclusive: true,
      include_all_metadata: true,
      limit: 200,
      ...(latest ? { latest } : {}),
    });
    const messages = (res.messages ?? []) as HistoryMessage[];
    for (const m of messages) {
      const p = m.metadata?.event_payload;
      if (
        m.metadata?.event_type === MESSAGE_EVENT &&
        p?.incident_id === incidentId &&
        p.ref === ref &&
        p.superseded !== true
      )
        found.push(m.ts);
    }
    if (!res.has_more || messages.length === 0) break;
    latest = messages[messages.length - 1]!.ts;
  }
  return [...new Set(found)].sort((a, b) => Number(a) - Number(b));
}

/** Turns a duplicate copy into a button-less "superseded" note that is never adopted again. */
export async function supersede(api: SlackApi, channel: string, ts: string, incidentId: string, ref: string) {
  const msg: SlackMessage = supersededMessage(incidentId);
  const metadata: MessageMetadata = {
    event_type: MESSAGE_EVENT,
    event_payload: { incident_id: incidentId, ref, superseded: true },
  };
  await api.call('chat.update', { channel, ts, ...msg, metadata });
}
