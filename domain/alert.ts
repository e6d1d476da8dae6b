/**
 * The alert concept: the generic intake format (what the API validates and OpenAPI documents)
 * and the internal normalized `Alert` that every vendor format is converted to before routing.
 * Pure: imported by api/, activities/ and (as types) workflows/.
 */
import { z } from 'zod';

export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export const Severity = z.enum(SEVERITIES);
export type Severity = z.infer<typeof Severity>;

export const AlertStatus = z.enum(['firing', 'resolved']);
export type AlertStatus = z.infer<typeof AlertStatus>;

export const GenericAlert = z
  .object({
    title: z.string().trim().min(1).max(500),
    severity: Severity,
    source: z.string().trim().min(1).max(200),
    dedup_key: z.string().trim().min(1).max(500).optional(),
    agent_id: z.string().trim().min(1).max(200).optional(),
    status: AlertStatus.default('firing'),
    labels: z.record(z.string(), z.string().max(2000)).default({}),
    details: z.record(z.string(), z.unknown()).default({}),
    occurred_at: z.iso.datetime({ offset: true }).optional(),
  })
  .meta({ id: 'GenericAlert', description: 'Firebreak alert format' });
export type GenericAlert = z.infer<typeof GenericAlert>;

export const AlertFormat = z.enum(['generic', 'alertmanager', 'pagerduty']);
export type AlertFormat = z.infer<typeof AlertFormat>;

/** One alert after normalization, whatever format it arrived in. */
export interface Alert {
  format: AlertFormat;
  /** The configured alert source that authenticated the request. */
  source: string;
  /** The sender's own name for the alert's origin (e.g. `source` in the generic body). */
  origin: string;
  dedupKey: string;
  title: string;
  severity: Severity;
  status: AlertStatus;
  agentId: string | undefined;
  labels: Record<string, string>;
  details: Record<string, unknown>;
  occurredAt: string;
  /** A PagerDuty acknowledge: it annotates an open incident and never opens one. */
  acknowledgement?: boolean;
}

/** Severity words vendors use, mapped onto ours; unknown words are `medium`, never dropped. */
export function mapSeverity(word: string | undefined): Severity {
  switch (word?.trim().toLowerCase()) {
    case 'critical':
    case 'crit':
    case 'fatal':
    case 'emergency':
    case 'page':
      return 'critical';
    case 'high':
    case 'error':
    case 'major':
      return 'high';
    case 'low':
    case 'minor':
      return 'low';
    case 'info':
    case 'informational':
    case 'none':
      return 'info';
    default:
      return 'medium';
  }
}
