/**
 * The state of one incident workflow run and the behaviour over it: the alert batches waiting to
 * be counted, a requested close, the playbook run (if one is pinned), its Slack presence and its
 * projection writes. runIncident (run-incident.ts) reads as the states; this class does the work
 * of each, and its message handlers only record what arrived, so the main loop acts on it.
 */
import { allHandlersFinished, condition, setHandler, workflowInfo } from '@temporalio/workflow';
import { alertsAttachedEvent } from '../domain/alert-batch';
import type {
  AlertBatch,
  CloseRequest,
  IncidentStart,
  IncidentState,
  PinnedPlaybook,
} from '../domain/incident';
import { gateContainment } from './containment-gate';
import { DecisionHandlers } from './decision-handlers';
import type { Decisions } from './decisions';
import {
  alertsAttached,
  closeIncident,
  incidentState,
  playbookState,
  type AttachPlaybookRequest,
} from './messages';
import { nowIso, PlaybookContext } from './playbook-context';
import { buildScope, newRun, viewOf, type PlaybookRun, type ReleaseRecord } from './playbook-model';
import { runPlaybook } from './playbook-runner';
import { ProjectionQueue, updateWrites } from './projection-queue';
import { pendingRelease, runRelease } from './release';
import { SlackSync } from './slack-sync';

/** What a run hands the next one on continue-as-new. */
export interface RunIncidentCarry {
  state: IncidentState;
  started: boolean;
  run?: PlaybookRun;
  /** A playbook attached to the running incident (attachPlaybook): `run` is its run. */
  attached?: PinnedPlaybook;
  decisions?: Decisions;
  /** Whether Slack is on for this incident (undefined: not asked yet). */
  slack?: boolean;
}

function initialState(incidentId: string): IncidentState {
  return {
    incidentId,
    status: 'open',
    phase: 'assess',
    alertCount: 0,
    latestAlertId: undefined,
    lastSeenAt: undefined,
    lastAlertSeq: 0,
  };
}

export class IncidentLifecycle {
  readonly state: IncidentState;
  private readonly decisions: Decisions;
  private readonly projections = new ProjectionQueue();
  private playbook: PlaybookContext | undefined;
  /** The playbook attached to this incident after it opened, if one was. */
  private attached: PinnedPlaybook | undefined;
  /** Set while an attach replaces the running playbook. */
  private attaching = false;
  private readonly slack: SlackSync;
  private readonly pending: AlertBatch[] = [];
  private closing: CloseRequest | undefined;
  private runnerError: unknown;

  constructor(
    private readonly input: IncidentStart,
    private readonly carry: RunIncidentCarry | undefined,
  ) {
    this.state = carry?.state ?? initialState(input.incidentId);
    this.decisions = carry?.decisions ?? {};
    this.attached = carry?.attached;
    const pinned = this.attached ?? input.playbook;
    this.playbook = pinned ? this.contextFor(pinned, carry?.run ?? newRun()) : undefined;
    // Known from the input, so queries see it from the first task on (no command involved).
    if (this.playbook) {
      const { id, version, hash } = this.playbook.pinned;
      this.state.playbook ??= { id, version, hash, status: this.playbook.run.status };
    }
    this.slack = new SlackSync(
      input.incidentId,
      () => this.summaryFacts(),
      carry?.slack,
      (e) => this.projections.record('recordTimeline', e),
    );
  }

  /**
   * The run of a pinned playbook, its containment gated when the alert asks for a confirmation.
   * An attached one sees itself as the incident's playbook (its inputs' defaults, who decides)
   * and scopes its timeline events, since it may share step ids with the triage it replaced.
   */
  private contextFor(pinned: PinnedPlaybook, run: PlaybookRun): PlaybookContext {
    const attached = pinned === this.attached;
    return new PlaybookContext(
      attached ? { ...this.input, playbook: pinned } : this.input,
      gateContainment(pinned, this.input.confirmation),
      run,
      this.projections,
      (phase) => {
        this.state.phase = phase;
      },
      attached ? `attached:${pinned.id}` : undefined,
    );
  }

  get closeRequested(): boolean {
    return this.closing !== undefined;
  }

