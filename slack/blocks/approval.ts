/**
 * Approval request messages: exactly what will be done (action, target, verification), who may
 * approve, the deadline and progress, with Approve/Reject buttons. Once decided (or expired) the
 * same message is re-rendered with the outcome and without buttons.
 */
import type { ApprovalOutcome, ApprovalView } from '../../domain/slack-views';
import { mentionUser, safeText, slackDate } from '../escape';
import { context, plain, section, type Block, type SlackMessage } from './types';

export const APPROVE_ACTION = 'approval_approve';
export const REJECT_ACTION = 'approval_reject';
export type { ApprovalOutcome, ApprovalView };

/** What the buttons carry back: enough to address the workflow update. */
export interface ApprovalButtonValue {
  incidentId: string;
  stepId: string;
}

export function approverText(a: ApprovalView['approvers']): string {
  const parts = [
    ...(a.users ?? []).map(mentionUser),
    ...(a.roles ?? []).map((r) => `role \`${safeText(r, 60)}\``),
    ...(a.groups ?? []).map((g) => `group \`${safeText(g, 60)}\``),
  ];
  return parts.length > 0 ? parts.join(', ') : 'any responder';
}

export function progressText(v: Pick<ApprovalView, 'required' | 'twoPerson' | 'approvals'>): string {
  const who = v.approvals.map((a) => mentionUser(a.id)).join(', ');
  const rule = v.twoPerson ? ' · two-person rule: the requester cannot approve alone' : '';
  return `Approvals: *${v.approvals.length} of ${v.required}*${who ? ` (${who})` : ''}${rule}`;
}

export function approvalMessage(v: ApprovalView, outcome?: ApprovalOutcome): SlackMessage {
  const value = JSON.stringify({ incidentId: v.incidentId, stepId: v.stepId } satisfies ApprovalButtonValue);
  const blocks: Block[] = [
    {
      type: 'section',
      block_id: 'approval_head',
      text: {
        type: 'mrkdwn',
        text: `:raised_hand: *Approval needed* for step \`${safeText(v.stepId, 80)}\` of \`${safeText(v.incidentId, 80)}\``,
      },
    },
    {
      type: 'section',
      block_id: 'approval_what',
      fields: [
        { type: 'mrkdwn', text: `*Action*\n\`${safeText(v.action, 100)}\`` },
        { type: 'mrkdwn', text: `*Target*\n${safeText(v.target, 500)}` },
        { type: 'mrkdwn', text: `*Verification*\n${safeText(v.verification, 500)}` },
        { type: 'mrkdwn', text: `*Deadline*\n${v.deadline ? slackDate(v.deadline) : 'none'}` },
      ],
    },
    { ...section(`*Who may approve:* ${approverText(v.approvers)}`), block_id: 'approval_who' },
    { ...context(progressText(v)), block_id: 'approval_progress' },
  ];
  if (outcome) return decided({ text: `Approval for ${safeText(v.stepId, 80)}`, blocks }, outcome);
  blocks.push({
    type: 'actions',
    block_id: 'approval_actions',
    elements: [
      { type: 'button', action_id: APPROVE_ACTION, style: 'primary', text: plain('Approve'), value },
      { type: 'button', action_id: REJECT_ACTION, style: 'danger', text: plain('Reject'), value },
    ],
  });
  return {
    text: `Approval needed: ${safeText(v.action, 100)} on ${safeText(v.target, 200)} (${safeText(v.incidentId, 80)})`,
    blocks,
  };
}

export function outcomeText(o: ApprovalOutcome): string {
  const who = o.by ? ` by ${mentionUser(o.by.id)}` : '';
  const reason = o.reason ? `\n>${safeText(o.reason, 1000)}` : '';
  const icon = {
    approved: ':white_check_mark: Approved',
    rejected: ':x: Rejected',
    expired: ':hourglass: Expired',
  }[o.decision];
  return `*${icon}*${who} at ${slackDate(o.at)}${reason}`;
}

/**
 * The posted message re-rendered with its outcome: buttons removed, the outcome appended. Works
 * from the blocks Slack sends back with a click, so the listener needs no stored copy.
 */
export function decided(message: SlackMessage, outcome: ApprovalOutcome): SlackMessage {
  const kept = message.blocks.filter(
    (b) => b.block_id !== 'approval_actions' && b.block_id !== 'approval_outcome',
  );
  return {
    text: `${message.text} — ${outcome.decision}`,
    blocks: [...kept, { ...section(outcomeText(outcome)), block_id: 'approval_outcome' }],
  };
}

/** Progress after one more approval while more are needed (k-of-n): buttons stay. */
export function withProgress(blocks: Block[], progress: string): Block[] {
  return blocks.map((b) =>
    b.block_id === 'approval_progress' ? { ...context(progress), block_id: 'approval_progress' } : b,
  );
}
