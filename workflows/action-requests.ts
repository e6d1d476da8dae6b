/**
 * Actions the playbook asks connectors for, through the idempotent `executeAction` activity: the
 * request (drill outcomes only in drill mode), the activity options of a step (its `timeout` and
 * `retry`), and the options of follow-up actions (compensations, escalation notices), which retry
 * until the connector answers because nobody is waiting to retry them by hand.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { isActionName } from '../domain/action-catalog';
import type { ActionRequest } from '../domain/actions';
import type { Step } from '../domain/playbook';
import type { PlaybookContext } from './playbook-context';
import { StepFailed } from './playbook-errors';
import { durationMs } from './playbook-model';

export const followUpActions = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', backoffCoefficient: 2 },
});

/** The activities of one action step, with its own timeout and retry policy. */
export function stepActions(step: Step) {
  return proxyActivities<Activities>({
    startToCloseTimeout: step.timeout ? durationMs(step.timeout) : '2 minutes',
    retry: {
      maximumAttempts: step.retry?.attempts ?? 3,
      initialInterval: durationMs(step.retry?.backoff ?? '2s'),
      backoffCoefficient: 2,
    },
  });
}

export function actionRequest(
  ctx: PlaybookContext,
  stepId: string,
  action: string,
  params: Record<string, unknown>,
): ActionRequest {
  if (!isActionName(action)) throw new StepFailed(`unknown action ${action}`);
  const scripted = ctx.input.mode === 'drill' ? ctx.input.scripted?.[stepId] : undefined;
  return {
    incidentId: ctx.incidentId,
    stepId,
    action,
    params,
    mode: ctx.input.mode,
    actor: ctx.actor,
    ...(scripted ? { scripted } : {}),
  };
}