  registerHandlers(): void {
    setHandler(alertsAttached, (batch) => {
      // At-least-once delivery from the outbox: a batch already counted is dropped here.
      const lastQueued = this.pending.at(-1)?.toSeq ?? this.state.lastAlertSeq;
      if (batch.toSeq > lastQueued) this.pending.push(batch);
    });
    // The incident API reads pending approvals from this query (see api/routes/incidents.ts).
    setHandler(incidentState, () => ({
      ...this.state,
      pendingApprovals: this.playbookView()?.pendingApprovals ?? [],
    }));
    setHandler(playbookState, () => this.playbookView() ?? null);
    const decisions = new DecisionHandlers(this.input, () => this.playbook, this.decisions, {
      attachBlocked: () =>
        this.state.status === 'closed' || this.closing
          ? 'the incident is closing'
          : this.attaching
            ? 'a playbook is being attached to this incident'
            : undefined,
      attach: (req) => this.attach(req),
      release: (ctx, record) => this.watchRelease(ctx, record),
    });
    decisions.register();
    setHandler(
      closeIncident,
      async (req) => {
        await decisions.admit('close', undefined, req, decisions.checkClose(req));
        this.closing = req;
        await condition(() => this.state.status === 'closed');
        return this.state;
      },
      {
        validator: (req) => {
          if (this.state.status === 'closed' || this.closing) throw new Error('incident is already closed');
          decisions.validateClose(req);
        },
      },
    );
  }

  /** Records the start (first run only), then starts Slack and the playbook. */
  begin(): void {
    if (!this.carry?.started) {
      const pinned = this.input.playbook;
      this.projections.record('recordIncidentStarted', {
        incidentId: this.input.incidentId,
        phase: 'assess',
        at: nowIso(),
        ...(pinned ? { playbook: { id: pinned.id, version: pinned.version, hash: pinned.hash } } : {}),
      });
    }
    this.slack.start();
    const ctx = this.playbook;
    if (ctx && ctx.run.status === 'running') this.startRunner(ctx);
    const release = ctx && pendingRelease(ctx);
    if (ctx && release) this.watchRelease(ctx, release);
  }

  private startRunner(ctx: PlaybookContext): void {
    runPlaybook(ctx).then(
      () => {
        if (this.playbook === ctx) this.state.playbook!.status = ctx.run.status;
      },
      (err: unknown) => {
        this.runnerError = err ?? new Error('playbook runner failed');
      },
    );
  }

  /** Waits for a release approval's decision and acts on it (release.ts). */
  private watchRelease(ctx: PlaybookContext, record: ReleaseRecord): void {
    runRelease(ctx, record).then(
      () => this.slack.changed(),
      (err: unknown) => {
        this.runnerError = err ?? new Error('release failed');
      },
    );
  }

  /**
   * An attached playbook replaces the running triage (or nothing): triage stops as an abort (it
   * contains nothing), then the attached one is pinned on the incident and runs from its start.
   */
  private attach(req: AttachPlaybookRequest): void {
    this.attaching = true;
    this.replaceWith(req).then(
      () => {
        this.attaching = false;
      },
      (err: unknown) => {
        this.runnerError = err ?? new Error('attaching the playbook failed');
      },
    );
  }

  private async replaceWith(req: AttachPlaybookRequest): Promise<void> {
    const old = this.playbook;
    const by = req.actor.id;
    if (old && old.run.status === 'running') {
      old.abort(`playbook ${req.playbook.id} attached by ${by}`, by);
      await condition(() => old.run.status !== 'running');
    }
    const { id, version, hash } = req.playbook;
    this.attached = req.playbook;
    const ctx = this.contextFor(req.playbook, newRun());
    this.playbook = ctx;
    this.state.playbook = { id, version, hash, status: 'running' };
    this.projections.record('recordPlaybookAttached', {
      incidentId: this.input.incidentId,
      playbook: { id, version, hash },
      ...(old ? { replaced: { id: old.pinned.id, version: old.pinned.version, hash: old.pinned.hash } } : {}),
      actor: by,
      at: nowIso(),
    });
    this.startRunner(ctx);
    this.slack.changed();
  }

