/**
 * The handlers of the decision updates (decideApproval, completeTask, abortIncident, escalate,
 * addNote, attachPlaybook, requestRelease; closeIncident through `admit`). The checks of decisions.ts run twice: in the validator,
 * which rejects malformed, expired and already-decided updates before they enter history, and in
 * the handler, where a refusal about who decides (unsigned, forged, stale, not authorized, the
 * two-person rule) is written to the timeline as `decision.refused` and to the audit log before
 * the update fails with it, so a forged decision sent straight to Temporal leaves a trace. An
 * accepted decision is applied to the run state the interpreter waits on, remembered under its
 * scoped key (a repeat returns the first result) and written to the timeline with its actor
 * before it returns (a regular activity, see projection-queue.ts).
 */
import { isCancellation, setHandler } from '@temporalio/workflow';
import type { DecisionKind } from '../domain/decision-proof';
import type { IncidentStart } from '../domain/incident';
import type { ApprovalStep } from '../domain/playbook';
import { followUpActions } from './action-requests';
import {
  checkApproval,
  checkAttach,
  checkIncidentDecision,
  checkReleaseRequest,
  checkTask,
  decisionKey,
  isRecorded,
  personOf,
  refuse,
  type DecisionScope,
  type Decisions,
  type Refusal,
  type SignedDecision,
} from './decisions';
import {
  abortIncident,
  addNote,
  attachPlaybook,
  completeTask,
  decideApproval,
  escalate,
  requestRelease,
  type AbortRequest,
  type ApprovalDecision,
  type AttachPlaybookRequest,
  type CloseRequest,
  type DecisionResult,
  type EscalationRequest,
  type NoteRequest,
  type ReleaseRequest,
  type TaskCompletion,
} from './messages';
import { nowIso, type PlaybookContext } from './playbook-context';
import { errorMessage } from './playbook-errors';
import { updateWrites } from './projection-queue';
import { openRelease } from './release';
import { approvalLike, showApproval } from './slack-notify';

interface DecisionEvent {
  kind: string;
  actor: string;
  message: string;
  data?: Record<string, unknown>;
}

type Outcome = Omit<DecisionResult, 'decisionId' | 'duplicate'>;

/** A free-text field the update needs (reason, note text). */
function requireText(value: string | undefined, name: string) {
  if (!value) refuse({ type: 'Invalid', message: `${name} is required` });
}

/** The validator's half: refusals that are not recorded reject the update before history. */
function validate(r: Refusal | undefined): void {
  if (r && !isRecorded(r)) refuse(r);
}

/** What the incident lifecycle does for the decisions that change which playbook runs. */
export interface LifecycleHooks {
  /** Why an attach cannot happen now (closing, another attach under way), if it cannot. */
  attachBlocked(): string | undefined;
  /** Replaces the running triage (or nothing) with the attached playbook and runs it. */
  attach(req: AttachPlaybookRequest): void;
  /** Starts waiting for the release approval just opened. */
  release(ctx: PlaybookContext, record: ReturnType<typeof openRelease>): void;
}

export class DecisionHandlers {
  constructor(
    private readonly input: IncidentStart,
    /** Undefined for an incident without a playbook: only escalate, addNote, attach and close apply. */
    private readonly current: () => PlaybookContext | undefined,
    private readonly decisions: Decisions,
    private readonly hooks: LifecycleHooks,
  ) {}

  /** The playbook run decisions apply to: an attached playbook replaces the one pinned at open. */
  private get ctx(): PlaybookContext | undefined {
    return this.current();
  }

  private scope(): DecisionScope {
    return {
      input: this.ctx?.input ?? this.input,
      run: this.ctx?.run,
      index: this.ctx?.index ?? new Map(),
      nowMs: Date.now(),
      decisions: this.decisions,
    };
  }

  /** The close update's check (validator and handler), for IncidentLifecycle. */
  checkClose(req: CloseRequest): Refusal | undefined {
    return checkIncidentDecision(
      this.scope(),
      'close',
      req,
      { text: req.reason },
      { authorized: true, needsRunning: false },
    );
  }

