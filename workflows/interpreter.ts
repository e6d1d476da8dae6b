/**
 * The playbook interpreter: walks a pinned playbook's phases in order and runs each step kind
 * (action, notify, wait, abort, manual_task, approval, condition, parallel). It is re-entrant:
 * a step already finished in the carried run state is skipped and a waiting step resumes from its
 * stored absolute deadline, so the incident workflow can continue-as-new at any pause. Actions go
 * through the idempotent `executeAction` activity; every transition is projected by activities.
 *
 * Failure semantics per step (`on_failure`): `continue` records the failure and goes on;
 * `abort` stops the playbook, and the undo of every completed action runs in reverse order;
 * `compensate` undoes this step's own effect (e.g. an action that ran but was not verified) and
 * goes on. Retries (`retry.attempts`, `retry.backoff`) apply to activity errors; an action that
 * reports ok:false is a definite answer and is not retried.
 */
import { condition, isCancellation } from '@temporalio/workflow';
import type { Phase } from '../domain/incident';
import { MILESTONES, PHASES } from '../domain/phases';
import { evalCondition, render } from '../playbooks/expr';
import type { ManualTaskStep, Step } from '../playbooks/schema';
import { childLists } from '../playbooks/step-tree';
import type { TaskView } from '../domain/slack-views';
import { runApproval } from './approval-step';
import { showTask, slackEnabled } from './slack-notify';
import { buildScope, isDone } from './playbook-model';
import { writePostmortem } from './postmortem-report';
import {
  abort,
  actionRequest,
  checkAbort,
  compensationFor,
  errorMessage,
  executor,
  idle,
  io,
  markSkipped,
  nowIso,
  PlaybookAborted,
  project,
  runCompensation,
  scaledMs,
  setStep,
  StepFailed,
  system,
  waitUntil,
  type Ctx,
} from './step-runtime';

export { PlaybookAborted, projection, type Ctx } from './step-runtime';

async function runAction(ctx: Ctx, step: Step & { kind: 'action' | 'notify' }, phase: Phase): Promise<void> {
  const scope = buildScope(ctx.input, ctx.run);
  const action = step.kind === 'notify' ? 'notify' : step.action;
  const params = (
    step.kind === 'notify'
      ? render({ message: step.message, ...(step.target ? { target: step.target } : {}) }, scope)
      : render(step.params, scope)
  ) as Record<string, unknown>;
  const req = actionRequest(ctx, step.id, action, params);
  await setStep(ctx, step, phase, { status: 'running' }, `Running ${action}`);
  const result = await io(ctx, () => executor(step).executeAction(req));
  Object.assign(ctx.run.steps[step.id]!, {
    ok: result.ok,
    verified: result.verified,
    summary: result.summary,
    output: result.output,
  });
  if (result.ok && step.kind === 'action') {
    const comp = compensationFor(ctx, step, params);
    if (comp) ctx.run.compensations.push(comp);
  }
  if (!result.ok) throw new StepFailed(`${action} failed: ${result.summary}`);
  if (step.kind === 'action' && step.require_verified && !result.verified) {
    throw new StepFailed(`${action} did not verify: ${result.summary}`);
  }
  await setStep(ctx, step, phase, { status: 'succeeded' }, result.summary);
}

async function fail(ctx: Ctx, step: Step, phase: Phase, reason: string): Promise<void> {
  await setStep(ctx, step, phase, { status: 'failed', error: reason }, `Step ${step.id} failed: ${reason}`);
  if (step.on_failure === 'abort') throw abort(ctx, `step ${step.id} failed: ${reason}`, system(ctx));
  if (step.on_failure === 'compensate') {
    const i = ctx.run.compensations.findIndex((c) => c.stepId === step.id);
    if (i >= 0) {
      const [c] = ctx.run.compensations.splice(i, 1);
      await runCompensation(ctx, c!);
    }
  }
}

