/**
 * The interpreter's post-mortem hook: when the postmortem phase starts, ask the
 * `generatePostmortem` activity to register the playbook's action items (its remediate and
 * postmortem `manual_task` steps, nested ones included) and store a report built from the DB.
 * Guarded by `patched('postmortem-report')` so histories recorded before it replay unchanged.
 * A report that cannot be written after a few attempts is recorded on the timeline and the
 * playbook goes on: the API renders the report on demand anyway.
 */
import { ActivityFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { DeclaredActionItem } from '../activities/postmortem';
import { showPostmortem } from './slack-notify';
import { errorMessage, hasPatch, io, nowIso, projection, system, type Ctx } from './step-runtime';

export const POSTMORTEM_PATCH = 'postmortem-report';

const reporter = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '10 seconds', maximumAttempts: 5 },
});

const ITEM_PHASES = new Set(['remediate', 'postmortem']);

export function declaredActionItems(ctx: Ctx): DeclaredActionItem[] {
  return [...ctx.index.values()].flatMap(({ step, phase }) =>
    step.kind === 'manual_task' && ITEM_PHASES.has(phase)
      ? [
          {
            stepId: step.id,
            phase,
            title: step.task,
            ...(step.assignee ? { assignee: step.assignee } : {}),
            ...(step.checklist ? { checklist: step.checklist } : {}),
          },
        ]
      : [],
  );
}

export async function writePostmortem(ctx: Ctx): Promise<void> {
  if (!hasPatch(ctx, POSTMORTEM_PATCH)) return;
  const incidentId = ctx.input.incidentId;
  try {
    await io(ctx, () =>
      reporter.generatePostmortem({ incidentId, actionItems: declaredActionItems(ctx), actor: system(ctx) }),
    );
    showPostmortem(ctx);
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    await io(ctx, () =>
      projection.recordTimeline({
        incidentId,
        kind: 'postmortem.failed',
        actor: system(ctx),
        message: `Post-mortem report not stored (${errorMessage(err)}); GET /v1/incidents/${incidentId}/postmortem.md renders it on demand`,
        eventKey: `${incidentId}:postmortem:failed`,
        at: nowIso(),
      }),
    );
  }
}
