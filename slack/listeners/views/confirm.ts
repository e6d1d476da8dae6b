/**
 * The resolve/abort confirmation modal's submission: with a reason, resolve becomes the
 * `closeIncident` update and abort the `abortIncident` update; the outcome is posted in the channel
 * (and a refusal to the person) through the response_url of the command that opened the modal.
 */
import type { App } from '@slack/bolt';
import { updateIncident } from '../../../temporal/client';
import { abortIncident, closeIncident } from '../../../workflows/messages';
import { CONFIRM_VIEW, type ConfirmKind } from '../../blocks/modals';
import { actorFor, refusalOf, signed, type SlackDeps } from '../../context';
import { mentionUser, safeText } from '../../escape';
import { refusalText, replyVia } from '../replies';

export function registerConfirm(app: App, deps: SlackDeps): void {
  app.view(CONFIRM_VIEW, async ({ ack, view, body }) => {
    const reason = view.state.values.reason?.value?.value?.trim();
    if (!reason) {
      await ack({ response_action: 'errors', errors: { reason: 'A reason is required.' } });
      return;
    }
    await ack();
    const meta = JSON.parse(view.private_metadata) as {
      kind: ConfirmKind;
      incidentId: string;
      channelId: string;
      responseUrl?: string;
    };
    const actor = actorFor(deps, body.user);
    const decisionId = `slack-${view.id}`;
    try {
      if (meta.kind === 'resolve') {
        await updateIncident(
          deps.temporal,
          meta.incidentId,
          closeIncident,
          signed(deps, meta.incidentId, 'close', { decisionId, actor, reason }),
          decisionId,
        );
      } else {
        await updateIncident(
          deps.temporal,
          meta.incidentId,
          abortIncident,
          signed(deps, meta.incidentId, 'abort', { decisionId, actor, reason }),
          decisionId,
        );
      }
    } catch (err) {
      const refusal = refusalOf(err);
      if (!refusal) throw err;
      await replyVia(meta.responseUrl, deps.log, {
        text: refusalText(refusal.kind, `${meta.kind} this incident`, refusal.detail),
      });
      return;
    }
    const verb = meta.kind === 'resolve' ? ':white_check_mark: Resolved' : ':octagonal_sign: Aborted';
    await replyVia(meta.responseUrl, deps.log, {
      visibility: 'in_channel',
      text: `${verb} by ${mentionUser(actor.id)}: ${safeText(reason, 1000)}`,
    });
  });
}
