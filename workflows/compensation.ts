/**
 * Compensations: the undo of each completed action, noted as it succeeds (its declared
 * `compensation`, or the catalog's undo of the action) and run in reverse order when the playbook
 * aborts, or for one step whose `on_failure` is `compensate`. Each outcome goes to the timeline.
 */
import { isCancellation } from '@temporalio/workflow';
import { isActionName, undoOf } from '../domain/action-catalog';
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

export async function runCompensation(ctx: PlaybookContext, c: CompensationEntry): Promise<void> {
  let ok = false;
  let summary: string;
  try {
    const req = actionRequest(ctx, `${c.stepId}.undo`, c.action, c.params);
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
    actor: ctx.actor,
    message: `Undo of ${c.stepId}: ${c.action}: ${summary}`,
    data: { stepId: c.stepId, action: c.action },
    eventKey: `${ctx.incidentId}:compensation:${c.stepId}`,
    at: nowIso(),
  });
}

/** Undoes the completed actions in reverse; each is popped only once done, so a run that
 * continues-as-new mid-way still owes the rest. */
export async function compensateAll(ctx: PlaybookContext): Promise<void> {
  const owed = ctx.run.compensations;
  while (owed.length > 0) {
    await runCompensation(ctx, owed[owed.length - 1]!);
    owed.pop();
  }
}
