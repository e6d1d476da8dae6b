/**
 * The interpreter's post-mortem hook: when the postmortem phase starts, ask the
 * `generatePostmortem` activity to register the playbook's action items (its remediate and
 * postmortem `manual_task` steps, nested ones included) and store a report built from the DB.
 * A report that cannot be written after a few attempts is recorded on the timeline and the
 * playbook goes on: the API renders the report on demand anyway.
 */
import { ActivityFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { DeclaredActionItem } from '../activities/postmortem';
import { nowIso, type PlaybookContext } from './playbook-context';
import { errorMessage } from './playbook-errors';
import { showPostmortem } from './slack-notify';

const reporter = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '10 seconds', maximumAttempts: 5 },
});

const ITEM_PHASES = new Set(['remediate', 'postmortem']);

export function declaredActionItems(ctx: PlaybookContext): DeclaredActionItem[] {
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

export async function writePostmortem(ctx: PlaybookContext): Promise<void> {
  const incidentId = ctx.input.incidentId;
  try {
    await ctx.activity(() =>
      reporter.generatePostmortem({ incidentId, actionItems: declaredActionItems(ctx), actor: ctx.actor }),
    );
    showPostmortem(ctx);
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    await ctx.project('recordTimeline', {
      incidentId,
      kind: 'postmortem.failed',
      actor: ctx.actor,
      message: `Post-mortem report not stored (${errorMessage(err)}); GET /v1/incidents/${incidentId}/postmortem.md renders it on demand`,
      eventKey: `${incidentId}:postmortem:failed`,
      at: nowIso(),
    });
  }
}
