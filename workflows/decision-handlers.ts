/**
 * The handlers of the playbook updates (decideApproval, completeTask, abortIncident, escalate,
 * addNote). Each validator (decisions.ts) runs before the update enters history; each handler
 * applies the decision to the run state the interpreter is waiting on, remembers the decisionId
 * (so a repeat returns the first result) and writes the decision to the timeline with its actor
 * before it returns (a regular activity, see projection-queue.ts), so a caller that reads the
 * timeline next finds it.
 */
import { isCancellation, setHandler } from '@temporalio/workflow';
import type { IncidentStart } from '../domain/incident';
import type { ApprovalStep } from '../domain/playbook';
import { followUpActions } from './action-requests';
import {
  isDuplicate,
  validateActorAction,
  validateApproval,
  validateTask,
  type Decisions,
} from './decisions';
import {
  abortIncident,
  addNote,
  completeTask,
  decideApproval,
  escalate,
  type AbortRequest,
  type ApprovalDecision,
  type DecisionResult,
  type EscalationRequest,
  type NoteRequest,
  type TaskCompletion,
} from './messages';
import { nowIso, type PlaybookContext } from './playbook-context';
import { errorMessage } from './playbook-errors';
import { updateWrites } from './projection-queue';
import { approvalLike, showApproval } from './slack-notify';

interface DecisionEvent {
  kind: string;
  actor: string;
  message: string;
  data?: Record<string, unknown>;
}

type Outcome = Omit<DecisionResult, 'decisionId' | 'duplicate'>;

/** A free-text field the update needs (reason, note text), unless the decisionId is a repeat. */
function requireText(decisions: Decisions, decisionId: string, value: string | undefined, name: string) {
  if (!isDuplicate(decisions, decisionId) && !value) throw new Error(`${name} is required`);
}

export class DecisionHandlers {
  constructor(
    private readonly input: IncidentStart,
    /** Undefined for an incident without a playbook: only escalate and addNote apply. */
    private readonly ctx: PlaybookContext | undefined,
    private readonly decisions: Decisions,
  ) {}

  register(): void {
    const { decisions } = this;
    const run = () => this.ctx?.run;
    const index = this.ctx?.index ?? new Map();
    setHandler(decideApproval, (d) => this.decideApproval(d), {
      validator: (d) => validateApproval(run(), index, d, Date.now(), decisions),
    });
    setHandler(completeTask, (t) => this.completeTask(t), {
      validator: (t) => validateTask(run(), index, t, Date.now(), decisions),
    });
    setHandler(abortIncident, (a) => this.abort(a), {
      validator: (a) => {
        validateActorAction(run(), a, true, decisions);
        requireText(decisions, a.decisionId, a.reason, 'reason');
      },
    });
    setHandler(escalate, (e) => this.escalate(e), {
      validator: (e) => {
        validateActorAction(run(), e, false, decisions);
        requireText(decisions, e.decisionId, e.reason, 'reason');
      },
    });
    setHandler(addNote, (n) => this.addNote(n), {
      validator: (n) => {
        validateActorAction(run(), n, false, decisions);
        requireText(decisions, n.decisionId, n.text?.trim(), 'text');
      },
    });
  }

  /** Applies a decision once; a repeated decisionId gets the stored result back. */
  private async once(
    decisionId: string,
    apply: () => Outcome,
    event: DecisionEvent,
  ): Promise<DecisionResult> {
    if (isDuplicate(this.decisions, decisionId)) return { ...this.decisions[decisionId]!, duplicate: true };
    const result: DecisionResult = { decisionId, duplicate: false, ...apply() };
    this.decisions[decisionId] = result;
    const incidentId = this.input.incidentId;
    await updateWrites.recordTimeline({
      incidentId,
      ...event,
      data: { decisionId, ...(event.data ?? {}) },
      eventKey: `${incidentId}:decision:${decisionId}`,
      at: nowIso(),
    });
    return result;
  }

  private decideApproval(d: ApprovalDecision): Promise<DecisionResult> {
    const verb = d.decision === 'approve' ? 'approved' : 'rejected';
    return this.once(
      d.decisionId,
      () => {
        const s = this.ctx!.run.steps[d.stepId]!;
        const vote = { decisionId: d.decisionId, actorId: d.actor.id, decision: d.decision, at: nowIso() };
        s.approvals = [...(s.approvals ?? []), { ...vote, ...(d.reason ? { reason: d.reason } : {}) }];
        this.showProgress(d.stepId);
        return { stepId: d.stepId, stepStatus: s.status };
      },
      {
        kind: `approval.${verb}`,
        actor: d.actor.id,
        message: `${d.actor.name ?? d.actor.id} ${verb} ${d.stepId} via ${d.actor.via}${d.reason ? `: ${d.reason}` : ''}`,
        data: { stepId: d.stepId, decision: d.decision, via: d.actor.via },
      },
    );
  }

