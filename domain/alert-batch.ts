/**
 * The timeline event for alerts attached to a running incident. Pure: the activity writes it, and
 * the incident workflow builds it itself when it batches its projections.
 */
import type { AlertStatus } from './alert';

export interface AlertBatchRecord {
  incidentId: string;
  count: number;
  latestAlertId: string;
  latestTitle: string;
  latestStatus: AlertStatus;
  lastSeenAt: string;
}

export function alertsAttachedEvent(b: AlertBatchRecord) {
  return {
    incidentId: b.incidentId,
    kind: 'alerts.attached',
    actor: 'intake',
    message:
      b.count === 1
        ? `Alert ${b.latestStatus}: ${b.latestTitle}`
        : `${b.count} alerts attached; latest ${b.latestStatus}: ${b.latestTitle}`,
    data: { count: b.count, latestAlertId: b.latestAlertId, lastSeenAt: b.lastSeenAt },
    eventKey: `${b.incidentId}:alerts:${b.latestAlertId}`,
  };
}
