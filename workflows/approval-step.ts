/**
 * The approval step: waits for `min_approvals` distinct authorized approvers (a single rejection
 * rejects) until its deadline. On timeout it escalates once (notifies the escalation target and
 * starts a second deadline) or applies approve / reject / abort. Approved: its nested steps run.
 * Rejected: they are recorded as skipped, and `on_reject: abort` stops the playbook. Decisions
 * arrive through the `decideApproval` update (validated in decisions.ts) and are read from the
 * run state here.
 */
import { isCancellation } from '@temporalio/workflow';
import type { Phase, StepState } from '../domain/incident';
import type { ApprovalStep, Step } from '../domain/playbook';
import { render } from '../playbooks/expr';
import { actionRequest, followUpActions } from './action-requests';
import { nowIso, type PlaybookContext } from './playbook-context';
import { errorMessage } from './playbook-errors';
import { buildScope, renderedText } from './playbook-model';
import { approvalLike, showApproval, showEscalation } from './slack-notify';
import { markSkipped, setStep } from './step-transitions';

type RunSteps = (ctx: PlaybookContext, steps: Step[], phase: Phase) => Promise<void>;

export async function runApproval(
  ctx: PlaybookContext,
  step: ApprovalStep,
  phase: Phase,
  runSteps: RunSteps,
): Promise<void> {
  const state = ctx.run.steps[step.id] ?? (await requestApproval(ctx, step, phase));
  while (state.approved === undefined) {
    if (await waitForDecision(ctx, step, state)) break;
    if (!state.escalated && step.on_timeout === 'escalate' && step.escalation) {
      await escalateApproval(ctx, step, phase, state);
    } else {
      await applyTimeout(ctx, step, phase, state);
    }
  }
  showDecided(ctx, step, state);
  if (!state.approved) {
    await markSkipped(ctx, step.steps, phase, `approval ${step.id} was rejected`);
    await setStep(ctx, step, phase, { status: 'rejected' }, `Approval ${step.id} rejected`);
    if (step.on_reject === 'abort') throw ctx.abort(`approval ${step.id} was rejected`, ctx.actor, step.id);
    return;
  }
  if (state.status === 'waiting')
    await setStep(ctx, step, phase, { status: 'running' }, `Approval ${step.id} granted`);
  await runSteps(ctx, step.steps ?? [], phase);
  await setStep(ctx, step, phase, { status: 'succeeded' }, `Approval ${step.id} done`);
}

/** Opens the request: who asked (two-person rule), its deadline, and the Slack message. */
async function requestApproval(ctx: PlaybookContext, step: ApprovalStep, phase: Phase): Promise<StepState> {
  const rendered = step.requester
    ? render(step.requester, buildScope(ctx.input, ctx.run))
    : ctx.input.requestedBy;
  const requester = typeof rendered === 'string' && rendered ? rendered : undefined;
  const deadline = step.timeout ? ctx.deadlineAfter(step.timeout) : undefined;
  const s = await setStep(
    ctx,
    step,
    phase,
    { status: 'waiting', approvals: [], requester, deadline, escalated: false },
    `Approval requested: ${step.prompt}`,
  );
  showApproval(ctx.incidentId, approvalLike(ctx, step, s));
  return s;
}

/** Waits until enough approvals or one rejection (sets `approved`: true), or the deadline (false). */
async function waitForDecision(ctx: PlaybookContext, step: ApprovalStep, state: StepState): Promise<boolean> {
  const count = (d: 'approve' | 'reject') => (state.approvals ?? []).filter((a) => a.decision === d).length;
  const decided = () => count('approve') >= step.min_approvals || count('reject') > 0;
  if (!(await ctx.waitUntil(decided, state.deadline))) return false;
  state.approved = count('reject') === 0;
  return true;
}

/** No decision in time: notify the escalation target and start the escalation's own deadline. */
async function escalateApproval(
  ctx: PlaybookContext,
  step: ApprovalStep,
  phase: Phase,
  state: StepState,
): Promise<void> {
  const esc = step.escalation!;
  // Notify first: if the run continues-as-new before this lands, the next run escalates
  // again and the idempotent action (same step id) is not sent twice.
  let told = `escalated to ${esc.target}`;
  try {
    const req = actionRequest(ctx, `${step.id}.escalation`, 'notify', {
      message: `Approval needed: ${step.prompt} (no decision in ${step.timeout})`,
      target: esc.target,
    });
    await ctx.activity(() => followUpActions.executeAction(req));
  } catch (err) {
    if (isCancellation(err)) throw err;
    told = `could not notify ${esc.target} (${errorMessage(err)})`;
  }
  showEscalation(
    ctx,
    step.id,
    esc.target,
    `No decision on "${renderedText(step.prompt, buildScope(ctx.input, ctx.run))}" in ${step.timeout}: please decide`,
  );
  state.escalated = true;
  state.deadline = ctx.deadlineAfter(esc.timeout);
  const message = `Approval ${told}; new deadline ${state.deadline}`;
  await setStep(ctx, step, phase, { status: 'waiting' }, message);
  await ctx.project('recordTimeline', {
    incidentId: ctx.incidentId,
    kind: 'approval.escalated',
    actor: ctx.actor,
    message: `Approval ${step.id} ${told}; new deadline ${state.deadline}`,
    data: { stepId: step.id, target: esc.target, deadline: state.deadline },
    eventKey: `${ctx.incidentId}:step:${step.id}:escalated`,
    at: nowIso(),
  });
}

/** The last deadline passed: approve, reject, or abort the playbook, as the step says. */
async function applyTimeout(
  ctx: PlaybookContext,
  step: ApprovalStep,
  phase: Phase,
  state: StepState,
): Promise<void> {
  const outcome = state.escalated && step.escalation ? step.escalation.on_timeout : step.on_timeout;
  await ctx.project('recordTimeline', {
    incidentId: ctx.incidentId,
    kind: 'approval.timed_out',
    actor: ctx.actor,
    message: `Approval ${step.id} timed out: ${outcome}`,
    data: { stepId: step.id, outcome },
    eventKey: `${ctx.incidentId}:step:${step.id}:timed_out`,
    at: nowIso(),
  });
  if (outcome === 'abort') {
    showApproval(ctx.incidentId, approvalLike(ctx, step, state), { decision: 'expired', at: nowIso() });
    const error = 'approval timed out';
    await setStep(ctx, step, phase, { status: 'failed', error }, `Approval ${step.id} timed out`);
    throw ctx.abort(`approval ${step.id} timed out`, ctx.actor, step.id);
  }
  state.approved = outcome === 'approve';
}

/**
 * Re-renders the Slack request with its outcome and who decided it: the rejecter, or the approver
 * who completed k-of-n. An outcome the deadline applied names nobody and says so.
 */
function showDecided(ctx: PlaybookContext, step: ApprovalStep, state: StepState): void {
  const votes = state.approvals ?? [];
  const approvals = votes.filter((a) => a.decision === 'approve');
  const decider = state.approved
    ? approvals.length >= step.min_approvals
      ? approvals.at(-1)
      : undefined
    : votes.find((a) => a.decision === 'reject');
  showApproval(ctx.incidentId, approvalLike(ctx, step, state), {
    decision: state.approved ? 'approved' : 'rejected',
    at: nowIso(),
    ...(decider ? { by: { id: decider.actorId } } : {}),
    ...(decider
      ? decider.reason
        ? { reason: decider.reason }
        : {}
      : {
          reason: `No decision before the deadline: on_timeout applied (${state.approved ? 'approve' : 'reject'})`,
        }),
  });
}
