/**
 * Incident projection activities: the workflow's record of what happened, written to the DB the
 * API reads: the timeline (every transition with its actor and workflow time), phase milestones,
 * and each playbook step's latest state. Each is idempotent (the timeline's event key makes a
 * retried write a no-op; step rows are upserts), so an activity retried after a worker crash
 * never doubles an event.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { alertsAttachedEvent, type AlertBatchRecord } from '../domain/alert-batch';
import { asc, eq } from 'drizzle-orm';
import type { Db } from '../db/client';
import { incidents, playbookSteps, timeline } from '../db/schema';
import type { Phase, StepStatus } from '../domain/incident';

export interface StepRecord {
  incidentId: string;
  stepId: string;
  phase: Phase;
  kind: string;
  status: StepStatus;
  actor: string;
  message: string;
  at: string;
  data?: Record<string, unknown>;
  /** Distinguishes repeated transitions to the same status (e.g. each approval vote). */
  seq?: number;
}

export interface Clock {
  now(): Date;
}

export interface IncidentActivityDeps {
  db: Db;
  clock: Clock;
}

export interface TimelineEvent {
  incidentId: string;
  kind: string;
  actor: string;
  message: string;
  data?: Record<string, unknown>;
  /** Unique per event: a retry with the same key writes nothing. */
  eventKey: string;
  at?: string;
}

/** Every timeline event of an incident, in the order they were written. */
export function incidentTimeline(db: Db, incidentId: string) {
  return db
    .select()
    .from(timeline)
    .where(eq(timeline.incidentId, incidentId))
    .orderBy(asc(timeline.id))
    .all();
}

export function appendTimelineEvent(db: Db, e: TimelineEvent, at: string): void {
  db.insert(timeline)
    .values({
      incidentId: e.incidentId,
      at: e.at ?? at,
      kind: e.kind,
      actor: e.actor,
      message: e.message,
      data: e.data ?? null,
      eventKey: e.eventKey,
    })
    .onConflictDoNothing({ target: timeline.eventKey })
    .run();
}

export function createIncidentActivities({ db, clock }: IncidentActivityDeps) {
  const now = () => clock.now().toISOString();
  return {
    async recordIncidentStarted(input: StartRecord): Promise<void> {
      writeIncidentStarted(db, input, now());
    },

    async recordAlertBatch(input: AlertBatchRecord): Promise<void> {
      appendTimelineEvent(db, alertsAttachedEvent(input), now());
    },

    async recordIncidentClosed(input: { incidentId: string; actor: string; reason: string }): Promise<void> {
      const at = now();
      db.transaction((tx) => {
        tx.update(incidents)
          .set({ status: 'closed', phase: 'closed', closedAt: at, updatedAt: at })
          .where(eq(incidents.id, input.incidentId))
          .run();
        appendTimelineEvent(
          tx as unknown as Db,
          {
            incidentId: input.incidentId,
            kind: 'incident.closed',
            actor: input.actor,
            message: `Incident closed: ${input.reason}`,
            eventKey: `${input.incidentId}:closed`,
          },
          at,
        );
      });
    },

    /** One timeline event (decisions, notes, escalations, playbook outcome). */
    async recordTimeline(e: TimelineEvent): Promise<void> {
      appendTimelineEvent(db, e, now());
    },

    /** A playbook step changed state: upsert its row and add the transition to the timeline. */
    async recordStep(r: StepRecord): Promise<void> {
      writeStep(db, r, now());
    },

    async recordPhase(input: PhaseRecord): Promise<void> {
      writePhase(db, input, now());
    },

    /**
     * Several projection writes in order, in one transaction (one fsync): what a workflow task
     * queued since the last flush (see workflows/projection-queue.ts).
     */
    async recordProjections(input: { writes: ProjectionWrite[] }): Promise<void> {
      const at = now();
      db.transaction((tx) => {
        const t = tx as unknown as Db;
        for (const w of input.writes) {
          if (w.kind === 'recordStep') writeStep(t, w.input, at);
          else if (w.kind === 'recordPhase') writePhase(t, w.input, at);
          else if (w.kind === 'recordIncidentStarted') writeIncidentStarted(t, w.input, at);
          else appendTimelineEvent(t, w.input, at);
        }
      });
    },
  };
}

