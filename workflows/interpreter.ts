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
import { ActivityFailure, condition, isCancellation, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { ACTIONS, isActionName, type ActionRequest } from '../domain/actions';
import type { IncidentStart, PinnedPlaybook, Phase, StepState } from '../domain/incident';
import { MILESTONES, PHASES } from '../domain/phases';
import { evalCondition, render } from '../playbooks/expr';
import { childLists, type ActionStep, type ApprovalStep, type Step } from '../playbooks/schema';
import {
  buildScope,
  durationMs,
  isDone,
  type CompensationEntry,
  type IndexedStep,
  type PlaybookRun,
} from './playbook-model';

export const projection = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', backoffCoefficient: 2 },
});

export class PlaybookAborted extends Error {
  constructor(
    readonly reason: string,
    readonly actor: string,
  ) {
    super(reason);
  }
}

class StepFailed extends Error {}

export interface Ctx {
  input: IncidentStart;
  pinned: PinnedPlaybook;
  run: PlaybookRun;
  index: Map<string, IndexedStep>;
  abortRequested?: { actor: string; reason: string };
  /** Set before continue-as-new or close: no new activity starts. */
  suspending: boolean;
  inFlight: number;
  onPhase(phase: Phase): void;
}

const nowIso = () => new Date().toISOString();
const system = (ctx: Ctx) => `playbook:${ctx.pinned.id}`;

async function io<T>(ctx: Ctx, fn: () => Promise<T>): Promise<T> {
  if (ctx.suspending) await condition(() => false);
  ctx.inFlight++;
  try {
    return await fn();
  } finally {
    ctx.inFlight--;
  }
}

function abort(ctx: Ctx, reason: string, actor: string): PlaybookAborted {
  ctx.abortRequested ??= { actor, reason };
  return new PlaybookAborted(ctx.abortRequested.reason, ctx.abortRequested.actor);
}

function checkAbort(ctx: Ctx): void {
  if (ctx.abortRequested) throw new PlaybookAborted(ctx.abortRequested.reason, ctx.abortRequested.actor);
}

async function setStep(
  ctx: Ctx,
  step: Step,
  phase: Phase,
  patch: Partial<StepState>,
  message: string,
  actor = system(ctx),
): Promise<StepState> {
  const s: StepState = {
    ...(ctx.run.steps[step.id] ?? { id: step.id, kind: step.kind, phase, status: 'pending' }),
    ...patch,
  };
  const at = nowIso();
  if (patch.status === 'running' || patch.status === 'waiting') s.startedAt ??= at;
  if (isDone(s)) s.finishedAt = at;
  ctx.run.steps[step.id] = s;
  const data: Record<string, unknown> = {};
  for (const k of [
    'ok',
    'verified',
    'summary',
    'error',
    'deadline',
    'requester',
    'branch',
    'completedBy',
  ] as const) {
    if (s[k] !== undefined) data[k] = s[k];
  }
  await io(ctx, () =>
    projection.recordStep({
      incidentId: ctx.input.incidentId,
      stepId: step.id,
      phase,
      kind: step.kind,
      status: s.status,
      actor,
      message,
      at,
      data,
    }),
  );
  return s;
}

function markSkipped(ctx: Ctx, steps: Step[] | undefined, phase: Phase): void {
  for (const step of steps ?? []) {
    ctx.run.steps[step.id] ??= { id: step.id, kind: step.kind, phase, status: 'skipped' };
    for (const list of childLists(step)) markSkipped(ctx, list, phase);
  }
}

function actionRequest(
  ctx: Ctx,
  stepId: string,
  action: string,
  params: Record<string, unknown>,
): ActionRequest {
  if (!isActionName(action)) throw new StepFailed(`unknown action ${action}`);
  const scripted = ctx.input.mode === 'drill' ? ctx.input.scripted?.[stepId] : undefined;
  return {
    incidentId: ctx.input.incidentId,
    stepId,
    action,
    params,
    mode: ctx.input.mode,
    actor: system(ctx),
    ...(scripted ? { scripted } : {}),
  };
}

function executor(step: Step) {
  return proxyActivities<Activities>({
    startToCloseTimeout: step.timeout ? durationMs(step.timeout) : '2 minutes',
    retry: {
      maximumAttempts: step.retry?.attempts ?? 3,
      initialInterval: durationMs(step.retry?.backoff ?? '2s'),
      backoffCoefficient: 2,
    },
  });
}

