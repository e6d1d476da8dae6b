/**
 * The API's request-query and response shapes as zod schemas: handlers are typed by them and the
 * OpenAPI document is generated from them (api/openapi.ts), so the two cannot drift apart.
 * Request bodies live with their format (domain/alert.ts, intake/formats/).
 */
import { z } from 'zod';
import { Severity } from '../domain/alert';

export const IncidentStatus = z.enum(['open', 'resolved', 'closed']);
export const IncidentMode = z.enum(['live', 'drill']);

export const ErrorResponse = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      field: z.string().optional(),
      issues: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
    }),
  })
  .meta({ id: 'Error' });

export const IntakeResponse = z
  .object({
    incident_id: z.string().nullable().describe('null: a resolve/acknowledge with no open incident'),
    alert_id: z.string().nullable(),
    deduplicated: z.boolean().describe('true when the alert joined an incident that was already open'),
  })
  .meta({ id: 'IntakeResponse' });
export type IntakeResponse = z.infer<typeof IntakeResponse>;

export const PagerDutyIntakeResponse = IntakeResponse.extend({
  status: z.literal('success').describe('what the Events API v2 answers'),
  dedup_key: z.string(),
}).meta({ id: 'PagerDutyIntakeResponse' });
export type PagerDutyIntakeResponse = z.infer<typeof PagerDutyIntakeResponse>;

export const AlertmanagerIntakeResponse = z
  .object({
    incident_id: z.string().nullable().describe('the first alert’s incident'),
    incidents: z.array(
      z.object({ incident_id: z.string().nullable(), deduplicated: z.boolean(), fingerprint: z.string() }),
    ),
  })
  .meta({ id: 'AlertmanagerIntakeResponse' });
export type AlertmanagerIntakeResponse = z.infer<typeof AlertmanagerIntakeResponse>;

export const IncidentListQuery = z.object({
  status: IncidentStatus.optional(),
  severity: Severity.optional(),
  agent: z.string().min(1).optional(),
  mode: IncidentMode.optional(),
  needs_attention: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional()
    .describe('only incidents that need (true) or do not need (false) a human'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().min(1).optional().describe('next_cursor of the previous page'),
});

export const IncidentSummary = z
  .object({
    id: z.string(),
    status: IncidentStatus,
    mode: IncidentMode,
    phase: z.string(),
    severity: Severity,
    title: z.string(),
    source: z.string(),
    agent_id: z.string().nullable(),
    playbook_id: z.string().nullable(),
    alert_count: z.number().int(),
    opened_at: z.string(),
    last_alert_at: z.string(),
    resolved_at: z.string().nullable(),
    closed_at: z.string().nullable(),
    needs_attention: z
      .object({ reason: z.string(), step_id: z.string().nullable(), at: z.string() })
      .nullable()
      .describe(
        'set when containment holds but the playbook stopped or a containment step failed: a human must act',
      ),
  })
  .meta({ id: 'IncidentSummary' });
export type IncidentSummary = z.infer<typeof IncidentSummary>;

export const IncidentList = z
  .object({ incidents: z.array(IncidentSummary), next_cursor: z.string().nullable() })
  .meta({ id: 'IncidentList' });

export const IncidentDetail = IncidentSummary.extend({
  workflow_id: z.string(),
  started_at: z.string().nullable(),
  alerts: z.object({
    count: z.number().int(),
    latest: z
      .object({
        id: z.string(),
        title: z.string(),
        status: z.enum(['firing', 'resolved']),
        received_at: z.string(),
      })
      .nullable(),
  }),
  pending_approvals: z.array(z.unknown()).describe('from the incident workflow, when it tracks approvals'),
}).meta({ id: 'IncidentDetail' });
export type IncidentDetail = z.infer<typeof IncidentDetail>;

export const TimelineEvent = z
  .object({
    id: z.number().int(),
    at: z.string(),
    kind: z.string(),
    actor: z.string(),
    message: z.string(),
    data: z.record(z.string(), z.unknown()).nullable(),
  })
  .meta({ id: 'TimelineEvent' });

export const TimelinePage = z
  .object({ events: z.array(TimelineEvent), next_cursor: z.string().nullable() })
  .meta({ id: 'Timeline' });
export const TimelineQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(200),
  cursor: z.string().regex(/^\d+$/, 'a next_cursor value').optional(),
});
