/**
 * The audit entry of a person's decision, as the activity that persists the decision writes it:
 * approvals and rejections, task completions, aborts, escalations, notes and the close, each
 * with the actor who made it (never `playbook:<id>`) and its inputs redacted. A workflow writes
 * a decision's timeline event under the key `<incident>:decision:<decisionId>`; the event kind
 * says which decision it was. Refused attempts are audited by the workflow's refusal path
 * (activities/refusals.ts), and by the Slack edge for what never reaches a workflow.
 */
import { redactString, redactValue } from '../connectors/redact';
import type { AuditContent } from '../db/audit';
import type { TimelineEvent } from '../db/timeline';

/** Timeline event kind of a decision → its audit action. */
const DECISION_ACTIONS: Record<string, string> = {
  'approval.approved': 'decision.approve',
  'approval.rejected': 'decision.reject',
  'task.completed': 'decision.task_done',
  'abort.requested': 'decision.abort',
  'playbook.attached': 'decision.attach_playbook',
  'release.requested': 'decision.release_request',
  escalated: 'decision.escalate',
  note: 'decision.note',
};

function entry(
  e: { at: string; actor: string; action: string; incidentId: string; stepId?: string },
  inputs: Record<string, unknown>,
): AuditContent {
  return {
    at: e.at,
    actor: redactString(e.actor),
    action: e.action,
    target: `incident:${e.incidentId}${e.stepId ? `/step:${e.stepId}` : ''}`,
    incidentId: e.incidentId,
    stepId: e.stepId ?? null,
    inputs: redactValue(inputs) as Record<string, unknown>,
    outcome: 'accepted',
    detail: {},
    durationMs: 0,
  };
}

/** The audit entry for `e` when it records a person's decision, else undefined. */
export function decisionAuditEntry(e: TimelineEvent, at: string): AuditContent | undefined {
  const action = DECISION_ACTIONS[e.kind];
  if (!action || !e.eventKey.startsWith(`${e.incidentId}:decision:`)) return undefined;
  const data = e.data ?? {};
  const stepId = typeof data.stepId === 'string' ? data.stepId : undefined;
  return entry(
    { at: e.at ?? at, actor: e.actor, action, incidentId: e.incidentId, ...(stepId ? { stepId } : {}) },
    {
      decision_id: data.decisionId,
      via: data.via,
      ...(data.decision ? { decision: data.decision } : {}),
      ...(data.targets ? { targets: data.targets } : {}),
      message: e.message,
    },
  );
}

export function closeAuditEntry(
  input: { incidentId: string; actor: string; actorId?: string; reason: string },
  at: string,
): AuditContent {
  return entry(
    { at, actor: input.actorId ?? input.actor, action: 'incident.close', incidentId: input.incidentId },
    { reason: input.reason },
  );
}
