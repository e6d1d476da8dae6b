/**
 * The timeline reaction: reacting with SLACK_TIMELINE_EMOJI to a message in an incident channel
 * adds that message to the incident's timeline (as an `addNote` update, keyed by the message, so
 * a second reaction on the same message adds nothing).
 */
import type { App } from '@slack/bolt';
import { incidentForChannel } from '../../../db/slack-refs';
import { updateIncident } from '../../../temporal/client';
import { addNote } from '../../../workflows/messages';
import { actorFor, refusalOf, signed, type SlackDeps } from '../../context';
import { unescapeSlack } from '../../escape';
import { fetchMessage } from '../replies';

export function registerTimelineReaction(app: App, deps: SlackDeps): void {
  app.event('reaction_added', async ({ event, client }) => {
    if (event.reaction !== deps.config.timelineEmoji || event.item.type !== 'message') return;
    const { channel, ts } = event.item;
    const incidentId = await incidentForChannel(deps.db, channel);
    if (!incidentId) return;
    const message = await fetchMessage(client, channel, ts);
    if (!message) return;
    const decisionId = `slack-reaction-${channel}-${ts}`;
    const author = event.item_user ? ` (message by ${event.item_user})` : '';
    try {
      await updateIncident(
        deps.temporal,
        incidentId,
        addNote,
        signed(deps, incidentId, 'note', {
          decisionId,
          actor: actorFor(deps, { id: event.user }),
          text: `${unescapeSlack(message.text)}${author}`,
        }),
        decisionId,
      );
    } catch (err) {
      const refusal = refusalOf(err);
      if (!refusal) throw err;
      deps.log.info({ incidentId, refusal }, 'timeline reaction not recorded');
    }
  });
}
