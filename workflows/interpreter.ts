/**
 * The playbook interpreter: runs each step kind (action, notify, wait, abort, manual_task,
 * approval, condition, parallel); playbook-runner.ts walks the phases. It is re-entrant:
 * a step already finished in the carried run state is skipped and a waiting step resumes from its
 * stored absolute deadline, so the incident workflow can continue-as-new at any pause. Actions go
 * through the idempotent `executeAction` activity; every transition is projected (ProjectionQueue).
 *
 * Failure semantics per step (`on_failure`): `continue` records the failure and goes on;
 * `abort` stops the playbook, and the undo of every completed action runs in reverse order;
 * `compensate` undoes this step's own effect (e.g. an action that ran but was not verified) and
 * goes on. Containment fails closed: neither an abort nor `compensate` undoes a containment
 * action (compensation.ts), and a failed containment step marks the incident as needing
 * attention (needs-attention.ts) whatever its `on_failure`. Retries (`retry.attempts`, `retry.backoff`) apply to activity errors; an action that
 * reports ok:false is a definite answer and is not retried.
 */
import { condition, isCancellation } from '@temporalio/workflow';
import { isContaining } from '../domain/action-catalog';
import type { Phase } from '../domain/incident';
import type { ManualTaskStep, Step } from '../domain/playbook';
import type { TaskView } from '../domain/slack-views';
import { evalCondition, render } from '../playbooks/expr';
import { childLists } from '../playbooks/step-tree';
import { actionRequest, stepActions } from './action-requests';
import { runApproval } from './approval-step';
import { compensationFor, keepContainment, runCompensation } from './compensation';
import { markNeedsAttention } from './needs-attention';
import { nowIso, type PlaybookContext } from './playbook-context';
import { errorMessage, PlaybookAborted, StepFailed } from './playbook-errors';
import { buildScope, isDone, type CompensationEntry } from './playbook-model';
import { showTask } from './slack-notify';
import { markSkipped, setStep } from './step-transitions';

async function runAction(
  ctx: PlaybookContext,
  step: Step & { kind: 'action' | 'notify' },
  phase: Phase,
): Promise<void> {
  const scope = buildScope(ctx.input, ctx.run);
  const action = step.kind === 'notify' ? 'notify' : step.action;
  const params = (
    step.kind === 'notify'
      ? render({ message: step.message, ...(step.target ? { target: step.target } : {}) }, scope)
      : render(step.params, scope)
  ) as Record<string, unknown>;
  const req = actionRequest(ctx, step.id, action, params);
  await setStep(ctx, step, phase, { status: 'running' }, `Running ${action}`);
  const result = await ctx.activity(() => stepActions(step).executeAction(req));
  Object.assign(ctx.run.steps[step.id]!, {
    ok: result.ok,
    verified: result.verified,
    summary: result.summary,
    output: result.output,
  });
  if (result.ok && step.kind === 'action') {
    releaseContainment(ctx, action, params);
    const comp = compensationFor(ctx, step, params);
    if (comp) ctx.run.compensations.push(comp);
  }
  if (!result.ok) throw new StepFailed(`${action} failed: ${result.summary}`);
  if (step.kind === 'action' && step.require_verified && !result.verified) {
    throw new StepFailed(`${action} did not verify: ${result.summary}`);
  }
  await setStep(ctx, step, phase, { status: 'succeeded' }, result.summary);
}

/**
 * A playbook step that is itself the undo of a held containment (an approved `agent.enable` after
 * the disable) releases it: the containment is no longer owed, nor reported as holding.
 */
function releaseContainment(ctx: PlaybookContext, action: string, params: Record<string, unknown>): void {
  const owed = ctx.run.compensations;
  const released = (c: CompensationEntry) =>
    ctx.holds(c) &&
    c.action === action &&
    ['agent_id', 'credential_id', 'resource'].every((k) => c.params[k] === params[k]);
  for (let i = owed.length - 1; i >= 0; i--) if (released(owed[i]!)) owed.splice(i, 1);
}

async function fail(ctx: PlaybookContext, step: Step, phase: Phase, reason: string): Promise<void> {
  await setStep(ctx, step, phase, { status: 'failed', error: reason }, `Step ${step.id} failed: ${reason}`);
  if (step.kind === 'action' && isContaining(step.action))
    await markNeedsAttention(ctx, `containment step ${step.id} failed: ${reason}`, step.id);
  if (step.on_failure === 'abort') throw ctx.abort(`step ${step.id} failed: ${reason}`, ctx.actor, step.id);
  if (step.on_failure === 'compensate') {
    const i = ctx.run.compensations.findIndex((c) => c.stepId === step.id);
    const c = i >= 0 ? ctx.run.compensations[i]! : undefined;
    // An unverified containment stays in place: undoing it on a failure would fail open.
    if (c && ctx.holds(c)) await keepContainment(ctx, c, `step ${step.id} failed: ${reason}`);
    else if (c) {
      ctx.run.compensations.splice(i, 1);
      await runCompensation(ctx, c);
    }
  }
}

