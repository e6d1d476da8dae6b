/**
 * Incident projection activities: the workflow's record of what happened, written to the DB the
 * API reads: the timeline (every transition with its actor and workflow time), phase milestones,
 * and each playbook step's latest state. Each is idempotent (the timeline's event key makes a
 * retried write a no-op; step rows are upserts), so an activity retried after a worker crash
 * never doubles an event. A person's decision is audited in the transaction that writes it (see
 * decision-audit.ts). The writes themselves are in db/incident-projection.ts.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { Db } from '../db/client';
import { IncidentNotFound } from '../db/errors';
import {
  recordIncidentClosed,
  recordProjection,
  recordProjections,
  type NeedsAttentionWrite,
  type PlaybookAttachedWrite,
} from '../db/incident-projection';
import { appendAuditedTimelineEvent, appendTimelineEvent, type TimelineEvent } from '../db/timeline';
import { alertsAttachedEvent, type AlertBatchRecord } from '../domain/alert-batch';
import type { Clock } from '../domain/clock';
import type { Phase, StepStatus } from '../domain/incident';
import { closeAuditEntry, decisionAuditEntry } from './decision-audit';

export type { TimelineEvent } from '../db/timeline';
export type { NeedsAttentionWrite, PlaybookAttachedWrite } from '../db/incident-projection';

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
  /** A playbook attached to a running incident: scopes the event key (see PlaybookContext). */
  eventScope?: string;
}

export interface IncidentActivityDeps {
  db: Db;
  clock: Clock;
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
  eventScope?: string;
}

/** One queued projection write: the activity it stands for, and that activity's input. */
export type ProjectionWrite =
  | { kind: 'recordNeedsAttention'; input: NeedsAttentionWrite }
  | { kind: 'recordPlaybookAttached'; input: PlaybookAttachedWrite }
  | { kind: 'recordStep'; input: StepRecord }
  | { kind: 'recordPhase'; input: PhaseRecord }
  | { kind: 'recordTimeline'; input: TimelineEvent }
  | { kind: 'recordIncidentStarted'; input: StartRecord };

/** A write to an incident without a row can never succeed: fail it for good instead of retrying. */
async function final<T>(write: Promise<T>): Promise<T> {
  try {
    return await write;
  } catch (err) {
    if (err instanceof IncidentNotFound) throw ApplicationFailure.nonRetryable(err.message, err.name);
    throw err;
  }
}

export function createIncidentActivities({ db, clock }: IncidentActivityDeps) {
  const now = () => clock.now().toISOString();
  return {
    async recordIncidentStarted(input: StartRecord): Promise<void> {
      await final(recordProjection(db, { kind: 'recordIncidentStarted', input }, now()));
    },

    async recordAlertBatch(input: AlertBatchRecord): Promise<void> {
      await appendTimelineEvent(db, alertsAttachedEvent(input), now());
    },

    /** The close, audited with who closed it in the same transaction. */
    async recordIncidentClosed(input: {
      incidentId: string;
      actor: string;
      /** The closer's id alone (`actor` is how the timeline shows them), for the audit log. */
      actorId?: string;
      reason: string;
    }): Promise<void> {
      const at = now();
      await recordIncidentClosed(db, input, at, closeAuditEntry(input, at));
    },

    /**
     * One timeline event (decisions, notes, escalations, playbook outcome). A person's decision
     * is audited with its actor in the same transaction, once however often this is retried.
     */
    async recordTimeline(e: TimelineEvent): Promise<void> {
      const at = now();
      const audit = decisionAuditEntry(e, at);
      if (audit) await appendAuditedTimelineEvent(db, e, audit, at);
      else await appendTimelineEvent(db, e, at);
    },

    /** A playbook step changed state: upsert its row and add the transition to the timeline. */
    async recordStep(r: StepRecord): Promise<void> {
      await recordProjection(db, { kind: 'recordStep', input: r }, now());
    },

    async recordPhase(input: PhaseRecord): Promise<void> {
      await recordProjection(db, { kind: 'recordPhase', input }, now());
    },

    /**
     * Several projection writes in order, in one transaction (one fsync): what a workflow task
     * queued since the last flush (see workflows/projection-queue.ts).
     */
    async recordProjections(input: { writes: ProjectionWrite[] }): Promise<void> {
      await final(recordProjections(db, input.writes, now()));
    },
  };
}