  /** k-of-n still short: Slack shows the progress from this state (the step renders its outcome). */
  private showProgress(stepId: string): void {
    const ctx = this.ctx!;
    const s = ctx.run.steps[stepId]!;
    const def = ctx.index.get(stepId)?.step as ApprovalStep | undefined;
    if (!def) return;
    const votes = s.approvals ?? [];
    const approvals = votes.filter((a) => a.decision === 'approve').length;
    if (votes.some((a) => a.decision === 'reject') || approvals >= def.min_approvals) return;
    showApproval(ctx.incidentId, approvalLike(ctx, def, s));
  }

  private completeTask(t: TaskCompletion): Promise<DecisionResult> {
    return this.once(
      t.decisionId,
      () => {
        const s = this.ctx!.run.steps[t.stepId]!;
        s.completedBy = t.actor.id;
        if (t.note) s.note = t.note;
        return { stepId: t.stepId, stepStatus: s.status };
      },
      {
        kind: 'task.completed',
        actor: t.actor.id,
        message: `${t.actor.name ?? t.actor.id} completed ${t.stepId} via ${t.actor.via}${t.note ? `: ${t.note}` : ''}`,
        data: { stepId: t.stepId, via: t.actor.via },
      },
    );
  }

  private abort(a: AbortRequest): Promise<DecisionResult> {
    return this.once(
      a.decisionId,
      () => {
        this.ctx!.run.abortRequested ??= { actor: a.actor.id, reason: a.reason };
        return {};
      },
      {
        kind: 'abort.requested',
        actor: a.actor.id,
        message: `${a.actor.name ?? a.actor.id} aborted the playbook via ${a.actor.via}: ${a.reason}`,
        data: { via: a.actor.via },
      },
    );
  }

  private addNote(n: NoteRequest): Promise<DecisionResult> {
    return this.once(n.decisionId, () => ({}), {
      kind: 'note',
      actor: n.actor.id,
      message: n.text,
      data: { via: n.actor.via },
    });
  }

  private async escalate(e: EscalationRequest): Promise<DecisionResult> {
    const targets = e.target ? [e.target] : this.pendingEscalationTargets();
    const result = await this.once(e.decisionId, () => ({}), {
      kind: 'escalated',
      actor: e.actor.id,
      message: `${e.actor.name ?? e.actor.id} escalated via ${e.actor.via} to ${targets.join(', ') || 'the incident channel'}: ${e.reason}`,
      data: { targets, via: e.actor.via },
    });
    if (!result.duplicate) {
      const each = targets.length > 0 ? targets : [undefined];
      for (const [i, target] of each.entries()) await this.notifyEscalation(e, i, target);
    }
    return result;
  }

  /** The escalation targets of every approval still waiting, once each. */
  private pendingEscalationTargets(): string[] {
    const ctx = this.ctx;
    if (!ctx) return [];
    const targets = Object.values(ctx.run.steps)
      .filter((s) => s.status === 'waiting' && s.kind === 'approval')
      .flatMap((s) => {
        const def = ctx.index.get(s.id)?.step as ApprovalStep | undefined;
        return def?.escalation ? [def.escalation.target] : [];
      });
    return [...new Set(targets)];
  }

  private async notifyEscalation(e: EscalationRequest, i: number, target: string | undefined): Promise<void> {
    const { incidentId, title, mode } = this.input;
    try {
      await followUpActions.executeAction({
        incidentId,
        stepId: `escalate.${e.decisionId}.${i}`,
        action: 'notify',
        params: { message: `Escalation: ${title}: ${e.reason}`, ...(target ? { target } : {}) },
        mode,
        actor: e.actor.id,
      });
    } catch (err) {
      // The escalation stands (it is on the timeline); say that nobody was told.
      if (isCancellation(err)) throw err;
      await updateWrites.recordTimeline({
        incidentId,
        kind: 'escalation.notify_failed',
        actor: e.actor.id,
        message: `Could not notify ${target ?? 'the incident channel'}: ${errorMessage(err)}`,
        eventKey: `${incidentId}:decision:${e.decisionId}:notify:${i}`,
        at: nowIso(),
      });
    }
  }
}