/** Waits for `done` until the absolute `deadline` (ISO) if any; true when done, false on timeout. */
export async function runSteps(ctx: Ctx, steps: Step[], phase: Phase): Promise<void> {
  for (const step of steps) {
    if (step.kind === 'notify' && step.wait === false) inBackground(ctx, step, phase);
    else await runStep(ctx, step, phase);
  }
}

/**
 * Starts a `wait: false` step and returns at once. Its outcome is recorded like any step's; if its
 * on_failure aborts, the abort is requested and the playbook stops at its next step.
 */
function inBackground(ctx: Ctx, step: Step, phase: Phase): void {
  ctx.background.push(
    runStep(ctx, step, phase).catch((err: unknown) => {
      if (err instanceof PlaybookAborted || isCancellation(err)) return;
      throw err;
    }),
  );
}

async function runStep(ctx: Ctx, step: Step, phase: Phase): Promise<void> {
  const existing = ctx.run.steps[step.id];
  if (isDone(existing)) return;
  checkAbort(ctx);
  try {
    if (!existing && step.when && !evalCondition(step.when, buildScope(ctx.input, ctx.run))) {
      await setStep(ctx, step, phase, { status: 'skipped' }, `Skipped ${step.id}: ${step.when} is false`);
      for (const list of childLists(step)) markSkipped(ctx, list, phase);
      return;
    }
    // Expressions and templates that fail at run time fail the step (its on_failure applies).
    await STEP_RUNNERS[step.kind](ctx, step as never, phase);
  } catch (err) {
    if (err instanceof PlaybookAborted || isCancellation(err)) throw err;
    await fail(ctx, step, phase, errorMessage(err));
  }
}

function taskView(ctx: Ctx, step: ManualTaskStep): TaskView {
  return {
    incidentId: ctx.input.incidentId,
    stepId: step.id,
    title: step.task,
    instructions: step.checklist?.map((c) => `• ${c}`).join('\n'),
    assignee: step.assignee,
  };
}

