/**
 * Approve/Reject buttons on approval messages. Approve becomes the `decideApproval` update at
 * once; Reject opens a modal for the reason (see views/reject-reason.ts). A decision the workflow
 * accepts re-renders the message (outcome, who, when; buttons gone, or progress while k-of-n is
 * incomplete). Refusals are replied through the payload's response_url; unauthorized attempts are
 * also audited.
 */
import type { App, BlockAction, ButtonAction, webApi } from '@slack/bolt';
import { queryIncident, updateIncident } from '../../../temporal/client';
import { decideApproval, playbookState, type ApprovalDecision } from '../../../workflows/messages';
import {
  APPROVE_ACTION,
  decided,
  REJECT_ACTION,
  withProgress,
  type ApprovalButtonValue,
} from '../../blocks/approval';
import { rejectModal } from '../../blocks/modals';
import type { SlackMessage } from '../../blocks/types';
import { actorFor, audit, nowIso, refusalOf, type SlackDeps } from '../../context';
import { mentionUser } from '../../escape';
import { refusalText, replyVia } from '../replies';

/** A click's decision (the `decideApproval` argument) and where its message is in Slack. */
export interface Decision extends ApprovalDecision {
  incidentId: string;
  channel: string | undefined;
  /** The approval message as posted, to re-render; undefined when it cannot be read back. */
  message: SlackMessage | undefined;
  messageTs: string | undefined;
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

/** Sends the decision to the workflow and shows the result in Slack. */
export async function decide(deps: SlackDeps, client: webApi.WebClient, d: Decision): Promise<void> {
  const payload: ApprovalDecision = {
    decisionId: d.decisionId,
    stepId: d.stepId,
    decision: d.decision,
    actor: d.actor,
    ...(d.reason ? { reason: d.reason } : {}),
  };
  let duplicate: boolean;
  try {
    ({ duplicate } = await updateIncident(
      deps.temporal,
      d.incidentId,
      decideApproval,
      payload,
      d.decisionId,
    ));
  } catch (err) {
    const refusal = refusalOf(err);
    if (!refusal) throw err;
    if (refusal.kind === 'unauthorized') {
      await audit(deps, {
        incidentId: d.incidentId,
        kind: 'approval.unauthorized',
        actor: d.actor,
        message: `Refused ${d.decision} of step ${d.stepId}: ${refusal.detail}`,
        key: d.decisionId,
        data: { stepId: d.stepId, decision: d.decision },
      });
    }
    await replyVia(d.responseUrl, deps.log, {
      text: refusalText(refusal.kind, `${d.decision} this step`, refusal.detail),
    });
    return;
  }
  if (duplicate || !d.channel || !d.messageTs || !d.message) return;
  // The update returns before the playbook moves on; whether this approval completed k-of-n is
  // read from the step's pending entry (which already counts it).
  const pending =
    d.decision === 'approve'
      ? await queryIncident(deps.temporal, d.incidentId, playbookState)
          .then((ps) => ps?.pendingApprovals?.find((p) => p.stepId === d.stepId))
          .catch(() => undefined)
      : undefined;
  const shown: SlackMessage =
    pending && pending.approvals < pending.minApprovals
      ? {
          text: d.message.text,
          blocks: withProgress(
            d.message.blocks,
            `Approvals: *${pending.approvals} of ${pending.minApprovals}* (latest ${mentionUser(d.actor.id)})${pending.requester ? ' · two-person rule' : ''}`,
          ),
        }
      : decided(d.message, {
          decision: d.decision === 'approve' ? 'approved' : 'rejected',
          by: { id: d.actor.id, ...(d.actor.name ? { name: d.actor.name } : {}) },
          at: nowIso(deps),
          ...(d.reason ? { reason: d.reason } : {}),
        });
  await client.chat.update({
    channel: d.channel,
    ts: d.messageTs,
    text: shown.text,
    blocks: shown.blocks as never,
  });
}

export function registerApprovalActions(app: App, deps: SlackDeps): void {
  app.action<BlockAction<ButtonAction>>(APPROVE_ACTION, async ({ ack, body, action, client }) => {
    await ack();
    const target = parseButton(action.value);
    if (!target) return;
    await decide(deps, client, {
      ...target,
      decision: 'approve',
      actor: actorFor(deps.config, body.user),
      decisionId: `slack-${body.trigger_id}`,
      channel: body.channel?.id,
      message: body.message
        ? { text: String(body.message.text ?? ''), blocks: (body.message.blocks ?? []) as never }
        : undefined,
      messageTs: body.message?.ts,
      responseUrl: body.response_url,
    });
  });

  app.action<BlockAction<ButtonAction>>(REJECT_ACTION, async ({ ack, body, action, client }) => {
    await ack();
    const target = parseButton(action.value);
    if (!target || !body.channel?.id || !body.message?.ts) return;
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
