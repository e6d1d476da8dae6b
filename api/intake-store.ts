/**
 * The durable half of alert intake: in one SQLite transaction, find the open incident for the
 * alert's key (or open a new one) and store the alert in the outbox. When this returns, the alert
 * survives a crash, so the caller may answer 202. The unique index on open incident keys makes
 * concurrent deliveries of one alert converge on one incident.
 */
import { and, eq, max, ne } from 'drizzle-orm';
import crypto from 'node:crypto';
import type { Db } from '../db/client';
import { alerts, incidents } from '../db/schema';
import type { Alert } from '../domain/alert';
import type { IncidentMode } from '../domain/incident';
import { incidentWorkflowId } from '../temporal/client';

export interface StoredAlert {
  alertId: string;
  incidentId: string;
  deduplicated: boolean;
}

export function incidentKey(alert: Pick<Alert, 'source' | 'dedupKey'>): string {
  return `${alert.source}:${alert.dedupKey}`;
}

/** `inc-<10 hex of the key's hash>-<n>`: stable for a key, new after each close. */
export function incidentIdFor(key: string, seq: number): string {
  return `inc-${crypto.createHash('sha256').update(key).digest('hex').slice(0, 10)}-${seq}`;
}

export function newAlertId(): string {
  return `alt_${crypto.randomBytes(12).toString('base64url')}`;
}

export function storeAlert(
  db: Db,
  alert: Alert,
  opts: { receivedAt: string; mode?: IncidentMode; key?: string },
): StoredAlert {
  const key = opts.key ?? incidentKey(alert);
  const alertId = newAlertId();
  return db.transaction(
    (tx) => {
      const open = tx
        .select({ id: incidents.id })
        .from(incidents)
        .where(and(eq(incidents.key, key), ne(incidents.status, 'closed')))
        .get();
      let incidentId: string;
      if (open) {
        incidentId = open.id;
      } else {
        const last = tx
          .select({ seq: max(incidents.seq) })
          .from(incidents)
          .where(eq(incidents.key, key))
          .get();
        const seq = (last?.seq ?? 0) + 1;
        incidentId = incidentIdFor(key, seq);
        tx.insert(incidents)
          .values({
            id: incidentId,
            key,
            seq,
            workflowId: incidentWorkflowId(incidentId),
            source: alert.source,
            title: alert.title,
            severity: alert.severity,
            status: 'open',
            mode: opts.mode ?? 'live',
            phase: 'new',
            agentId: alert.agentId ?? null,
            alertCount: 0,
            firstAlertAt: opts.receivedAt,
            lastAlertAt: opts.receivedAt,
            openedAt: opts.receivedAt,
            updatedAt: opts.receivedAt,
          })
          .run();
      }
      tx.insert(alerts)
        .values({
          id: alertId,
          incidentId,
          source: alert.source,
          format: alert.format,
          dedupKey: alert.dedupKey,
          title: alert.title,
          severity: alert.severity,
          status: alert.status,
          agentId: alert.agentId ?? null,
          labels: alert.labels,
          details: alert.details,
          occurredAt: alert.occurredAt,
          receivedAt: opts.receivedAt,
        })
        .run();
      const current = tx
        .select({ alertCount: incidents.alertCount })
        .from(incidents)
        .where(eq(incidents.id, incidentId))
        .get();
      tx.update(incidents)
        .set({
          alertCount: (current?.alertCount ?? 0) + 1,
          latestAlertId: alertId,
          lastAlertAt: opts.receivedAt,
          updatedAt: opts.receivedAt,
        })
        .where(eq(incidents.id, incidentId))
        .run();
      return { alertId, incidentId, deduplicated: open !== undefined };
    },
    { behavior: 'immediate' },
  );
}