  validateClose(req: CloseRequest): void {
    requireText(req?.reason, 'reason');
    validate(this.checkClose(req));
  }

  /** The handler's half: a refusal is recorded (timeline, audit log), then the update fails. */
  async admit(
    kind: DecisionKind,
    stepId: string | undefined,
    d: SignedDecision,
    refusal: Refusal | undefined,
  ): Promise<void> {
    if (!refusal) return;
    await this.recordRefusal(kind, stepId, d, refusal);
    refuse(refusal);
  }

  register(): void {
    const s = () => this.scope();
    const approval = (d: ApprovalDecision) => checkApproval(s(), d);
    const task = (t: TaskCompletion) => checkTask(s(), t);
    const abort = (a: AbortRequest) =>
      checkIncidentDecision(s(), 'abort', a, { text: a.reason }, { authorized: true, needsRunning: true });
    const esc = (e: EscalationRequest) =>
      checkIncidentDecision(
        s(),
        'escalate',
        e,
        { text: e.reason, target: e.target },
        { authorized: false, needsRunning: false },
      );
    const note = (n: NoteRequest) =>
      checkIncidentDecision(s(), 'note', n, { text: n.text }, { authorized: false, needsRunning: false });
    const attach = (a: AttachPlaybookRequest) => checkAttach(s(), a, this.hooks.attachBlocked());
    const release = (r: ReleaseRequest) => checkReleaseRequest(s(), r);
    setHandler(
      attachPlaybook,
      async (a) => {
        await this.admit('attach', undefined, a, attach(a));
        return this.attach(a);
      },
      { validator: (a) => validate(attach(a)) },
    );
    setHandler(
      requestRelease,
      async (r) => {
        await this.admit('release_request', undefined, r, release(r));
        return this.requestRelease(r);
      },
      {
        validator: (r) => {
          requireText(r?.reason, 'reason');
          validate(release(r));
        },
      },
    );
    setHandler(
      decideApproval,
      async (d) => {
        await this.admit('approval', d.stepId, d, approval(d));
        return this.decideApproval(d);
      },
      { validator: (d) => validate(approval(d)) },
    );
    setHandler(
      completeTask,
      async (t) => {
        await this.admit('task', t.stepId, t, task(t));
        return this.completeTask(t);
      },
      { validator: (t) => validate(task(t)) },
    );
    setHandler(
      abortIncident,
      async (a) => {
        await this.admit('abort', undefined, a, abort(a));
        return this.abort(a);
      },
      {
        validator: (a) => {
          requireText(a?.reason, 'reason');
          validate(abort(a));
        },
      },
    );
    setHandler(
      escalate,
      async (e) => {
        await this.admit('escalate', undefined, e, esc(e));
        return this.escalate(e);
      },
      {
        validator: (e) => {
          requireText(e?.reason, 'reason');
          validate(esc(e));
        },
      },
    );
    setHandler(
      addNote,
      async (n) => {
        await this.admit('note', undefined, n, note(n));
        return this.addNote(n);
      },
      {
        validator: (n) => {
          requireText(n?.text?.trim(), 'text');
          validate(note(n));
        },
      },
    );
  }

  /** The refused attempt on the timeline (as refused) and in the audit log, with its actor. */
  private async recordRefusal(
    kind: DecisionKind,
    stepId: string | undefined,
    d: SignedDecision,
    r: Refusal,
  ): Promise<void> {
    const incidentId = this.input.incidentId;
    const actor = r.unverified ? `${d.actor.id} (unverified)` : d.actor.id;
    const key = decisionKey(kind, stepId, d);
    const at = nowIso();
    const what = stepId ? `${kind} of ${stepId}` : kind;
    const data = {
      decision: kind,
      decisionId: d.decisionId,
      actorId: d.actor.id,
      person: personOf(d.actor),
      via: d.actor.via,
      verified: !r.unverified,
      reason: r.message,
      ...(stepId ? { stepId } : {}),
    };
    await updateWrites.recordTimeline({
      incidentId,
      kind: 'decision.refused',
      actor,
      message: `Refused ${what} by ${actor} via ${d.actor.via}: ${r.message}`,
      data,
      eventKey: `${incidentId}:refused:${key}:${d.proof?.at ?? 'unsigned'}`,
      at,
    });
    await updateWrites.auditRefusedDecision({ at, actor, incidentId, stepId, data });
  }

