/**
 * What a duplicate of one of Firebreak's messages is turned into: Slack performed a post but
 * answered with an error, the post was retried, and two copies exist. The copy that is not the
 * live one loses its buttons and says where to look, so nobody decides on a message the
 * workflow no longer renders.
 */
import { safeText } from '../escape';
import { context, section, type SlackMessage } from './types';

export function supersededMessage(incidentId: string): SlackMessage {
  return {
    text: `Duplicate message for ${safeText(incidentId, 80)}: superseded`,
    blocks: [
      {
        ...section(
          `:no_entry_sign: *Superseded.* This copy was posted twice by a Slack retry; the live message for \`${safeText(incidentId, 80)}\` is the other one in this channel.`,
        ),
        block_id: 'superseded_head',
      },
      { ...context('Its buttons no longer do anything.'), block_id: 'superseded_note' },
    ],
  };
}
