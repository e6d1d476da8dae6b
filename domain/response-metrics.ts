/**
 * Response metrics of one incident, computed from its stored timeline alone, so the post-mortem
 * and the Prometheus endpoint can never disagree. Pure: callers load the rows. A "human" event is
 * one whose actor is a person (not `firebreak`, `intake` or a `playbook:` runner); approval waits
 * pair each decision with the step's first `step.waiting` event (the request).
 */
import type { ApprovalRecord, ResponseMetrics } from './postmortem';

export interface FactEvent {
  at: string;
  kind: string;
  actor: string;
  data: Record<string, unknown> | null;
}

export function isSystemActor(actor: string): boolean {
  return actor === 'firebreak' || actor === 'intake' || actor.startsWith('playbook:');
}

export function secondsBetween(from: string, to: string): number {
  return (Date.parse(to) - Date.parse(from)) / 1000;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export function milestoneAt(events: FactEvent[], milestone: string): string | undefined {
  return events.find((e) => e.kind === 'milestone' && e.data?.milestone === milestone)?.at;
}

/** Every approval decision with who, when, and how long it waited since the request. */
export function approvalsOf(events: FactEvent[]): ApprovalRecord[] {
  // The request first, wherever it stands: a decision is written by its update at once, while the
  // step's `step.waiting` reaches the timeline with the next projection flush, so a quick decision
  // can be stored before the request it answers.
  const requested = new Map<string, string>();
  for (const e of events) {
    const stepId = str(e.data?.stepId);
    if (stepId && e.kind === 'step.waiting' && e.data?.kind === 'approval' && !requested.has(stepId))
      requested.set(stepId, e.at);
  }
  const out: ApprovalRecord[] = [];
  for (const e of events) {
    const stepId = str(e.data?.stepId);
    if (!stepId) continue;
    if (e.kind === 'approval.approved' || e.kind === 'approval.rejected') {
      const req = requested.get(stepId);
      out.push({
        step_id: stepId,
        decision: e.kind === 'approval.approved' ? 'approve' : 'reject',
        actor: e.actor,
        via: str(e.data?.via) ?? null,
        requested_at: req ?? null,
        decided_at: e.at,
        wait_seconds: req ? secondsBetween(req, e.at) : null,
      });
    }
  }
  return out;
}

export function responseMetrics(
  incident: { openedAt: string; closedAt: string | null },
  events: FactEvent[],
): ResponseMetrics {
  const since = (at: string | undefined) => (at ? secondsBetween(incident.openedAt, at) : null);
  const firstHuman = events.find((e) => !isSystemActor(e.actor) && e.at >= incident.openedAt)?.at;
  return {
    time_to_acknowledge_seconds: since(firstHuman),
    time_to_contain_seconds: since(milestoneAt(events, 'contained')),
    time_to_remediate_seconds: since(milestoneAt(events, 'remediated')),
    time_to_close_seconds: since(incident.closedAt ?? milestoneAt(events, 'closed')),
    approval_wait_seconds: approvalsOf(events).flatMap((a) =>
      a.wait_seconds === null ? [] : [a.wait_seconds],
    ),
  };
}

/** Duration of each step: its first running/waiting transition to its terminal one. */
export function stepDurations(
  events: FactEvent[],
): { stepId: string; kind: string; phase: string; status: string; seconds: number }[] {
  const started = new Map<string, string>();
  const out: { stepId: string; kind: string; phase: string; status: string; seconds: number }[] = [];
  for (const e of events) {
    if (!e.kind.startsWith('step.')) continue;
    const stepId = str(e.data?.stepId);
    if (!stepId) continue;
    const status = e.kind.slice('step.'.length);
    if (status === 'running' || status === 'waiting') {
      if (!started.has(stepId)) started.set(stepId, e.at);
      continue;
    }
    const from = started.get(stepId);
    if (!from || status === 'skipped') continue;
    started.delete(stepId);
    out.push({
      stepId,
      kind: str(e.data?.kind) ?? 'unknown',
      phase: str(e.data?.phase) ?? 'unknown',
      status,
      seconds: secondsBetween(from, e.at),
    });
  }
  return out;
}