  /** Applies a decision once per scoped key; a repeat gets the stored result back. */
  private async once(
    key: string,
    decisionId: string,
    apply: () => Outcome,
    event: DecisionEvent,
  ): Promise<DecisionResult> {
    if (Object.hasOwn(this.decisions, key)) return { ...this.decisions[key]!, duplicate: true };
    const result: DecisionResult = { decisionId, duplicate: false, ...apply() };
    this.decisions[key] = result;
    const incidentId = this.input.incidentId;
    await updateWrites.recordTimeline({
      incidentId,
      ...event,
      data: { decisionId, ...(event.data ?? {}) },
      eventKey: `${incidentId}:decision:${key}`,
      at: nowIso(),
    });
    return result;
  }

  private decideApproval(d: ApprovalDecision): Promise<DecisionResult> {
    const verb = d.decision === 'approve' ? 'approved' : 'rejected';
    return this.once(
      decisionKey('approval', d.stepId, d),
      d.decisionId,
      () => {
        const s = this.ctx!.run.steps[d.stepId]!;
        const vote = {
          decisionId: d.decisionId,
          actorId: d.actor.id,
          person: personOf(d.actor),
          decision: d.decision,
          at: nowIso(),
        };
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
      decisionKey('task', t.stepId, t),
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
      decisionKey('abort', undefined, a),
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

  private attach(a: AttachPlaybookRequest): Promise<DecisionResult> {
    const { id, version, hash } = a.playbook;
    const replaced = this.ctx?.pinned.id;
    return this.once(
      decisionKey('attach', undefined, a),
      a.decisionId,
      () => {
        this.hooks.attach(a);
        return {};
      },
      {
        kind: 'playbook.attached',
        actor: a.actor.id,
        message: `${a.actor.name ?? a.actor.id} attached playbook ${id} v${version}${replaced ? ` in place of ${replaced}` : ''} via ${a.actor.via}${a.reason ? `: ${a.reason}` : ''}`,
        data: { via: a.actor.via, playbook: { id, version, hash }, ...(replaced ? { replaced } : {}) },
      },
    );
  }

  private requestRelease(r: ReleaseRequest): Promise<DecisionResult> {
    const ctx = this.ctx!;
    // The id openRelease gives the step (only applied once: a repeat returns the first result).
    const stepId = `release_${(ctx.run.releases?.length ?? 0) + 1}`;
    return this.once(
      decisionKey('release_request', undefined, r),
      r.decisionId,
      () => {
        this.hooks.release(ctx, openRelease(ctx, r.actor, r.reason));
        return { stepId, stepStatus: 'waiting' };
      },
      {
        kind: 'release.requested',
        actor: r.actor.id,
        message: `${r.actor.name ?? r.actor.id} requested a release of containment (${stepId}) via ${r.actor.via}: ${r.reason}`,
        data: { via: r.actor.via, stepId },
      },
    );
  }

  private addNote(n: NoteRequest): Promise<DecisionResult> {
    return this.once(decisionKey('note', undefined, n), n.decisionId, () => ({}), {
      kind: 'note',
      actor: n.actor.id,
      message: n.text,
      data: { via: n.actor.via },
    });
  }

  private async escalate(e: EscalationRequest): Promise<DecisionResult> {
    const targets = e.target ? [e.target] : this.pendingEscalationTargets();
    const result = await this.once(decisionKey('escalate', undefined, e), e.decisionId, () => ({}), {
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
