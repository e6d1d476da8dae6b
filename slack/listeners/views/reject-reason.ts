/** The Reject modal's submission: a reason is required, then it is the `decideApproval` update. */
import type { App } from '@slack/bolt';
import { REJECT_VIEW } from '../../blocks/modals';
import { actorFor, type SlackDeps } from '../../context';
import { decide } from '../actions/approval';

export function registerRejectReason(app: App, deps: SlackDeps): void {
  app.view(REJECT_VIEW, async ({ ack, view, body }) => {
    const reason = view.state.values.reason?.value?.value?.trim();
    if (!reason) {
      await ack({ response_action: 'errors', errors: { reason: 'Say why the step is rejected.' } });
      return;
    }
    await ack();
    const meta = JSON.parse(view.private_metadata) as {
      incidentId: string;
      stepId: string;
      channelId: string;
      messageTs: string;
      responseUrl?: string;
    };
    await decide(deps, {
      incidentId: meta.incidentId,
      stepId: meta.stepId,
      decision: 'reject',
      reason,
      actor: actorFor(deps, body.user),
      decisionId: `slack-${view.id}`,
      responseUrl: meta.responseUrl,
    });
  });
}
