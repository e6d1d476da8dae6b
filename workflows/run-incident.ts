/**
 * runIncident: the durable life of one incident.
 *
 * States: started → open (phase `assess`) → closed.
 * Messages:
 *   - signal `alertsAttached(batch)`: more alerts for this incident; counts and latest are kept in
 *     workflow state (batched by the intake outbox, so a storm adds few events).
 *   - query `incidentState`: status, phase, alert count and latest alert.
 *   - update `closeIncident({actor, reason})`: records the close and ends the workflow.
 *   - update `addNote({decisionId, actor, text})`: a timeline note, via the recordNote activity.
 * Slack: a side loop (SlackSync) opens the incident channel and keeps its summary card current
 *   after alert batches and the close; with Slack unconfigured its first activity says so and it stops.
 * Timers: none yet; an open incident waits for messages indefinitely. The history stays bounded
 * by continuing-as-new once the server suggests it.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  patched,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { AlertBatch, IncidentStart, IncidentState } from '../domain/incident';
import { addNote, alertsAttached, closeIncident, incidentState } from './messages';
import { SlackSync } from './slack-sync';

/** Marks histories that run the Slack side loop: incidents started before it replay without it. */
export const SLACK_PATCH = 'slack-sync-v1';

const { recordIncidentStarted, recordAlertBatch, recordIncidentClosed, recordNote } =
  proxyActivities<Activities>({
    startToCloseTimeout: '30 seconds',
    retry: { initialInterval: '1 second', maximumInterval: '30 seconds', backoffCoefficient: 2 },
  });

export interface RunIncidentCarry {
  state: IncidentState;
  started: boolean;
  /** Whether Slack is on for this incident (undefined: not asked yet). */
  slack?: boolean;
}

export async function runIncident(input: IncidentStart, carry?: RunIncidentCarry): Promise<IncidentState> {
  const state: IncidentState = carry?.state ?? {
    incidentId: input.incidentId,
    status: 'open',
    phase: 'assess',
    alertCount: 0,
    latestAlertId: undefined,
    lastSeenAt: undefined,
    lastAlertSeq: 0,
  };
  const pending: AlertBatch[] = [];
  let closing: { actor: string; reason: string } | undefined;

  setHandler(alertsAttached, (batch) => {
    // At-least-once delivery from the outbox: a batch already counted is dropped here.
    const lastQueued = pending.length > 0 ? pending[pending.length - 1]!.toSeq : state.lastAlertSeq;
    if (batch.toSeq > lastQueued) pending.push(batch);
  });
  setHandler(incidentState, () => state);
  setHandler(
    addNote,
    async (req) => {
      await recordNote({
        incidentId: input.incidentId,
        decisionId: req.decisionId,
        actor: req.actor,
        text: req.text,
      });
    },
    {
      validator: (req) => {
        if (!req.actor?.id) throw new Error('actor is required');
        if (!req.decisionId) throw new Error('decisionId is required');
        if (!req.text?.trim()) throw new Error('a note needs text');
        if (req.text.length > 3000) throw new Error('a note is at most 3000 characters');
        if (state.status === 'closed') throw new Error('incident is already closed');
      },
    },
  );
  const slack = new SlackSync(
    input.incidentId,
    () => ({
      incidentId: input.incidentId,
      status: state.status,
      phase: state.phase,
      alertCount: state.alertCount,
      pendingApprovals: 0,
    }),
    carry?.slack,
  );
  setHandler(
    closeIncident,
    async (req) => {
      closing = req;
      await condition(() => state.status === 'closed');
      return state;
    },
    {
      validator: (req) => {
        if (!req.actor) throw new Error('actor is required');
        if (state.status === 'closed' || closing) throw new Error('incident is already closed');
      },
    },
  );

  if (!carry?.started) {
    await recordIncidentStarted({
      incidentId: input.incidentId,
      phase: 'assess',
      at: new Date().toISOString(),
    });
  }
  if (patched(SLACK_PATCH)) slack.start();

  for (;;) {
    await condition(
      () => pending.length > 0 || closing !== undefined || workflowInfo().continueAsNewSuggested,
    );
    while (pending.length > 0) {
      const batches = pending.splice(0, pending.length);
      const before = state.alertCount;
      for (const b of batches) {
        state.alertCount = Math.max(state.alertCount, b.totalCount);
        state.lastAlertSeq = b.toSeq;
        state.latestAlertId = b.latestAlertId;
        state.lastSeenAt = b.lastSeenAt;
      }
      const last = batches[batches.length - 1]!;
      await recordAlertBatch({
        incidentId: input.incidentId,
        count: state.alertCount - before,
        latestAlertId: last.latestAlertId,
        latestTitle: last.latestTitle,
        latestStatus: last.latestStatus,
        lastSeenAt: last.lastSeenAt,
      });
      slack.changed();
    }
    if (closing) {
      await recordIncidentClosed({
        incidentId: input.incidentId,
        actor: closing.actor,
        reason: closing.reason,
      });
      state.status = 'closed';
      state.phase = 'closed';
      slack.changed();
      await slack.stop();
      return state;
    }
    if (workflowInfo().continueAsNewSuggested && pending.length === 0) {
      // Signals that race with this are not lost: the server rejects a continue-as-new completion
      // while new events are pending, and the task runs again with them.
      await slack.stop();
      await condition(allHandlersFinished);
      return await continueAsNew<typeof runIncident>(input, { state, started: true, slack: slack.enabled });
    }
  }
}
