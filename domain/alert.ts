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

/** How deeply free-form JSON (alert details, drill scenarios) may nest: objects and arrays count. */
export const MAX_JSON_DEPTH = 32;

/**
 * Whether `value` nests at most `max` objects/arrays deep. Iterative, so a hostile depth cannot
 * overflow the stack here, and it stops at the first path that goes too deep.
 */
export function jsonDepthAtMost(value: unknown, max = MAX_JSON_DEPTH): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  for (let item = stack.pop(); item; item = stack.pop()) {
    const [v, depth] = item;
    if (typeof v !== 'object' || v === null) continue;
    if (depth + 1 > max) return false;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return true;
}

const depthMessage = `nests deeper than ${MAX_JSON_DEPTH} levels`;

/** Free-form JSON of bounded depth; a deeper value is a 400 naming this field. */
export const BoundedJson = z.unknown().refine((v) => jsonDepthAtMost(v), depthMessage);

/** A free-form JSON object of bounded depth (the object itself is the first level). */
export const BoundedJsonObject = z
  .record(z.string(), z.unknown())
  .refine((v) => jsonDepthAtMost(v), depthMessage);

export const GenericAlert = z
  .object({
    title: z.string().trim().min(1).max(500),
    severity: Severity,
    source: z.string().trim().min(1).max(200),
    dedup_key: z.string().trim().min(1).max(500).optional(),
    agent_id: z.string().trim().min(1).max(200).optional(),
    status: AlertStatus.default('firing'),
    labels: z.record(z.string(), z.string().max(2000)).default({}),
    details: BoundedJsonObject.default({}),
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

/** An alert whose `agent_id` field and `labels.agent_id` name different agents. */
export class AgentIdConflict extends Error {
  override name = 'AgentIdConflict';
  constructor(
    readonly field: string,
    readonly label: string,
  ) {
    super(
      `agent_id (${field}) and labels.agent_id (${label}) name different agents: ` +
        'send one agent id, in agent_id or in labels.agent_id',
    );
  }
}

/**
 * The one agent id of an alert, which routing, grouping, mode rules, playbook selection and the
 * actions all read: `agentId` and `labels.agent_id` are made equal (either may be given alone).
 * Throws AgentIdConflict when they disagree, since a label would otherwise send the incident
 * down another route (a drill, another group) than the agent its actions contain.
 */
export function resolveAgentId(alert: Alert): Alert {
  const label = alert.labels['agent_id'];
  if (alert.agentId !== undefined && label !== undefined && alert.agentId !== label)
    throw new AgentIdConflict(alert.agentId, label);
  const agentId = alert.agentId ?? label;
  if (agentId === undefined) return alert;
  return { ...alert, agentId, labels: { ...alert.labels, agent_id: agentId } };
}