  /** Waits for something the main loop acts on: alerts, a close, a failure, a hand-over hint. */
  async nextChange(): Promise<void> {
    await condition(
      () =>
        this.pending.length > 0 ||
        this.closing !== undefined ||
        this.failure() !== undefined ||
        (workflowInfo().continueAsNewSuggested && !this.attaching),
    );
    const failure = this.failure();
    if (failure !== undefined) throw failure;
  }

  /** Counts the alert batches that arrived and adds one timeline event for them. */
  countAlerts(): void {
    while (this.pending.length > 0) {
      const batches = this.pending.splice(0, this.pending.length);
      const before = this.state.alertCount;
      for (const b of batches) {
        this.state.alertCount = Math.max(this.state.alertCount, b.totalCount);
        this.state.lastAlertSeq = b.toSeq;
        this.state.latestAlertId = b.latestAlertId;
        this.state.lastSeenAt = b.lastSeenAt;
      }
      const last = batches.at(-1)!;
      const event = alertsAttachedEvent({
        incidentId: this.input.incidentId,
        count: this.state.alertCount - before,
        latestAlertId: last.latestAlertId,
        latestTitle: last.latestTitle,
        latestStatus: last.latestStatus,
        lastSeenAt: last.lastSeenAt,
      });
      this.projections.record('recordTimeline', event);
      this.slack.changed();
    }
  }

  /** Closes the incident: the playbook pauses, the close is recorded (the update waits), Slack shows it. */
  async close(): Promise<IncidentState> {
    const { actor: by, reason } = this.closing!;
    const actor = by.name ? `${by.name} (${by.id})` : by.id;
    await this.suspend();
    await updateWrites.recordIncidentClosed({
      incidentId: this.input.incidentId,
      actor,
      actorId: by.id,
      reason,
    });
    if (this.playbook) {
      await updateWrites.recordTimeline({
        incidentId: this.input.incidentId,
        kind: 'milestone',
        actor,
        message: 'Milestone: closed',
        data: { milestone: 'closed' },
        eventKey: `${this.input.incidentId}:milestone:closed`,
        at: nowIso(),
      });
    }
    this.state.status = 'closed';
    this.state.phase = 'closed';
    this.slack.changed();
    await this.slack.stop();
    return this.state;
  }

  /** Continue-as-new is due, no alert waits to be counted and no attach is half done. */
  handOverDue(): boolean {
    return workflowInfo().continueAsNewSuggested && this.pending.length === 0 && !this.attaching;
  }

  /**
   * Pauses everything for continue-as-new and returns what the next run needs. Signals that race
   * with this are not lost: the server rejects a continue-as-new completion while new events are
   * pending, and the task runs again with them. The playbook pauses at its next activity
   * boundary; waits resume from their absolute deadlines in the next run.
   */
  async handOver(): Promise<RunIncidentCarry> {
    await this.suspend();
    await this.slack.stop();
    await condition(allHandlersFinished);
    return {
      state: this.state,
      started: true,
      slack: this.slack.enabled,
      ...(this.playbook ? { run: this.playbook.run } : {}),
      ...(this.attached ? { attached: this.attached } : {}),
      decisions: this.decisions,
    };
  }

  /** No new step starts; actions already running finish and every projection is written first. */
  private async suspend(): Promise<void> {
    const ctx = this.playbook;
    if (ctx) ctx.suspending = true;
    await condition(() => (ctx ? ctx.idle() : this.projections.idle()));
    const failure = this.failure();
    if (failure !== undefined) throw failure;
  }

  private failure(): unknown {
    return this.runnerError ?? this.projections.failure;
  }

  private playbookView() {
    const pb = this.playbook;
    return pb ? viewOf(pb.pinned, pb.run, buildScope(pb.input, pb.run)) : undefined;
  }

  private summaryFacts() {
    const ctx = this.playbook;
    const view = this.playbookView();
    return {
      incidentId: this.input.incidentId,
      status: this.state.status,
      phase: ctx && ctx.run.status === 'running' ? view!.phase : this.state.phase,
      alertCount: this.state.alertCount,
      pendingApprovals: view?.pendingApprovals.length ?? 0,
      ...(ctx ? { playbookId: ctx.pinned.id } : {}),
    };
  }
}
