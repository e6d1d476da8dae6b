/**
 * A click on a copy of an approval or task message that is not the one the workflow renders (a
 * duplicate left by a post Slack performed twice, see slack/message-identity.ts) does nothing but
 * retire that copy: its buttons are replaced by a "superseded" note and the person is told to use
 * the live message. Decisions are made only on the message that shows the workflow's state.
 */
import type { webApi } from '@slack/bolt';
import { loadRef } from '../../../db/slack-refs';
import { supersededMessage } from '../../blocks/superseded';
import type { SlackDeps } from '../../context';
import { MESSAGE_EVENT } from '../../message-identity';
import { replyVia } from '../replies';

export interface ClickedCopy {
  incidentId: string;
  /** The message's ref: `approval:<stepId>` or `task:<stepId>`. */
  ref: string;
  channel: string | undefined;
  ts: string | undefined;
  responseUrl: string | undefined;
}

/** true (and the copy retired) when the clicked message is not the live one. */
export async function retiredCopy(
  deps: SlackDeps,
  client: webApi.WebClient,
  c: ClickedCopy,
): Promise<boolean> {
  if (!c.channel || !c.ts) return false;
  const live = await loadRef(deps.db, c.incidentId, c.ref);
  if (!live?.ts || (live.channel === c.channel && live.ts === c.ts)) return false;
  await client.chat
    .update({
      channel: c.channel,
      ts: c.ts,
      ...supersededMessage(c.incidentId),
      metadata: {
        event_type: MESSAGE_EVENT,
        event_payload: { incident_id: c.incidentId, ref: c.ref, superseded: true },
      },
    } as never)
    .catch((err: unknown) => deps.log.warn({ err }, 'could not retire a duplicate Slack message'));
  await replyVia(c.responseUrl, deps.log, {
    text: 'This copy of the message is a duplicate and no longer counts; nothing was recorded. Use the live message in the incident channel.',
  });
  return true;
}
