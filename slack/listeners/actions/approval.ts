/**
 * Approve/Reject buttons on approval messages. Approve becomes the `decideApproval` update at
 * once; Reject opens a modal for the reason (see views/reject-reason.ts). The workflow re-renders
 * the message from its own state once it accepts a decision (progress while k-of-n is incomplete,
 * then the outcome; buttons gone). Refusals are replied through the payload's response_url; the
 * workflow itself records each refusal about who decides (timeline and audit log).
 */
import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { stepUpRule } from '../../../domain/step-up';
import { pendingApprovalActions, updateIncident } from '../../../temporal/client';
import { decideApproval, type ApprovalDecision } from '../../../workflows/messages';
import { APPROVE_ACTION, REJECT_ACTION, type ApprovalButtonValue } from '../../blocks/approval';
import { rejectModal } from '../../blocks/modals';
import { actorFor, refusalOf, signed, type SlackDeps } from '../../context';
import { refusalText, replyVia } from '../replies';
import { retiredCopy } from './superseded-copy';

/** A click's decision (the `decideApproval` argument, unsigned) and where to reply to the person. */
export interface Decision extends Omit<ApprovalDecision, 'proof'> {
  incidentId: string;
  /** Where refusals go: the response_url of the click (or of the click that opened the modal). */
  responseUrl: string | undefined;
}

export function parseButton(value: string | undefined): ApprovalButtonValue | undefined {
  try {
    const v = JSON.parse(value ?? '') as Partial<ApprovalButtonValue>;
    return typeof v.incidentId === 'string' && typeof v.stepId === 'string'
      ? { incidentId: v.incidentId, stepId: v.stepId }
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Sends the decision to the workflow and shows the result in Slack. Slack shows nothing of how
 * the person signed in, so an approval the MFA step-up rule covers (an irreversible action, a
 * release of containment) is refused here with a pointer to the console, where it needs a recent
 * multi-factor sign-in (docs/console.md, "MFA step-up").
 */
export async function decide(deps: SlackDeps, d: Decision): Promise<void> {
  if (d.decision === 'approve') {
    const rule = stepUpRule(
      'approval',
      'approve',
      await pendingApprovalActions(deps.temporal, d.incidentId, d.stepId),
    );
    if (rule) {
      await replyVia(d.responseUrl, deps.log, {
        text: `Not approved from Slack: ${rule}, which Slack cannot show. Approve it in the Firebreak console (/console/incidents/${d.incidentId}), signing in with a second factor.`,
      });
      return;
    }
  }
  const payload: ApprovalDecision = signed(deps, d.incidentId, 'approval', {
    decisionId: d.decisionId,
    stepId: d.stepId,
    decision: d.decision,
    actor: d.actor,
    ...(d.reason ? { reason: d.reason } : {}),
  });
  try {
    await updateIncident(deps.temporal, d.incidentId, decideApproval, payload, d.decisionId);
  } catch (err) {
    const refusal = refusalOf(err);
    // An unauthorized attempt is on the timeline and in the audit log already: the workflow
    // records every refusal about who decides.
    if (!refusal) throw err;
    await replyVia(d.responseUrl, deps.log, {
      text: refusalText(refusal.kind, `${d.decision} this step`, refusal.detail),
    });
    return;
  }
  // The message is re-rendered by the workflow from its state (progress, then the outcome), in
  // order; never here from the clicked copy, which may already be stale.
}

export function registerApprovalActions(app: App, deps: SlackDeps): void {
  const copyOf = (target: ApprovalButtonValue, body: BlockAction) => ({
    incidentId: target.incidentId,
    ref: `approval:${target.stepId}`,
    channel: body.channel?.id,
    ts: body.message?.ts,
    responseUrl: body.response_url,
  });

  app.action<BlockAction<ButtonAction>>(APPROVE_ACTION, async ({ ack, body, action, client }) => {
    await ack();
    const target = parseButton(action.value);
    if (!target || (await retiredCopy(deps, client, copyOf(target, body)))) return;
    await decide(deps, {
      ...target,
      decision: 'approve',
      actor: actorFor(deps, body.user),
      decisionId: `slack-${body.trigger_id}`,
      responseUrl: body.response_url,
    });
  });

  app.action<BlockAction<ButtonAction>>(REJECT_ACTION, async ({ ack, body, action, client }) => {
    await ack();
    const target = parseButton(action.value);
    if (!target || !body.channel?.id || !body.message?.ts) return;
    if (await retiredCopy(deps, client, copyOf(target, body))) return;
    await client.views.open({
      trigger_id: body.trigger_id,
      view: rejectModal({
        ...target,
        channelId: body.channel.id,
        messageTs: body.message.ts,
        responseUrl: body.response_url,
      }) as never,
    });
  });
}
