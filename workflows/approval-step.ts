/**
 * The approval step: waits for `min_approvals` distinct authorized approvers (a single rejection
 * rejects) until its deadline. On timeout it escalates once (notifies the escalation target and
 * starts a second deadline) or applies approve / reject / abort. Approved: its nested steps run.
 * Rejected: they are skipped, and `on_reject: abort` stops the playbook. Decisions arrive through
 * the `decideApproval` update (validated in decisions.ts) and are read from the run state here.
 */
import { isCancellation } from '@temporalio/workflow';
import type { Phase } from '../domain/incident';
import type { ApprovalStep, Step } from '../playbooks/schema';
import { buildScope } from './playbook-model';
import { approvalLike, showApproval, showEscalation, slackEnabled } from './slack-notify';
import { render } from '../playbooks/expr';
import {
  abort,
  actionRequest,
  errorMessage,
  io,
  markSkipped,
  nowIso,
  projection,
  project,
  scaledMs,
  setStep,
  system,
  waitUntil,
  type Ctx,
} from './step-runtime';

export async function runApproval(
  ctx: Ctx,
  step: ApprovalStep,
  phase: Phase,
  runSteps: (ctx: Ctx, steps: Step[], phase: Phase) => Promise<void>,
): Promise<void> {
  let s = ctx.run.steps[step.id];
  if (!s) {
    const scope = buildScope(ctx.input, ctx.run);
    const rendered = step.requester ? render(step.requester, scope) : ctx.input.requestedBy;
    const requester = typeof rendered === 'string' && rendered ? rendered : undefined;
    const deadline = step.timeout
      ? new Date(Date.now() + scaledMs(ctx, step.timeout)).toISOString()
      : undefined;
    s = await setStep(
      ctx,
      step,
      phase,
      { status: 'waiting', approvals: [], requester, deadline, escalated: false },
      `Approval requested: ${step.prompt}`,
    );
    if (slackEnabled()) showApproval(ctx.input.incidentId, approvalLike(ctx, step, s));
  }
  const state = s;
  const count = (d: 'approve' | 'reject') => (state.approvals ?? []).filter((a) => a.decision === d).length;
  while (state.approved === undefined) {
    const decided = () => count('approve') >= step.min_approvals || count('reject') > 0;
    if (await waitUntil(ctx, decided, state.deadline)) {
      state.approved = count('reject') === 0;
      break;
    }
    if (!state.escalated && step.on_timeout === 'escalate' && step.escalation) {
      const esc = step.escalation;
      // Notify first: if the run continues-as-new before this lands, the next run escalates
      // again and the idempotent action (same step id) is not sent twice.
      let told = `escalated to ${esc.target}`;
      try {
        await io(ctx, () =>
          projection.executeAction(
            actionRequest(ctx, `${step.id}.escalation`, 'notify', {
              message: `Approval needed: ${step.prompt} (no decision in ${step.timeout})`,
              target: esc.target,
            }),
          ),
        );
      } catch (err) {
        if (isCancellation(err)) throw err;
        told = `could not notify ${esc.target} (${errorMessage(err)})`;
      }
      showEscalation(
        ctx,
        step.id,
        esc.target,
        `No decision on "${step.prompt}" in ${step.timeout}: please decide`,
      );
      state.escalated = true;
      state.deadline = new Date(Date.now() + scaledMs(ctx, esc.timeout)).toISOString();
      await setStep(
        ctx,
        step,
        phase,
        { status: 'waiting' },
        `Approval ${told}; new deadline ${state.deadline}`,
      );
      await project(ctx, 'recordTimeline', {
        incidentId: ctx.input.incidentId,
        kind: 'approval.escalated',
        actor: system(ctx),
        message: `Approval ${step.id} ${told}; new deadline ${state.deadline}`,
        data: { stepId: step.id, target: esc.target, deadline: state.deadline },
        eventKey: `${ctx.input.incidentId}:step:${step.id}:escalated`,
        at: nowIso(),
      });
      continue;
    }
    const outcome = state.escalated && step.escalation ? step.escalation.on_timeout : step.on_timeout;
    await project(ctx, 'recordTimeline', {
      incidentId: ctx.input.incidentId,
      kind: 'approval.timed_out',
      actor: system(ctx),
      message: `Approval ${step.id} timed out: ${outcome}`,
      data: { stepId: step.id, outcome },
      eventKey: `${ctx.input.incidentId}:step:${step.id}:timed_out`,
      at: nowIso(),
    });
    if (slackEnabled()) {
      showApproval(ctx.input.incidentId, approvalLike(ctx, step, state), {
        decision: 'expired',
        at: nowIso(),
      });
    }
    if (outcome === 'abort') {
      await setStep(
        ctx,
        step,
        phase,
        { status: 'failed', error: 'approval timed out' },
        `Approval ${step.id} timed out`,
      );
      throw abort(ctx, `approval ${step.id} timed out`, system(ctx));
    }
    state.approved = outcome === 'approve';
  }
  if (slackEnabled()) {
    const last = (state.approvals ?? []).at(-1);
    showApproval(ctx.input.incidentId, approvalLike(ctx, step, state), {
      decision: state.approved ? 'approved' : 'rejected',
      at: nowIso(),
      ...(last ? { by: { id: last.actorId } } : {}),
      ...(last?.reason ? { reason: last.reason } : {}),
    });
  }
  if (!state.approved) {
    markSkipped(ctx, step.steps, phase);
    await setStep(ctx, step, phase, { status: 'rejected' }, `Approval ${step.id} rejected`);
    if (step.on_reject === 'abort') throw abort(ctx, `approval ${step.id} was rejected`, system(ctx));
    return;
  }
  if (state.status === 'waiting')
    await setStep(ctx, step, phase, { status: 'running' }, `Approval ${step.id} granted`);
  await runSteps(ctx, step.steps ?? [], phase);
  await setStep(ctx, step, phase, { status: 'succeeded' }, `Approval ${step.id} done`);
}

/** Runs every phase in order; on abort, runs the compensations in reverse order. */
