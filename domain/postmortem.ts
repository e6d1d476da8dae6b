/**
 * The post-mortem report, defined once: this zod schema types what activities/postmortem.ts
 * builds from stored facts, what `GET /v1/incidents/:id/postmortem.json` returns, and its OpenAPI
 * entry. Durations are seconds (null until the incident reaches that point); times are ISO 8601.
 * Pure: no I/O, importable anywhere.
 */
import { z } from 'zod';
import { AgentActivityEntry } from './agent-activity';

const iso = z.string().describe('ISO 8601 time');
const seconds = z.number().nullable().describe('Seconds; null until reached');

export const ResponseMetrics = z
  .object({
    time_to_acknowledge_seconds: seconds.describe('First human action after the incident opened'),
    time_to_contain_seconds: seconds.describe('Milestone `contained` − opened'),
    time_to_remediate_seconds: seconds.describe('Milestone `remediated` − opened'),
    time_to_close_seconds: seconds.describe('Closed − opened'),
    approval_wait_seconds: z.array(z.number()).describe('Per decided approval: decision − request'),
  })
  .meta({ id: 'ResponseMetrics' });
export type ResponseMetrics = z.infer<typeof ResponseMetrics>;

export const ActionItem = z
  .object({
    step_id: z.string(),
    phase: z.string(),
    title: z.string(),
    owner: z.string(),
    checklist: z.array(z.string()),
    status: z.enum(['open', 'done', 'failed', 'skipped']),
    completed_by: z.string().nullable(),
    created_at: iso,
  })
  .meta({ id: 'ActionItem' });
export type ActionItem = z.infer<typeof ActionItem>;

export const ApprovalRecord = z.object({
  step_id: z.string(),
  decision: z.enum(['approve', 'reject']),
  actor: z.string(),
  via: z.string().nullable(),
  requested_at: iso.nullable(),
  decided_at: iso,
  wait_seconds: z.number().nullable(),
});
export type ApprovalRecord = z.infer<typeof ApprovalRecord>;

export const PostmortemReport = z
  .object({
    generated_at: iso,
    incident: z.object({
      id: z.string(),
      title: z.string(),
      severity: z.string(),
      mode: z.enum(['live', 'drill']),
      status: z.string(),
      phase: z.string(),
      source: z.string(),
      playbook: z.object({ id: z.string(), version: z.number().nullable() }).nullable(),
      opened_at: iso,
      closed_at: iso.nullable(),
    }),
    summary: z.string(),
    impact: z.object({
      severity: z.string(),
      affected_agents: z.array(
        z.object({
          id: z.string(),
          name: z.string().nullable().describe('null when the agent is not in the inventory'),
          owner: z.string().nullable(),
          environment: z.string().nullable(),
          status: z.string().nullable(),
          credentials: z.array(
            z.object({ id: z.string(), provider: z.string(), reference: z.string(), status: z.string() }),
          ),
        }),
      ),
    }),
    alerts: z.object({
      total: z.number().int(),
      deduplicated: z.number().int().describe('Alerts attached to the already open incident'),
      first_at: iso.nullable(),
      last_at: iso.nullable(),
      by_title: z.array(z.object({ title: z.string(), severity: z.string(), count: z.number().int() })),
    }),
    milestones: z.array(z.object({ milestone: z.string(), at: iso, actor: z.string() })),
    timeline: z.array(
      z.object({ id: z.number().int(), at: iso, kind: z.string(), actor: z.string(), message: z.string() }),
    ),
    actions: z.array(
      z.object({
        step_id: z.string(),
        action: z.string(),
        status: z.string(),
        verified: z.boolean().nullable(),
        summary: z.string().nullable(),
        started_at: iso,
        finished_at: iso.nullable(),
        duration_seconds: z.number().nullable(),
      }),
    ),
    connector_failures: z
      .array(
        z.object({
          at: iso,
          action: z.string(),
          step_id: z.string().nullable(),
          outcome: z.string(),
          error: z.string().nullable(),
        }),
      )
      .describe('Audit-log entries of attempts that errored or did not take effect (retries included)'),
    approvals: z.array(ApprovalRecord),
    escalations: z.array(z.object({ at: iso, actor: z.string(), message: z.string() })),
    notes: z.array(z.object({ at: iso, actor: z.string(), text: z.string() })),
    evidence: z.array(
      z.object({
        sha256: z.string(),
        kind: z.string(),
        size: z.number().int(),
        media_type: z.string(),
        source: z.string(),
        collected_by: z.string(),
        collected_at: iso,
        audit: z
          .object({ seq: z.number().int(), hash: z.string(), outcome: z.string() })
          .nullable()
          .describe('The audit-log entry of the step that collected it'),
      }),
    ),
    agent_activity: z
      .array(AgentActivityEntry)
      .describe(
        "What the agent did: its tool and model calls from the collected traces and the gateway's record, in time order, with the alert, containment and first refused call",
      ),
    metrics: ResponseMetrics,
    action_items: z.array(ActionItem),
    review: z
      .object({
        root_cause: z.array(z.string()),
        contributing_factors: z.array(z.string()),
        action_items: z.array(z.string()),
      })
      .describe('For humans to complete; pre-filled with the facts that bear on each'),
  })
  .meta({ id: 'PostmortemReport' });
export type PostmortemReport = z.infer<typeof PostmortemReport>;

export const ActionItemList = z
  .object({ incident_id: z.string(), action_items: z.array(ActionItem) })
  .meta({ id: 'ActionItemList' });

/** What `GET /v1/incidents/:id/postmortem.json` returns: the report with its stored revision. */
export const PostmortemDocument = PostmortemReport.extend({
  revision: z.number().int().describe('Increases each time the report is rendered again'),
  generated_by: z.string(),
  sha256: z.string().describe('sha256 of the Markdown rendering of this revision'),
}).meta({ id: 'PostmortemDocument' });
