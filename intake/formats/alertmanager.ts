/**
 * Prometheus Alertmanager webhook format (payload version 4), verbatim as Alertmanager sends it,
 * and its normalizer: each alert of the batch becomes one `Alert`. The dedup key is the alert's
 * fingerprint, or the group key when the source is configured `alertmanager_key: group`. Each
 * stored alert keeps only its own labels and annotations: Alertmanager's `commonLabels` and
 * `commonAnnotations` are the ones every alert of the batch already carries, so copying them into
 * each alert would only multiply the request's size in the DB. Shared strings are bounded.
 */
import { z } from 'zod';
import { AlertStatus, mapSeverity, type Alert } from '../../domain/alert';

const StringMap = z.record(z.string(), z.string());

export const AlertmanagerAlert = z.object({
  status: AlertStatus,
  labels: StringMap,
  annotations: StringMap.default({}),
  startsAt: z.string().min(1),
  endsAt: z.string().default(''),
  generatorURL: z.string().default(''),
  fingerprint: z.string().min(1),
});

export const AlertmanagerWebhook = z
  .object({
    version: z.literal('4'),
    groupKey: z.string().min(1).max(8192),
    truncatedAlerts: z.number().int().min(0).optional(),
    status: AlertStatus,
    receiver: z.string().max(500),
    groupLabels: StringMap.default({}),
    commonLabels: StringMap.default({}),
    commonAnnotations: StringMap.default({}),
    externalURL: z.string().max(2048).default(''),
    alerts: z.array(AlertmanagerAlert).min(1).max(10_000),
  })
  .meta({ id: 'AlertmanagerWebhook', description: 'Alertmanager webhook_config body, version 4' });
export type AlertmanagerWebhook = z.infer<typeof AlertmanagerWebhook>;

/** RFC 3339 with any precision → ISO-8601 in ms; Alertmanager's zero time means "unset". */
function isoOrUndefined(s: string): string | undefined {
  if (!s || s.startsWith('0001-01-01')) return undefined;
  const ms = Date.parse(s);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

export function normalizeAlertmanager(
  body: AlertmanagerWebhook,
  source: string,
  keyBy: 'fingerprint' | 'group',
  receivedAt: string,
): Alert[] {
  return body.alerts.map((a) => {
    const { labels, annotations } = a;
    return {
      format: 'alertmanager',
      source,
      origin: labels['job'] ?? body.receiver,
      dedupKey: keyBy === 'group' ? body.groupKey : a.fingerprint,
      title: annotations['summary'] ?? labels['alertname'] ?? 'Alertmanager alert',
      severity: mapSeverity(labels['severity']),
      status: a.status,
      agentId: labels['agent_id'],
      labels,
      details: {
        annotations,
        fingerprint: a.fingerprint,
        groupKey: body.groupKey,
        receiver: body.receiver,
        generatorURL: a.generatorURL,
        externalURL: body.externalURL,
        startsAt: a.startsAt,
        endsAt: a.endsAt,
      },
      occurredAt: isoOrUndefined(a.startsAt) ?? receivedAt,
    };
  });
}
