/**
 * Firebreak's own alert format (`POST /v1/alerts`), whose schema lives in domain/alert.ts, and
 * its normalizer. Without a dedup_key, alerts with the same origin, title and agent deduplicate.
 */
import crypto from 'node:crypto';
import type { Alert, GenericAlert } from '../../domain/alert';

function genericDedupKey(a: GenericAlert): string {
  return crypto
    .createHash('sha256')
    .update(`${a.source}\0${a.title}\0${a.agent_id ?? ''}`)
    .digest('hex')
    .slice(0, 24);
}

export function normalizeGeneric(a: GenericAlert, source: string, receivedAt: string): Alert {
  return {
    format: 'generic',
    source,
    origin: a.source,
    dedupKey: a.dedup_key ?? genericDedupKey(a),
    title: a.title,
    severity: a.severity,
    status: a.status,
    agentId: a.agent_id ?? a.labels['agent_id'],
    labels: a.labels,
    details: a.details,
    occurredAt: a.occurred_at ?? receivedAt,
  };
}
