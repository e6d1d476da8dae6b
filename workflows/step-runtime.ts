/**
 * The interpreter's runtime, shared by every step kind: the run context, projection of step
 * transitions (activities, with workflow time), the abort signal, action requests (drill
 * outcomes only in drill mode), per-step retry/timeout options, compensations and deadline waits.
 * `io` counts activities in flight and holds new ones back once the workflow is suspending
 * (continue-as-new or close), so no action is ever left half-recorded across runs.
 */
import { ActivityFailure, condition, isCancellation, patched, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { ACTIONS, isActionName, type ActionRequest } from '../domain/actions';
import type { IncidentStart, PinnedPlaybook, Phase, StepState } from '../domain/incident';
import { render } from '../playbooks/expr';
import { childLists, type ActionStep, type Step } from '../playbooks/schema';
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

export class StepFailed extends Error {}

export interface Ctx {
  input: IncidentStart;
  pinned: PinnedPlaybook;
  run: PlaybookRun;
  index: Map<string, IndexedStep>;
  /** Set before continue-as-new or close: no new activity starts. */
  suspending: boolean;
  inFlight: number;
  onPhase(phase: Phase): void;
}

export const nowIso = () => new Date().toISOString();
export const system = (ctx: Ctx) => `playbook:${ctx.pinned.id}`;

/** Marks histories of drills whose timers are compressed by `IncidentStart.speed`. */
export const DRILL_SPEED_PATCH = 'drill-speed';

/**
 * A playbook duration in workflow milliseconds: divided by the drill's speed factor. Only a drill
 * with a speed calls patched(), so live incidents' histories are unchanged.
 */
export function scaledMs(ctx: Ctx, d: string): number {
  const speed = ctx.input.mode === 'drill' ? ctx.input.speed : undefined;
  if (speed === undefined || speed === 1 || !(speed > 0) || !patched(DRILL_SPEED_PATCH)) return durationMs(d);
  return Math.max(1, Math.round(durationMs(d) / speed));
}

export async function io<T>(ctx: Ctx, fn: () => Promise<T>): Promise<T> {
  if (ctx.suspending) await condition(() => false);
  ctx.inFlight++;
  try {
    return await fn();
  } finally {
    ctx.inFlight--;
  }
}

export function abort(ctx: Ctx, reason: string, actor: string): PlaybookAborted {
  ctx.run.abortRequested ??= { actor, reason };
  return new PlaybookAborted(ctx.run.abortRequested.reason, ctx.run.abortRequested.actor);
}

export function checkAbort(ctx: Ctx): void {
  const a = ctx.run.abortRequested;
  if (a) throw new PlaybookAborted(a.reason, a.actor);
}

export async function setStep(
  ctx: Ctx,
  step: Step,
  phase: Phase,
  patch: Partial<StepState>,
  message: string,
  actor = system(ctx),
): Promise<StepState> {
  // Updated in place: update handlers and waiting steps hold this same object.
  const s: StepState = (ctx.run.steps[step.id] ??= {
    id: step.id,
    kind: step.kind,
    phase,
    status: 'pending',
  });
  Object.assign(s, patch);
  const at = nowIso();
  if (patch.status === 'running' || patch.status === 'waiting') s.startedAt ??= at;
  if (isDone(s)) s.finishedAt = at;
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

export function markSkipped(ctx: Ctx, steps: Step[] | undefined, phase: Phase): void {
  for (const step of steps ?? []) {
    ctx.run.steps[step.id] ??= { id: step.id, kind: step.kind, phase, status: 'skipped' };
    for (const list of childLists(step)) markSkipped(ctx, list, phase);
  }
}

export function actionRequest(
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

export function executor(step: Step) {
  return proxyActivities<Activities>({
    startToCloseTimeout: step.timeout ? durationMs(step.timeout) : '2 minutes',
    retry: {
      maximumAttempts: step.retry?.attempts ?? 3,
      initialInterval: durationMs(step.retry?.backoff ?? '2s'),
      backoffCoefficient: 2,
    },
  });
}

export function compensationFor(
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
  const undone = ctx.run.steps[c.stepId];
  if (entry && ok && undone) undone.status = 'compensated';
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

export async function waitUntil(
  ctx: Ctx,
  done: () => boolean,
  deadline: string | undefined,
): Promise<boolean> {
  const wake = () => done() || ctx.run.abortRequested !== undefined;
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
export function errorMessage(err: unknown): string {
  let e = err;
  while (e instanceof ActivityFailure && e.cause) e = e.cause;
  return e instanceof Error ? e.message : String(e);
}
