/**
 * Storing alerts that do not come through the HTTP intake: the Slack Declare modal and drills
 * open incidents through the same durable write as the alert API, one transaction per call.
 * The caller kicks the outbox afterwards, which starts or signals the incident's workflow.
 */
import { storeAlertBatches, type AlertPlacement, type StoredAlert } from '../db/alerts';
import type { Db } from '../db/client';
import type { Alert } from '../domain/alert';
import type { IncidentMode } from '../domain/incident';
import { incidentWorkflowId } from '../temporal/client';
import { defaultKey } from './routing';

/** The incident key of an alert no routing rule matched: source and dedup key. */
export const incidentKey = defaultKey;

/** One alert, routed by its key alone (no routing rules): its own incident, or the open one. */
export async function storeAlert(
  db: Db,
  alert: Alert,
  opts: { receivedAt: string; mode?: IncidentMode; key?: string },
): Promise<StoredAlert> {
  const route: AlertPlacement = {
    key: opts.key ?? defaultKey(alert),
    grouped: false,
    windowMs: undefined,
    playbookId: undefined,
    severity: alert.severity,
    mode: opts.mode ?? 'live',
    onResolved: 'annotate',
  };
  const [stored] = await storeAlerts(db, [{ alert, route }], opts.receivedAt);
  return stored!;
}

/** Alerts already placed (a drill names its incident key and playbook), in one transaction. */
export async function storeAlerts(
  db: Db,
  items: { alert: Alert; route: AlertPlacement }[],
  receivedAt: string,
): Promise<StoredAlert[]> {
  const [stored] = await storeAlertBatches(db, [{ items, receivedAt }], incidentWorkflowId);
  return stored!;
}
