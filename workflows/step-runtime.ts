/**
 * The interpreter's runtime, shared by every step kind: the run context, projection of step
 * transitions (activities, with workflow time), the abort signal, action requests (drill
 * outcomes only in drill mode), per-step retry/timeout options, compensations and deadline waits.
 * `io` counts activities in flight and holds new ones back once the workflow is suspending
 * (continue-as-new or close), so no action is ever left half-recorded across runs.
 */
import {
  ActivityFailure,
  condition,
  isCancellation,
  patched,
  proxyActivities,
  proxyLocalActivities,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ProjectionWrite } from '../activities/incidents';
import { isActionName, undoOf } from '../domain/action-catalog';
import type { ActionRequest } from '../domain/actions';
import type { IncidentStart, PinnedPlaybook, Phase, StepState } from '../domain/incident';
import { render } from '../playbooks/expr';
import type { ActionStep, Step } from '../playbooks/schema';
import { childLists } from '../playbooks/step-tree';
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

export const localProjection = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', backoffCoefficient: 2 },
});

/**
 * Step, phase and timeline projections are local activities in runs that started with this patch:
 * the worker writes SQLite directly instead of a server round trip per transition, which made the
 * path from alert to first containment action a chain of ~15 sequential activity tasks.
 */
const LOCAL_PROJECTION_PATCH = 'local-projection-v1';

function projections(): Pick<Activities, 'recordStep' | 'recordPhase' | 'recordTimeline'> {
  return patched(LOCAL_PROJECTION_PATCH) ? localProjection : projection;
}

/**
 * Projection writes are queued and flushed by one local activity per workflow task, in order and
 * in one transaction, instead of one awaited local activity each: a task that moved three steps
 * took ~60 ms of sequential local activities before its next action could be scheduled.
 */
export const BATCHED_PROJECTIONS_PATCH = 'batched-projections-v1';

type ProjectionKind = ProjectionWrite['kind'];
type ProjectionInput<K extends ProjectionKind> = Extract<ProjectionWrite, { kind: K }>['input'];

/** Records a step, phase or timeline projection: queued in batched runs, else awaited. */
export async function project<K extends ProjectionKind>(
  ctx: Ctx,
  kind: K,
  input: ProjectionInput<K>,
): Promise<void> {
  if (ctx.suspending) await condition(() => false);
  if (ctx.projectionQueue) {
    ctx.projectionQueue.push({ kind, input } as ProjectionWrite);
    return;
  }
  const write = projections()[kind] as (i: ProjectionInput<K>) => Promise<void>;
  await io(ctx, () => write(input));
}

/**
 * Flushes the queue for the life of the run: whatever was queued while the last flush ran goes in
 * the next. Each write is idempotent (upserts, timeline event keys), so a retried flush is safe.
 */
export function startProjectionFlusher(ctx: Ctx): void {
  const queue = ctx.projectionQueue;
  if (!queue) return;
  void (async () => {
    for (;;) {
      await condition(() => queue.length > 0);
      const writes = queue.splice(0, queue.length);
      ctx.inFlight++;
      try {
        await localProjection.recordProjections({ writes });
      } finally {
        ctx.inFlight--;
      }
    }
  })();
}

/** Nothing in flight and nothing queued: the run may continue-as-new or end. */
export function idle(ctx: Ctx): boolean {
  return ctx.inFlight === 0 && (ctx.projectionQueue?.length ?? 0) === 0;
}

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
  /** The patches this run decided in its first activation (see decideRunPatches). */
  patches: ReadonlySet<string>;
  /** Steps running in the background (`wait: false` notifications); awaited before the run ends. */
  background: Promise<void>[];
  /** Projection writes not yet flushed (runs with BATCHED_PROJECTIONS_PATCH only). */
  projectionQueue?: ProjectionWrite[];
  onPhase(phase: Phase): void;
}

export const nowIso = () => new Date().toISOString();
export const system = (ctx: Ctx) => `playbook:${ctx.pinned.id}`;

/** Marks histories of drills whose timers are compressed by `IncidentStart.speed`. */
export const DRILL_SPEED_PATCH = 'drill-speed';

function drillSpeed(input: IncidentStart): number | undefined {
  const speed = input.mode === 'drill' ? input.speed : undefined;
  return speed === undefined || speed === 1 || !(speed > 0) ? undefined : speed;
}

/**
 * Patches whose first use comes after a local activity are decided here, once, in the run's first
 * activation. A local activity's result is known at once on replay, but the first time it can
 * arrive in a later workflow task; a patched() call placed after one could then run in a different
 * task on replay than it did live, and replay fails ("patch marker ... but no corresponding change
 * command"). Only a drill with a speed asks for DRILL_SPEED_PATCH, so live histories lack it.
 */
export function decideRunPatches(input: IncidentStart, ids: readonly string[]): Set<string> {
  const all = drillSpeed(input) === undefined ? ids : [...ids, DRILL_SPEED_PATCH];
  return new Set(all.filter((id) => patched(id)));
}

/**
 * Whether this run has a patch. Runs that started before decideRunPatches existed recorded their
 * marker where the patch is used, so the call there stays as the fallback for their replay.
 */
export function hasPatch(ctx: Ctx, id: string): boolean {
  return ctx.patches.has(id) || patched(id);
}

/** A playbook duration in workflow milliseconds: divided by the drill's speed factor. */
export function scaledMs(ctx: Ctx, d: string): number {
  const speed = drillSpeed(ctx.input);
  if (speed === undefined || !hasPatch(ctx, DRILL_SPEED_PATCH)) return durationMs(d);
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
  await project(ctx, 'recordStep', {
    incidentId: ctx.input.incidentId,
    stepId: step.id,
    phase,
    kind: step.kind,
    status: s.status,
    actor,
    message,
    at,
    data,
  });
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
  const undo = isActionName(step.action) ? undoOf(step.action) : undefined;
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
  await project(ctx, 'recordTimeline', {
    incidentId: ctx.input.incidentId,
    kind: ok ? 'compensation.succeeded' : 'compensation.failed',
    actor: system(ctx),
    message: `Undo of ${c.stepId}: ${c.action}: ${summary}`,
    data: { stepId: c.stepId, action: c.action },
    eventKey: `${ctx.input.incidentId}:compensation:${c.stepId}`,
    at: nowIso(),
  });
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
