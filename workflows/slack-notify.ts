/**
 * How the playbook interpreter shows approvals and manual tasks in Slack: small fire-and-forget
 * calls to the Slack notifier activities (no-ops without Slack). They are not awaited on purpose:
 * a Slack outage retries in the background and never holds a playbook step up, and decisions can
 * always be made through the API or CLI meanwhile. Deterministic: activity types only.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { StepState } from '../domain/incident';
import type { ActionStep, ApprovalStep } from '../domain/playbook';
import {
  approvalView,
  type ApprovalOutcome,
  type ApprovalStepLike,
  type TaskView,
} from '../domain/slack-views';
import { render } from '../playbooks/expr';
import type { PlaybookContext } from './playbook-context';
import { buildScope, renderedText } from './playbook-model';

let renders = 0;

/**
 * Orders this workflow's Slack renders: workflow time in ms, then a counter, so a later state
 * always has a higher version, across continue-as-new too. The notifier skips a render older
 * than the one a message already shows (an outage can deliver an old retry after a new one).
 */
export function renderVersion(): number {
  return Date.now() * 1000 + (renders++ % 1000);
}

/** What an approval message shows: the step, its progress, and exactly what it will do. */
export function approvalLike(ctx: PlaybookContext, step: ApprovalStep, state: StepState): ApprovalStepLike {
  const scope = buildScope(ctx.input, ctx.run);
  return {
    id: step.id,
    prompt: renderedText(step.prompt, scope),
    approvers: step.approvers,
    minApprovals: step.min_approvals,
    requester: state.requester,
    deadline: state.deadline,
    approvals: state.approvals ?? [],
    actions: (step.steps ?? [])
      .filter((x): x is ActionStep => x.kind === 'action')
      .map((x) => ({ action: x.action, params: render(x.params, scope) as Record<string, unknown> })),
  };
}

const slack = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', backoffCoefficient: 2 },
});

/** Posts (or re-renders, with `outcome` once decided or expired) an approval request. */
export function showApproval(incidentId: string, step: ApprovalStepLike, outcome?: ApprovalOutcome): void {
  const view = approvalView(incidentId, step);
  // A permanent Slack failure is logged by the activity; the approval still works via the API.
  slack
    .slackShowApproval({ view, version: renderVersion(), ...(outcome ? { outcome } : {}) })
    .catch(() => undefined);
}

/** Posts the post-mortem digest to the incident channel (no-op without Slack). */
export function showPostmortem(ctx: PlaybookContext): void {
  slack.slackPostPostmortem({ incidentId: ctx.incidentId }).catch(() => undefined);
}

/**
 * Posts an escalation in the incident channel, mentioning the target (`@here` without one), once
 * per step.
 */
export function showEscalation(
  ctx: PlaybookContext,
  stepId: string,
  target: string | undefined,
  reason: string,
): void {
  slack
    .slackPostEscalation({
      incidentId: ctx.incidentId,
      key: `approval:${stepId}`,
      target,
      reason,
      by: undefined,
    })
    .catch(() => undefined);
}

/** Posts a manual task, or marks it done. */
export function showTask(view: TaskView, done?: { by: string; at: string; note?: string }): void {
  slack.slackShowTask({ view, version: renderVersion(), ...(done ? { done } : {}) }).catch(() => undefined);
}
