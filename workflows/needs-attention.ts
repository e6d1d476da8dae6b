/**
 * Marking an incident as needing a human. Containment is never undone by a failure, so when the
 * playbook stops (a failed step, a timeout, a rejection that aborts, an abort without release)
 * while an agent stays contained, or when a containment step itself fails, nobody may assume the
 * incident is handled: the run state, the incident row and the timeline say why and which step
 * (the `recordNeedsAttention` projection), and the escalation target is paged once, through the
 * `notify` connector and the Slack escalation notice (no-op without Slack).
 */
import { isCancellation, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ApprovalStep } from '../domain/playbook';
import { actionRequest } from './action-requests';
import { nowIso, type PlaybookContext } from './playbook-context';
import { errorMessage } from './playbook-errors';
import { showEscalation } from './slack-notify';

/** Bounded: a page that cannot be delivered is recorded as such, and the run still ends. */
const pageActions = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '10 seconds', maximumAttempts: 5 },
});

/** Who is paged: every escalation target the playbook's approvals name, else the incident channel. */
export function escalationTargets(ctx: PlaybookContext): (string | undefined)[] {
  const targets = [...ctx.index.values()].flatMap(({ step }) =>
    step.kind === 'approval' && (step as ApprovalStep).escalation
      ? [(step as ApprovalStep).escalation!.target]
      : [],
  );
  const unique = [...new Set(targets)];
  return unique.length > 0 ? unique : [undefined];
}

/** Records that the incident needs attention (first reason kept in the run state) and pages once. */
export async function markNeedsAttention(
  ctx: PlaybookContext,
  reason: string,
  stepId?: string,
): Promise<void> {
  const first = ctx.run.needsAttention === undefined;
  const at = nowIso();
  ctx.run.needsAttention ??= { reason, at, ...(stepId ? { stepId } : {}) };
  await ctx.project('recordNeedsAttention', {
    incidentId: ctx.incidentId,
    reason,
    ...(stepId ? { stepId } : {}),
    actor: ctx.actor,
    at,
  });
  if (first) await page(ctx, reason, stepId);
}

async function page(ctx: PlaybookContext, reason: string, stepId: string | undefined): Promise<void> {
  const where = stepId ? ` (step ${stepId})` : '';
  const holding = ctx.contained()
    ? 'Containment holds until a release decision.'
    : 'Nothing is contained yet.';
  const message = `Incident ${ctx.incidentId} needs attention${where}: ${reason}. ${holding}`;
  for (const [i, target] of escalationTargets(ctx).entries()) {
    showEscalation(ctx, `needs_attention.${i}`, target, message);
    try {
      const req = actionRequest(ctx, `needs_attention.page.${i}`, 'notify', {
        message,
        ...(target ? { target } : {}),
      });
      const result = await ctx.activity(() => pageActions.executeAction(req));
      if (result.ok) continue;
      await pageFailed(ctx, i, target, result.summary);
    } catch (err) {
      if (isCancellation(err)) throw err;
      await pageFailed(ctx, i, target, errorMessage(err));
    }
  }
}

async function pageFailed(ctx: PlaybookContext, i: number, target: string | undefined, why: string) {
  await ctx.project('recordTimeline', {
    incidentId: ctx.incidentId,
    kind: 'escalation.notify_failed',
    actor: ctx.actor,
    message: `Could not page ${target ?? 'the incident channel'} about needed attention: ${why}`,
    eventKey: `${ctx.incidentId}:needs_attention:page:${i}`,
    at: nowIso(),
  });
}
