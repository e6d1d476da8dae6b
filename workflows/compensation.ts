/**
 * Compensations: the undo of each completed action, noted as it succeeds (its declared
 * `compensation`, or the catalog's undo of the action) and run in reverse order when the playbook
 * aborts, or for one step whose `on_failure` is `compensate`. Each outcome goes to the timeline.
 *
 * Containment (catalog `contains`: agent.disable, credentials.revoke, access.restrict) fails
 * closed: no failure, timeout or abort runs its undo. Its entry stays owed, the timeline says the
 * containment is kept, and only an explicit release decision (`release` on the abort) undoes it.
 */
import { isCancellation } from '@temporalio/workflow';
import { isActionName, isContaining, undoOf } from '../domain/action-catalog';
import type { ActionStep } from '../domain/playbook';
import { render } from '../playbooks/expr';
import { actionRequest, followUpActions } from './action-requests';
import { nowIso, type PlaybookContext } from './playbook-context';
import { errorMessage } from './playbook-errors';
import { buildScope, type CompensationEntry } from './playbook-model';

export function compensationFor(
  ctx: PlaybookContext,
  step: ActionStep,
  params: Record<string, unknown>,
): CompensationEntry | undefined {
  const contains = isContaining(step.action) ? { contains: true } : {};
  if (step.compensation === 'none') return undefined;
  if (step.compensation) {
    const p = step.compensation.params
      ? (render(step.compensation.params, buildScope(ctx.input, ctx.run)) as Record<string, unknown>)
      : params;
    return { stepId: step.id, action: step.compensation.action, params: p, ...contains };
  }
  const undo = isActionName(step.action) ? undoOf(step.action) : undefined;
  return undo ? { stepId: step.id, action: undo, params, ...contains } : undefined;
}

/** Runs one undo and records its outcome; true when it took effect. `actor`: who released it. */
export async function runCompensation(
  ctx: PlaybookContext,
  c: CompensationEntry,
  actor = ctx.actor,
): Promise<boolean> {
  let ok = false;
  let summary: string;
  try {
    const req = { ...actionRequest(ctx, `${c.stepId}.undo`, c.action, c.params), actor };
    const result = await ctx.activity(() => followUpActions.executeAction(req));
    ok = result.ok;
    summary = result.summary;
  } catch (err) {
    if (isCancellation(err)) throw err;
    summary = `compensation ${c.action} failed: ${errorMessage(err)}`;
  }
  const undone = ctx.run.steps[c.stepId];
  if (ctx.index.has(c.stepId) && ok && undone) undone.status = 'compensated';
  await ctx.project('recordTimeline', {
    incidentId: ctx.incidentId,
    kind: ok ? 'compensation.succeeded' : 'compensation.failed',
    actor,
    message: `Undo of ${c.stepId}: ${c.action}: ${summary}`,
    data: { stepId: c.stepId, action: c.action },
    eventKey: `${ctx.incidentId}:compensation:${c.stepId}`,
    at: nowIso(),
  });
  return ok;
}

/** Notes on the timeline that a containment's undo was not run, and why. */
export async function keepContainment(
  ctx: PlaybookContext,
  c: CompensationEntry,
  why: string,
): Promise<void> {
  await ctx.project('recordTimeline', {
    incidentId: ctx.incidentId,
    kind: 'containment.kept',
    actor: ctx.actor,
    message: `Containment of ${c.stepId} kept (${c.action} not run): ${why}; only a release undoes it`,
    data: { stepId: c.stepId, action: c.action },
    eventKey: `${ctx.incidentId}:containment_kept:${c.stepId}`,
    at: nowIso(),
  });
}

/**
 * Undoes the completed actions in reverse, containment only when `release` is set; each is
 * removed only once done, so a run that continues-as-new mid-way still owes the rest. Kept
 * containment entries stay in the list: they are what a later release would undo. `actor`: who
 * released it, for a release (the timeline and the connectors' audit entries name them).
 */
export async function compensateAll(
  ctx: PlaybookContext,
  release: boolean,
  why: string,
  actor = ctx.actor,
): Promise<void> {
  const owed = ctx.run.compensations;
  for (let i = owed.length - 1; i >= 0; i--) {
    const c = owed[i]!;
    if (ctx.holds(c) && !release) {
      await keepContainment(ctx, c, why);
      continue;
    }
    await runCompensation(ctx, c, actor);
    owed.splice(i, 1);
  }
}