const STEP_RUNNERS: {
  [K in Step['kind']]: (ctx: Ctx, step: Extract<Step, { kind: K }>, phase: Phase) => Promise<void>;
} = {
  action: runAction,
  notify: runAction,
  async wait(ctx, step, phase) {
    const s = ctx.run.steps[step.id];
    const wakeAt = s?.wakeAt ?? new Date(Date.now() + scaledMs(ctx, step.duration)).toISOString();
    if (s?.status !== 'waiting')
      await setStep(ctx, step, phase, { status: 'waiting', wakeAt }, `Waiting ${step.duration}`);
    await waitUntil(ctx, () => false, wakeAt);
    await setStep(ctx, step, phase, { status: 'succeeded' }, `Waited ${step.duration}`);
  },
  async abort(ctx, step, phase) {
    await setStep(ctx, step, phase, { status: 'succeeded' }, `Abort: ${step.reason}`);
    throw abort(ctx, step.reason, system(ctx));
  },
  async manual_task(ctx, step, phase) {
    let s = ctx.run.steps[step.id];
    if (s?.status !== 'waiting') {
      // `deadline` is the task's own word for it; a generic step `timeout` means the same here.
      const limit = step.deadline ?? step.timeout;
      const deadline = limit ? new Date(Date.now() + scaledMs(ctx, limit)).toISOString() : undefined;
      s = await setStep(ctx, step, phase, { status: 'waiting', deadline }, `Task: ${step.task}`);
      if (slackEnabled()) showTask(taskView(ctx, step));
    }
    const state = s;
    if (!(await waitUntil(ctx, () => state.completedBy !== undefined, state.deadline))) {
      throw new StepFailed(`task not done by its deadline ${state.deadline}`);
    }
    await setStep(ctx, step, phase, { status: 'succeeded' }, `Done: ${step.task}`, state.completedBy);
    if (slackEnabled()) {
      showTask(taskView(ctx, step), {
        by: state.completedBy!,
        at: nowIso(),
        ...(state.note ? { note: state.note } : {}),
      });
    }
  },
  async condition(ctx, step, phase) {
    let branch = ctx.run.steps[step.id]?.branch;
    if (!branch) {
      const yes = evalCondition(step.if, buildScope(ctx.input, ctx.run));
      branch = yes ? 'then' : step.else ? 'else' : 'none';
      markSkipped(ctx, yes ? step.else : step.steps, phase);
      await setStep(ctx, step, phase, { status: 'running', branch }, `${step.if} → ${branch}`);
    }
    if (branch === 'then') await runSteps(ctx, step.steps, phase);
    if (branch === 'else') await runSteps(ctx, step.else ?? [], phase);
    await setStep(ctx, step, phase, { status: 'succeeded' }, `Condition ${step.id} done`);
  },
  async parallel(ctx, step, phase) {
    if (ctx.run.steps[step.id]?.status !== 'running') {
      await setStep(
        ctx,
        step,
        phase,
        { status: 'running' },
        `Running ${step.steps.length} steps in parallel`,
      );
    }
    const results = await Promise.allSettled(step.steps.map((s) => runStep(ctx, s, phase)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    await setStep(ctx, step, phase, { status: 'succeeded' }, `Parallel ${step.id} done`);
  },
  approval: (ctx, step, phase) => runApproval(ctx, step, phase, runSteps),
};

export async function runPlaybook(ctx: Ctx): Promise<void> {
  const { run } = ctx;
  let outcome: 'completed' | 'aborted';
  try {
    for (const phase of PHASES) {
      const steps = ctx.pinned.definition.phases[phase];
      if (!steps || run.milestones.includes(phase)) continue;
      run.phase = phase;
      ctx.onPhase(phase);
      await project(ctx, 'recordPhase', {
        incidentId: ctx.input.incidentId,
        phase,
        actor: system(ctx),
        at: nowIso(),
      });
      if (phase === 'postmortem') await writePostmortem(ctx);
      await runSteps(ctx, steps, phase);
      run.milestones.push(phase);
      await project(ctx, 'recordPhase', {
        incidentId: ctx.input.incidentId,
        phase,
        milestone: MILESTONES[phase],
        actor: system(ctx),
        at: nowIso(),
      });
    }
    if (ctx.background.length > 0) await Promise.all(ctx.background);
    outcome = 'completed';
    run.phase = 'done';
  } catch (err) {
    if (!(err instanceof PlaybookAborted)) throw err;
    run.abortReason = err.reason;
    if (ctx.background.length > 0) await Promise.all(ctx.background);
    // Actions still running in parallel branches finish first, so their undo is not missed.
    await condition(() => idle(ctx));
    // Popped only once done: a run that continues-as-new mid-way still owes the rest.
    while (run.compensations.length > 0) {
      await runCompensation(ctx, run.compensations[run.compensations.length - 1]!);
      run.compensations.pop();
    }
    // Containers and waits cut short by the abort do not stay "running" in the query.
    for (const s of Object.values(run.steps)) {
      if (s.status === 'running' || s.status === 'waiting')
        Object.assign(s, { status: 'failed', error: 'aborted' });
    }
    outcome = 'aborted';
  }
  await project(ctx, 'recordTimeline', {
    incidentId: ctx.input.incidentId,
    kind: `playbook.${outcome}`,
    actor: run.abortRequested?.actor ?? system(ctx),
    message:
      outcome === 'aborted'
        ? `Playbook ${ctx.pinned.id} aborted: ${run.abortReason}`
        : `Playbook ${ctx.pinned.id} completed`,
    eventKey: `${ctx.input.incidentId}:playbook:${outcome}`,
    at: nowIso(),
  });
  // Set last, once every queued projection is written, so whoever sees the outcome in a query
  // also finds the whole run in the timeline.
  await condition(() => idle(ctx));
  run.status = outcome;
}
