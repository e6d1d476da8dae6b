/**
 * The Done button on manual-task messages: becomes the `completeTask` update; once accepted the
 * workflow re-renders the message with who finished it and when, and the button is gone.
 */
import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { updateIncident } from '../../../temporal/client';
import { completeTask } from '../../../workflows/messages';
import { TASK_DONE_ACTION } from '../../blocks/task';
import { actorFor, refusalOf, signed, type SlackDeps } from '../../context';
import { refusalText, replyVia } from '../replies';
import { parseButton } from './approval';
import { retiredCopy } from './superseded-copy';

export function registerTaskActions(app: App, deps: SlackDeps): void {
  app.action<BlockAction<ButtonAction>>(TASK_DONE_ACTION, async ({ ack, body, action, client }) => {
    await ack();
    const target = parseButton(action.value);
    if (!target) return;
    const copy = {
      incidentId: target.incidentId,
      ref: `task:${target.stepId}`,
      channel: body.channel?.id,
      ts: body.message?.ts,
      responseUrl: body.response_url,
    };
    if (await retiredCopy(deps, client, copy)) return;
    const actor = actorFor(deps, body.user);
    const decisionId = `slack-${body.trigger_id}`;
    try {
      await updateIncident(
        deps.temporal,
        target.incidentId,
        completeTask,
        signed(deps, target.incidentId, 'task', { decisionId, stepId: target.stepId, actor }),
        decisionId,
      );
    } catch (err) {
      const refusal = refusalOf(err);
      if (!refusal) throw err;
      await replyVia(body.response_url, deps.log, {
        text: refusalText(refusal.kind, 'complete this task', refusal.detail),
      });
      return;
    }
    // The workflow marks the message done from its own state (who, when, the note).
  });
}
