/**
 * The prose parts of a post-mortem, derived only from the report's facts: the one-paragraph
 * summary, and the review sections for humans (root cause, contributing factors, follow-ups)
 * pre-filled with the alerts, evidence, failed or unverified actions, failed steps, slow
 * approvals and escalations that bear on them. Pure.
 */
import type { PostmortemReport } from './postmortem';

/** Approvals that waited longer than this are listed as a contributing factor. */
const SLOW_APPROVAL_SECONDS = 900;
/** Timeline events that always bear on what went wrong. */
const NOTABLE_EVENTS = new Set([
  'approval.timed_out',
  'abort.requested',
  'playbook.aborted',
  'postmortem.failed',
]);

export function summarize(r: PostmortemReport): string {
  const reached = r.milestones.map((m) => m.milestone);
  const drill = r.incident.mode === 'drill' ? 'Drill: ' : '';
  const agentsText = r.impact.affected_agents.map((a) => a.id).join(', ') || 'no agent recorded';
  return (
    `${drill}${r.incident.severity} incident "${r.incident.title}" from ${r.incident.source}, ` +
    `affecting ${agentsText}; ${r.alerts.total} alert(s), ${r.actions.length} action(s), ` +
    `${r.approvals.length} approval decision(s). Milestones reached: ${reached.join(', ') || 'none'}. ` +
    `Status: ${r.incident.status}.`
  );
}

/** Failed or rejected playbook steps, as the step projection holds them. */
export interface FailedStep {
  stepId: string;
  kind: string;
  phase: string;
  status: string;
}

/** Each line is a stored fact a reviewer is likely to need in that section; humans complete it. */
export function review(r: PostmortemReport, failedSteps: FailedStep[]): PostmortemReport['review'] {
  return {
    root_cause: [
      ...r.alerts.by_title.map((a) => `Alert (${a.severity}) x${a.count}: ${a.title}`),
      ...r.evidence.map((e) => `Evidence ${e.kind} ${e.sha256.slice(0, 12)} from ${e.source}`),
    ],
    contributing_factors: [
      ...r.actions
        .filter((a) => a.status !== 'succeeded' || a.verified === false)
        .map(
          (a) =>
            `Action ${a.action} (${a.step_id}) ${a.status}${a.verified === false ? ', not verified' : ''}`,
        ),
      ...r.connector_failures.map(
        (f) => `Connector ${f.action} (${f.step_id ?? '—'}) ${f.outcome}${f.error ? `: ${f.error}` : ''}`,
      ),
      ...failedSteps.map((s) => `Step ${s.stepId} (${s.kind}, ${s.phase}) ${s.status}`),
      ...r.approvals
        .filter((a) => (a.wait_seconds ?? 0) > SLOW_APPROVAL_SECONDS)
        .map((a) => `Approval ${a.step_id} waited ${Math.round(a.wait_seconds!)} s for ${a.actor}`),
      ...r.timeline
        .filter((e) => NOTABLE_EVENTS.has(e.kind))
        .map((e) => `${e.kind} (${e.actor}): ${e.message}`),
      ...r.escalations.map((e) => `Escalation by ${e.actor}: ${e.message}`),
    ],
    action_items: r.action_items.map((i) => `${i.title} (owner ${i.owner}, ${i.status})`),
  };
}
