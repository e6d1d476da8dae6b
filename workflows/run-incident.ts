/**
 * runIncident: the durable life of one incident, and the interpreter of its pinned playbook.
 *
 * States: started → open (phase `assess`) → [playbook: assess → contain → investigate →
 * remediate → postmortem, each ending with a milestone; or aborted, after compensations] → closed.
 * Without a pinned playbook the incident stays open in phase `assess` and waits, as before.
 * Messages:
 *   - signal `alertsAttached(batch)`: more alerts; counts and latest are kept in workflow state.
 *   - query `incidentState`: status, phase, alert count, latest alert, playbook status, pending
 *     approvals.
 *   - query `playbookState`: phase, every step's state, pending approvals, open tasks.
 *   - update `closeIncident({actor, reason})`: records the close and ends the workflow.
 *   - updates `decideApproval`, `completeTask`, `abortIncident`, `escalate`, `addNote`: validated
 *     (see decisions.ts), idempotent by `decisionId`, each written to the timeline with its actor.
 * Timers: `wait` steps; approval deadlines (on timeout: escalate to a target and start a second
 * deadline, or approve / reject / abort); manual-task deadlines (on timeout: the step fails and its
 * on_failure applies). Deadlines are absolute times in the carried state, so they survive
 * continue-as-new, which happens once the server suggests it, with no activity in flight.
 * Drills (mode 'drill') simulate every action; with `speed` set, every playbook timer above is
 * divided by it (guarded by patched('drill-speed'), so live histories are unchanged).
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  patched,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { alertsAttachedEvent } from '../domain/alert-batch';
import type { AlertBatch, IncidentStart, IncidentState } from '../domain/incident';
import { registerDecisionHandlers } from './decision-handlers';
import type { Decisions } from './decisions';
import { projection, runPlaybook, type Ctx } from './interpreter';
import { POSTMORTEM_PATCH } from './postmortem-report';
import { alertsAttached, closeIncident, incidentState, playbookState } from './messages';
import { indexSteps, newRun, viewOf, type PlaybookRun } from './playbook-model';
import { SLACK_PATCH, SLACK_REPORTS_PATCH } from './slack-notify';
import {
  BATCHED_PROJECTIONS_PATCH,
  decideRunPatches,
  idle,
  localProjection,
  startProjectionFlusher,
} from './step-runtime';
import { SlackSync } from './slack-sync';

const { recordIncidentStarted, recordAlertBatch, recordIncidentClosed, recordTimeline } = projection;

/**
 * The incident's start is recorded by a local activity: one task round trip less between the
 * alert and the playbook's first step. Decided in the first activation, before any local activity.
 */
export const LOCAL_START_PATCH = 'local-start-v1';

/** Marks histories that run the playbook interpreter (older runs never had a playbook). */
export const PLAYBOOK_PATCH = 'playbook-interpreter-v1';

export interface RunIncidentCarry {
  state: IncidentState;
  started: boolean;
  run?: PlaybookRun;
  decisions?: Decisions;
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
  const decisions: Decisions = carry?.decisions ?? {};
  const pinned = input.playbook;
  const ctx: Ctx | undefined = pinned
    ? {
        input,
        pinned,
        run: carry?.run ?? newRun(),
        index: indexSteps(pinned.definition),
        suspending: false,
        inFlight: 0,
        background: [],
        patches: decideRunPatches(input, [POSTMORTEM_PATCH, SLACK_REPORTS_PATCH, BATCHED_PROJECTIONS_PATCH]),
        onPhase: (phase) => {
          state.phase = phase;
        },
      }
    : undefined;
  if (ctx?.patches.has(BATCHED_PROJECTIONS_PATCH)) {
    ctx.projectionQueue = [];
    startProjectionFlusher(ctx);
  }
  // Known from the input, so queries see it from the first task on (no command involved).
  if (ctx) {
    const { id, version, hash } = ctx.pinned;
    state.playbook ??= { id, version, hash, status: ctx.run.status };
  }
  const pending: AlertBatch[] = [];
  let closing: { actor: string; reason: string } | undefined;

