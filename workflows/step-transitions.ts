/**
 * A step's state changes: applied in place to the run state (update handlers and waiting steps
 * hold the same object) and projected to the step's row and the timeline, with workflow time.
 * Steps that will never run (a false `when`, the branch not taken, everything under a rejected
 * approval) are recorded as `skipped`, so the timeline accounts for every step.
 */
import type { Phase, StepState } from '../domain/incident';
import type { Step } from '../domain/playbook';
import { childLists } from '../playbooks/step-tree';
import { nowIso, type PlaybookContext } from './playbook-context';
import { isDone } from './playbook-model';

const PROJECTED_FIELDS = [
  'ok',
  'verified',
  'summary',
  'error',
  'deadline',
  'requester',
  'branch',
  'completedBy',
] as const;

export async function setStep(
  ctx: PlaybookContext,
  step: Step,
  phase: Phase,
  patch: Partial<StepState>,
  message: string,
  actor = ctx.actor,
): Promise<StepState> {
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
  for (const k of PROJECTED_FIELDS) if (s[k] !== undefined) data[k] = s[k];
  await ctx.project('recordStep', {
    incidentId: ctx.incidentId,
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

/** Records every step of `steps` (nested ones too) that has no state yet as skipped. */
export async function markSkipped(
  ctx: PlaybookContext,
  steps: Step[] | undefined,
  phase: Phase,
  why: string,
): Promise<void> {
  for (const step of steps ?? []) {
    if (!ctx.run.steps[step.id])
      await setStep(ctx, step, phase, { status: 'skipped' }, `Skipped ${step.id}: ${why}`);
    for (const list of childLists(step)) await markSkipped(ctx, list, phase, why);
  }
}
