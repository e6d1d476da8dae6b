/**
 * Incident projection activities: the workflow's record of what happened, written to the DB the
 * API reads. Each is idempotent (the timeline's event key makes a retried write a no-op), so an
 * activity retried after a worker crash never doubles an event.
 */
import { eq } from 'drizzle-orm';
import type { Db } from '../db/client';
import { incidents, timeline } from '../db/schema';
import type { AlertStatus } from '../domain/alert';
import type { Phase } from '../domain/incident';

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
    async recordIncidentStarted(input: { incidentId: string; phase: Phase; at: string }): Promise<void> {
      db.transaction((tx) => {
        const updated = tx
          .update(incidents)
          .set({ startedAt: input.at, phase: input.phase, updatedAt: now() })
          .where(eq(incidents.id, input.incidentId))
          .run();
        if (updated.changes === 0)
          throw new Error(`incident ${input.incidentId} has no row: intake must create it`);
        appendTimelineEvent(
          tx as unknown as Db,
          {
            incidentId: input.incidentId,
            kind: 'incident.started',
            actor: 'firebreak',
            message: `Incident workflow started in phase ${input.phase}`,
            eventKey: `${input.incidentId}:started`,
            at: input.at,
          },
          now(),
        );
      });
    },

    async recordAlertBatch(input: {
      incidentId: string;
      count: number;
      latestAlertId: string;
      latestTitle: string;
      latestStatus: AlertStatus;
      lastSeenAt: string;
    }): Promise<void> {
      appendTimelineEvent(
        db,
        {
          incidentId: input.incidentId,
          kind: 'alerts.attached',
          actor: 'intake',
          message:
            input.count === 1
              ? `Alert ${input.latestStatus}: ${input.latestTitle}`
              : `${input.count} alerts attached; latest ${input.latestStatus}: ${input.latestTitle}`,
          data: { count: input.count, latestAlertId: input.latestAlertId, lastSeenAt: input.lastSeenAt },
          eventKey: `${input.incidentId}:alerts:${input.latestAlertId}`,
        },
        now(),
      );
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
  };
}