  setHandler(alertsAttached, (batch) => {
    // At-least-once delivery from the outbox: a batch already counted is dropped here.
    const lastQueued = pending.length > 0 ? pending[pending.length - 1]!.toSeq : state.lastAlertSeq;
    if (batch.toSeq > lastQueued) pending.push(batch);
  });
  // The incident API reads pending approvals from this query (see api/routes/incidents.ts).
  setHandler(incidentState, () => ({
    ...state,
    pendingApprovals: ctx ? viewOf(ctx.pinned, ctx.run).pendingApprovals : [],
  }));
  setHandler(playbookState, () => (ctx ? viewOf(ctx.pinned, ctx.run) : null));
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
  registerDecisionHandlers({ input, ctx, decisions });
  const slack = new SlackSync(
    input.incidentId,
    () => ({
      incidentId: input.incidentId,
      status: state.status,
      phase: ctx && ctx.run.status === 'running' ? viewOf(ctx.pinned, ctx.run).phase : state.phase,
      alertCount: state.alertCount,
      pendingApprovals: ctx ? viewOf(ctx.pinned, ctx.run).pendingApprovals.length : 0,
      ...(ctx ? { playbookId: ctx.pinned.id } : {}),
    }),
    carry?.slack,
  );

  // Both patches are decided before the first local activity below, in the order they have
  // always been recorded (markers must match in order). A patched() call after a local activity
  // can run in another workflow task on replay than it did live (see decideRunPatches); the
  // SLACK_PATCH call after it stays as the fallback for histories recorded before this.
  const startLocally = !carry?.started && !ctx?.projectionQueue && patched(LOCAL_START_PATCH);
  const slackPatched = patched(SLACK_PATCH);
  if (!carry?.started) {
    const started = {
      incidentId: input.incidentId,
      phase: 'assess' as const,
      at: new Date().toISOString(),
      ...(pinned ? { playbook: { id: pinned.id, version: pinned.version, hash: pinned.hash } } : {}),
    };
    // Batched runs write it with the playbook's first projections, in the same local activity.
    if (ctx?.projectionQueue) ctx.projectionQueue.push({ kind: 'recordIncidentStarted', input: started });
    else {
      const record = startLocally ? localProjection.recordIncidentStarted : recordIncidentStarted;
      await record(started);
    }
  }

  if (slackPatched || patched(SLACK_PATCH)) slack.start();

  let runnerError: unknown;
  if (ctx && ctx.run.status === 'running' && patched(PLAYBOOK_PATCH)) {
    runPlaybook(ctx).then(
      () => {
        state.playbook!.status = ctx.run.status;
      },
      (err: unknown) => {
        runnerError = err ?? new Error('playbook runner failed');
      },
    );
  }

  for (;;) {
    await condition(
      () =>
        pending.length > 0 ||
        closing !== undefined ||
        runnerError !== undefined ||
        workflowInfo().continueAsNewSuggested,
    );
    if (runnerError !== undefined) throw runnerError;
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
      const record = {
        incidentId: input.incidentId,
        count: state.alertCount - before,
        latestAlertId: last.latestAlertId,
        latestTitle: last.latestTitle,
        latestStatus: last.latestStatus,
        lastSeenAt: last.lastSeenAt,
      };
      // Batched runs queue it with the playbook's projections instead of an activity round trip.
      if (ctx?.projectionQueue)
        ctx.projectionQueue.push({ kind: 'recordTimeline', input: alertsAttachedEvent(record) });
      else await recordAlertBatch(record);
      slack.changed();
    }
    if (closing) {
      if (ctx) {
        // No new step starts; actions already running finish and are recorded first.
        ctx.suspending = true;
        await condition(() => idle(ctx));
      }
      await recordIncidentClosed({
        incidentId: input.incidentId,
        actor: closing.actor,
        reason: closing.reason,
      });
      if (ctx) {
        await recordTimeline({
          incidentId: input.incidentId,
          kind: 'milestone',
          actor: closing.actor,
          message: 'Milestone: closed',
          data: { milestone: 'closed' },
          eventKey: `${input.incidentId}:milestone:closed`,
          at: new Date().toISOString(),
        });
      }
      state.status = 'closed';
      state.phase = 'closed';
      slack.changed();
      await slack.stop();
      return state;
    }
    if (workflowInfo().continueAsNewSuggested && pending.length === 0) {
      // Signals that race with this are not lost: the server rejects a continue-as-new completion
      // while new events are pending, and the task runs again with them. The playbook pauses at
      // its next activity boundary; waits resume from their absolute deadlines in the next run.
      if (ctx) {
        ctx.suspending = true;
        await condition(() => idle(ctx));
      }
      await slack.stop();
      await condition(allHandlersFinished);
      return await continueAsNew<typeof runIncident>(input, {
        state,
        started: true,
        slack: slack.enabled,
        ...(ctx ? { run: ctx.run } : {}),
        decisions,
      });
    }
  }
}
