/**
 * The Done button on manual-task messages: becomes the `completeTask` update; once accepted the
 * message shows who finished it and when, and the button is gone.
 */
import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { updateIncident } from '../../../temporal/client';
import { completeTask } from '../../../workflows/messages';
import { TASK_DONE_ACTION, taskDone } from '../../blocks/task';
import { actorFor, nowIso, refusalOf, type SlackDeps } from '../../context';
import { refusalText, replyVia } from '../replies';
import { parseButton } from './approval';

export function registerTaskActions(app: App, deps: SlackDeps): void {
  app.action<BlockAction<ButtonAction>>(TASK_DONE_ACTION, async ({ ack, body, action, client }) => {
    await ack();
    const target = parseButton(action.value);
    if (!target) return;
    const actor = actorFor(deps.config, body.user);
    const decisionId = `slack-${body.trigger_id}`;
    const channel = body.channel?.id;
    try {
      await updateIncident(
        deps.temporal,
        target.incidentId,
        completeTask,
        { decisionId, stepId: target.stepId, actor },
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
    if (!channel || !body.message?.ts) return;
    const shown = taskDone(
      { text: String(body.message.text ?? ''), blocks: (body.message.blocks ?? []) as never },
      actor.id,
      nowIso(deps),
    );
    await client.chat.update({
      channel,
      ts: body.message.ts,
      text: shown.text,
      blocks: shown.blocks as never,
    });
  });
}