export interface StartRecord {
  incidentId: string;
  phase: Phase;
  at: string;
  playbook?: { id: string; version: number; hash: string };
}

export interface PhaseRecord {
  incidentId: string;
  phase: Phase;
  milestone?: string;
  actor: string;
  at: string;
}

/** One queued projection write: the activity it stands for, and that activity's input. */
export type ProjectionWrite =
  | { kind: 'recordStep'; input: StepRecord }
  | { kind: 'recordPhase'; input: PhaseRecord }
  | { kind: 'recordTimeline'; input: TimelineEvent }
  | { kind: 'recordIncidentStarted'; input: StartRecord };

/** A playbook step changed state: upsert its row and add the transition to the timeline. */
function writeStep(db: Db, r: StepRecord, now: string): void {
  db.transaction((tx) => {
    tx.insert(playbookSteps)
      .values({
        incidentId: r.incidentId,
        stepId: r.stepId,
        phase: r.phase,
        kind: r.kind,
        status: r.status,
        data: r.data ?? null,
        updatedAt: r.at,
      })
      .onConflictDoUpdate({
        target: [playbookSteps.incidentId, playbookSteps.stepId],
        set: { status: r.status, data: r.data ?? null, updatedAt: r.at },
      })
      .run();
    appendTimelineEvent(
      tx as unknown as Db,
      {
        incidentId: r.incidentId,
        kind: `step.${r.status}`,
        actor: r.actor,
        message: r.message,
        data: { stepId: r.stepId, kind: r.kind, phase: r.phase, ...(r.data ?? {}) },
        eventKey: `${r.incidentId}:step:${r.stepId}:${r.status}${r.seq === undefined ? '' : `:${r.seq}`}`,
        at: r.at,
      },
      now,
    );
  });
}

/** Entering a phase, or reaching its milestone (assessed, contained, …, closed). */
function writePhase(db: Db, input: PhaseRecord, now: string): void {
  db.transaction((tx) => {
    if (!input.milestone) {
      tx.update(incidents)
        .set({ phase: input.phase, updatedAt: now })
        .where(eq(incidents.id, input.incidentId))
        .run();
    }
    appendTimelineEvent(
      tx as unknown as Db,
      {
        incidentId: input.incidentId,
        kind: input.milestone ? 'milestone' : 'phase.started',
        actor: input.actor,
        message: input.milestone ? `Milestone: ${input.milestone}` : `Phase ${input.phase} started`,
        data: { phase: input.phase, ...(input.milestone ? { milestone: input.milestone } : {}) },
        eventKey: `${input.incidentId}:${input.milestone ? `milestone:${input.milestone}` : `phase:${input.phase}`}`,
        at: input.at,
      },
      now,
    );
  });
}

/** The workflow started: pin its playbook on the incident row and note it in the timeline. */
function writeIncidentStarted(db: Db, input: StartRecord, now: string): void {
  db.transaction((tx) => {
    const pinned = input.playbook
      ? {
          playbookId: input.playbook.id,
          playbookVersion: input.playbook.version,
          playbookHash: input.playbook.hash,
        }
      : {};
    const updated = tx
      .update(incidents)
      .set({ startedAt: input.at, phase: input.phase, updatedAt: now, ...pinned })
      .where(eq(incidents.id, input.incidentId))
      .run();
    if (updated.changes === 0)
      throw ApplicationFailure.nonRetryable(
        `incident ${input.incidentId} has no row: intake must create it`,
        'IncidentNotFound',
      );
    appendTimelineEvent(
      tx as unknown as Db,
      {
        incidentId: input.incidentId,
        kind: 'incident.started',
        actor: 'firebreak',
        message: input.playbook
          ? `Incident workflow started in phase ${input.phase} with playbook ${input.playbook.id} v${input.playbook.version}`
          : `Incident workflow started in phase ${input.phase}`,
        data: input.playbook ? { playbook: input.playbook } : undefined,
        eventKey: `${input.incidentId}:started`,
        at: input.at,
      },
      now,
    );
  });
}