function compensationFor(
  ctx: Ctx,
  step: ActionStep,
  params: Record<string, unknown>,
): CompensationEntry | undefined {
  if (step.compensation === 'none') return undefined;
  if (step.compensation) {
    const p = step.compensation.params
      ? (render(step.compensation.params, buildScope(ctx.input, ctx.run)) as Record<string, unknown>)
      : params;
    return { stepId: step.id, action: step.compensation.action, params: p };
  }
  const undo = isActionName(step.action) ? (ACTIONS[step.action] as { undo?: string }).undo : undefined;
  return undo ? { stepId: step.id, action: undo, params } : undefined;
}

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

export async function runCompensation(ctx: Ctx, c: CompensationEntry): Promise<void> {
  const stepId = `${c.stepId}.undo`;
  const entry = ctx.index.get(c.stepId);
  let ok = false;
  let summary: string;
  try {
    const result = await io(ctx, () =>
      projection.executeAction(actionRequest(ctx, stepId, c.action, c.params)),
    );
    ok = result.ok;
    summary = result.summary;
  } catch (err) {
    if (isCancellation(err)) throw err;
    summary = `compensation ${c.action} failed: ${errorMessage(err)}`;
  }
  if (entry && ok) ctx.run.steps[c.stepId] = { ...ctx.run.steps[c.stepId]!, status: 'compensated' };
  await io(ctx, () =>
    projection.recordTimeline({
      incidentId: ctx.input.incidentId,
      kind: ok ? 'compensation.succeeded' : 'compensation.failed',
      actor: system(ctx),
      message: `Undo of ${c.stepId}: ${c.action}: ${summary}`,
      data: { stepId: c.stepId, action: c.action },
      eventKey: `${ctx.input.incidentId}:compensation:${c.stepId}`,
      at: nowIso(),
    }),
  );
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
async function waitUntil(ctx: Ctx, done: () => boolean, deadline: string | undefined): Promise<boolean> {
  const wake = () => done() || ctx.abortRequested !== undefined;
  if (deadline === undefined) {
    await condition(wake);
  } else {
    const remaining = Date.parse(deadline) - Date.now();
    if (remaining > 0) await condition(wake, remaining);
  }
  checkAbort(ctx);
  return done();
}

/** The failure's own reason, not the "Activity task failed" wrapper around it. */
function errorMessage(err: unknown): string {
  let e = err;
  while (e instanceof ActivityFailure && e.cause) e = e.cause;
  return e instanceof Error ? e.message : String(e);
}

export async function runSteps(ctx: Ctx, steps: Step[], phase: Phase): Promise<void> {
  for (const step of steps) await runStep(ctx, step, phase);
}

async function runStep(ctx: Ctx, step: Step, phase: Phase): Promise<void> {
  const existing = ctx.run.steps[step.id];
  if (isDone(existing)) return;
  checkAbort(ctx);
  if (!existing && step.when && !evalCondition(step.when, buildScope(ctx.input, ctx.run))) {
    await setStep(ctx, step, phase, { status: 'skipped' }, `Skipped ${step.id}: ${step.when} is false`);
    for (const list of childLists(step)) markSkipped(ctx, list, phase);
    return;
  }
  try {
    await STEP_RUNNERS[step.kind](ctx, step as never, phase);
  } catch (err) {
    if (err instanceof PlaybookAborted || isCancellation(err)) throw err;
    await fail(ctx, step, phase, errorMessage(err));
  }
}

const STEP_RUNNERS: {
  [K in Step['kind']]: (ctx: Ctx, step: Extract<Step, { kind: K }>, phase: Phase) => Promise<void>;
} = {
  action: runAction,
  notify: runAction,
  async wait(ctx, step, phase) {
    const s = ctx.run.steps[step.id];
    const wakeAt = s?.wakeAt ?? new Date(Date.now() + durationMs(step.duration)).toISOString();
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
      const deadline = step.deadline
        ? new Date(Date.now() + durationMs(step.deadline)).toISOString()
        : undefined;
      s = await setStep(ctx, step, phase, { status: 'waiting', deadline }, `Task: ${step.task}`);
    }
    const state = s;
    if (!(await waitUntil(ctx, () => state.completedBy !== undefined, state.deadline))) {
      throw new StepFailed(`task not done by its deadline ${state.deadline}`);
    }
    await setStep(ctx, step, phase, { status: 'succeeded' }, `Done: ${step.task}`, state.completedBy);
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
  approval: runApproval,
};

async function runApproval(ctx: Ctx, step: ApprovalStep, phase: Phase): Promise<void> {
  let s = ctx.run.steps[step.id];
  if (!s) {
    const scope = buildScope(ctx.input, ctx.run);
    const rendered = step.requester ? render(step.requester, scope) : ctx.input.requestedBy;
    const requester = typeof rendered === 'string' && rendered ? rendered : undefined;
    const deadline = step.timeout ? new Date(Date.now() + durationMs(step.timeout)).toISOString() : undefined;
    s = await setStep(
      ctx,
      step,
      phase,
      { status: 'waiting', approvals: [], requester, deadline, escalated: false },
      `Approval requested: ${step.prompt}`,
    );
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
      state.escalated = true;
      state.deadline = new Date(Date.now() + durationMs(step.escalation.timeout)).toISOString();
      const esc = step.escalation;
      await io(ctx, () =>
        projection.executeAction(
          actionRequest(ctx, `${step.id}.escalation`, 'notify', {
            message: `Approval needed: ${step.prompt} (no decision in ${step.timeout})`,
            target: esc.target,
          }),
        ),
      );
      await setStep(
        ctx,
        step,
        phase,
        { status: 'waiting' },
        `Escalated to ${esc.target}; new deadline ${state.deadline}`,
      );
      await io(ctx, () =>
        projection.recordTimeline({
          incidentId: ctx.input.incidentId,
          kind: 'approval.escalated',
          actor: system(ctx),
          message: `Approval ${step.id} escalated to ${esc.target}; new deadline ${state.deadline}`,
          data: { stepId: step.id, target: esc.target, deadline: state.deadline },
          eventKey: `${ctx.input.incidentId}:step:${step.id}:escalated`,
          at: nowIso(),
        }),
      );
      continue;
    }
    const outcome = state.escalated && step.escalation ? step.escalation.on_timeout : step.on_timeout;
    await io(ctx, () =>
      projection.recordTimeline({
        incidentId: ctx.input.incidentId,
        kind: 'approval.timed_out',
        actor: system(ctx),
        message: `Approval ${step.id} timed out: ${outcome}`,
        data: { stepId: step.id, outcome },
        eventKey: `${ctx.input.incidentId}:step:${step.id}:timed_out`,
        at: nowIso(),
      }),
    );
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
export async function runPlaybook(ctx: Ctx): Promise<void> {
  const { run } = ctx;
  let outcome: 'completed' | 'aborted';
  try {
    for (const phase of PHASES) {
      const steps = ctx.pinned.definition.phases[phase];
      if (!steps || run.milestones.includes(phase)) continue;
      run.phase = phase;
      ctx.onPhase(phase);
      await io(ctx, () =>
        projection.recordPhase({ incidentId: ctx.input.incidentId, phase, actor: system(ctx), at: nowIso() }),
      );
      await runSteps(ctx, steps, phase);
      run.milestones.push(phase);
      await io(ctx, () =>
        projection.recordPhase({
          incidentId: ctx.input.incidentId,
          phase,
          milestone: MILESTONES[phase],
          actor: system(ctx),
          at: nowIso(),
        }),
      );
    }
    outcome = 'completed';
    run.phase = 'done';
  } catch (err) {
    if (!(err instanceof PlaybookAborted)) throw err;
    run.abortReason = err.reason;
    // Actions still running in parallel branches finish first, so their undo is not missed.
    await condition(() => ctx.inFlight === 0);
    while (run.compensations.length > 0) await runCompensation(ctx, run.compensations.pop()!);
    // Containers and waits cut short by the abort do not stay "running" in the query.
    for (const s of Object.values(run.steps)) {
      if (s.status === 'running' || s.status === 'waiting')
        Object.assign(s, { status: 'failed', error: 'aborted' });
    }
    outcome = 'aborted';
  }
  await io(ctx, () =>
    projection.recordTimeline({
      incidentId: ctx.input.incidentId,
      kind: `playbook.${outcome}`,
      actor: ctx.abortRequested?.actor ?? system(ctx),
      message:
        outcome === 'aborted'
          ? `Playbook ${ctx.pinned.id} aborted: ${run.abortReason}`
          : `Playbook ${ctx.pinned.id} completed`,
      eventKey: `${ctx.input.incidentId}:playbook:${outcome}`,
      at: nowIso(),
    }),
  );
  // Set last, so whoever sees the outcome in a query also finds it in the timeline.
  run.status = outcome;
}