export async function runSteps(ctx: PlaybookContext, steps: Step[], phase: Phase): Promise<void> {
  for (const step of steps) {
    if ('wait' in step && step.wait === false) inBackground(ctx, step, phase);
    else await runStep(ctx, step, phase);
  }
}

/**
 * Starts a `wait: false` step (a notify, or an action or parallel that changes nothing, such as
 * the forensic snapshot taken before containment) and returns at once. Its outcome is recorded
 * like any step's; if its on_failure aborts, the abort is requested and the playbook stops at its
 * next step. It starts after the foreground's next commands: see `afterForeground`.
 */
function inBackground(ctx: PlaybookContext, step: Step, phase: Phase): void {
  ctx.background.push(
    afterForeground()
      .then(() => runStep(ctx, step, phase))
      .catch((err: unknown) => {
        if (err instanceof PlaybookAborted || isCancellation(err)) return;
        throw err;
      }),
  );
}

/**
 * Resolves once the rest of this activation has run. The SDK evaluates blocked conditions only
 * after the workflow's pending microtasks settle, and this one holds at its second evaluation, so
 * the foreground reaches its next wait first: containment's activity is scheduled (and started by
 * the worker) before the background snapshot's, which would otherwise take the worker's event loop
 * and SQLite first. Deterministic: the same activation runs the same way on replay.
 */
function afterForeground(): Promise<void> {
  let evaluated = false;
  return condition(() => {
    if (evaluated) return true;
    evaluated = true;
    return false;
  });
}

async function runStep(ctx: PlaybookContext, step: Step, phase: Phase): Promise<void> {
  const existing = ctx.run.steps[step.id];
  if (isDone(existing)) return;
  ctx.throwIfAborted();
  try {
    if (!existing && step.when && !evalCondition(step.when, buildScope(ctx.input, ctx.run))) {
      const why = `${step.when} is false`;
      await setStep(ctx, step, phase, { status: 'skipped' }, `Skipped ${step.id}: ${why}`);
      for (const list of childLists(step)) await markSkipped(ctx, list, phase, why);
      return;
    }
    // Expressions and templates that fail at run time fail the step (its on_failure applies).
    await STEP_RUNNERS[step.kind](ctx, step as never, phase);
  } catch (err) {
    if (err instanceof PlaybookAborted || isCancellation(err)) throw err;
    await fail(ctx, step, phase, errorMessage(err));
  }
}

function taskView(ctx: PlaybookContext, step: ManualTaskStep): TaskView {
  return {
    incidentId: ctx.incidentId,
    stepId: step.id,
    title: step.task,
    instructions: step.checklist?.map((c) => `• ${c}`).join('\n'),
    assignee: step.assignee,
  };
}

const STEP_RUNNERS: {
  [K in Step['kind']]: (
    ctx: PlaybookContext,
    step: Extract<Step, { kind: K }>,
    phase: Phase,
  ) => Promise<void>;
} = {
  action: runAction,
  notify: runAction,
  async wait(ctx, step, phase) {
    const s = ctx.run.steps[step.id];
    const wakeAt = s?.wakeAt ?? ctx.deadlineAfter(step.duration);
    if (s?.status !== 'waiting')
      await setStep(ctx, step, phase, { status: 'waiting', wakeAt }, `Waiting ${step.duration}`);
    await ctx.waitUntil(() => false, wakeAt);
    await setStep(ctx, step, phase, { status: 'succeeded' }, `Waited ${step.duration}`);
  },
  async abort(ctx, step, phase) {
    await setStep(ctx, step, phase, { status: 'succeeded' }, `Abort: ${step.reason}`);
    throw ctx.abort(step.reason, ctx.actor);
  },
  async manual_task(ctx, step, phase) {
    let s = ctx.run.steps[step.id];
    if (s?.status !== 'waiting') {
      // `deadline` is the task's own word for it; a generic step `timeout` means the same here.
      const limit = step.deadline ?? step.timeout;
      const deadline = limit ? ctx.deadlineAfter(limit) : undefined;
      s = await setStep(ctx, step, phase, { status: 'waiting', deadline }, `Task: ${step.task}`);
      showTask(taskView(ctx, step));
    }
    const state = s;
    if (!(await ctx.waitUntil(() => state.completedBy !== undefined, state.deadline))) {
      throw new StepFailed(`task not done by its deadline ${state.deadline}`);
    }
    await setStep(ctx, step, phase, { status: 'succeeded' }, `Done: ${step.task}`, state.completedBy);
    showTask(taskView(ctx, step), {
      by: state.completedBy!,
      at: nowIso(),
      ...(state.note ? { note: state.note } : {}),
    });
  },
  async condition(ctx, step, phase) {
    let branch = ctx.run.steps[step.id]?.branch;
    if (!branch) {
      const yes = evalCondition(step.if, buildScope(ctx.input, ctx.run));
      branch = yes ? 'then' : step.else ? 'else' : 'none';
      await markSkipped(ctx, yes ? step.else : step.steps, phase, `${step.if} → ${branch}`);
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
