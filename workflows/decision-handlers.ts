/**
 * The handlers of the playbook updates (decideApproval, completeTask, abortIncident, escalate,
 * addNote). Each validator (decisions.ts) runs before the update enters history; each handler
 * applies the decision to the run state the interpreter is waiting on, remembers the decisionId
 * (so a repeat returns the first result) and writes the decision to the timeline with its actor.
 */
import { isCancellation, setHandler } from '@temporalio/workflow';
import type { IncidentStart } from '../domain/incident';
import type { ApprovalStep } from '../playbooks/schema';
import {
  isDuplicate,
  validateActorAction,
  validateApproval,
  validateTask,
  type Decisions,
} from './decisions';
import { projection, type Ctx } from './interpreter';
import { errorMessage } from './step-runtime';
import {
  abortIncident,
  addNote,
  completeTask,
  decideApproval,
  escalate,
  type DecisionResult,
} from './messages';

export interface DecisionDeps {
  input: IncidentStart;
  ctx: Ctx | undefined;
  decisions: Decisions;
}

export function registerDecisionHandlers({ input, ctx, decisions }: DecisionDeps): void {
  const incidentId = input.incidentId;
  const now = () => new Date().toISOString();
  const index = ctx?.index ?? new Map();

  /** Applies a decision once; a repeated decisionId gets the stored result back. */
  async function once(
    decisionId: string,
    apply: () => Omit<DecisionResult, 'decisionId' | 'duplicate'>,
    event: { kind: string; actor: string; message: string; data?: Record<string, unknown> },
  ): Promise<DecisionResult> {
    if (isDuplicate(decisions, decisionId)) return { ...decisions[decisionId]!, duplicate: true };
    const result: DecisionResult = { decisionId, duplicate: false, ...apply() };
    decisions[decisionId] = result;
    await projection.recordTimeline({
      incidentId,
      ...event,
      data: { decisionId, ...(event.data ?? {}) },
      eventKey: `${incidentId}:decision:${decisionId}`,
      at: now(),
    });
    return result;
  }

  setHandler(
    decideApproval,
    (d) =>
      once(
        d.decisionId,
        () => {
          const s = ctx!.run.steps[d.stepId]!;
          s.approvals = [
            ...(s.approvals ?? []),
            {
              decisionId: d.decisionId,
              actorId: d.actor.id,
              decision: d.decision,
              at: now(),
              ...(d.reason ? { reason: d.reason } : {}),
            },
          ];
          return { stepId: d.stepId, stepStatus: s.status };
        },
        {
          kind: `approval.${d.decision === 'approve' ? 'approved' : 'rejected'}`,
          actor: d.actor.id,
          message: `${d.actor.name ?? d.actor.id} ${d.decision === 'approve' ? 'approved' : 'rejected'} ${d.stepId} via ${d.actor.via}${d.reason ? `: ${d.reason}` : ''}`,
          data: { stepId: d.stepId, decision: d.decision, via: d.actor.via },
        },
      ),
    { validator: (d) => validateApproval(ctx?.run, index, d, Date.now(), decisions) },
  );

  setHandler(
    completeTask,
    (t) =>
      once(
        t.decisionId,
        () => {
          const s = ctx!.run.steps[t.stepId]!;
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
      ),
    { validator: (t) => validateTask(ctx?.run, index, t, Date.now(), decisions) },
  );

  setHandler(
    abortIncident,
    (a) =>
      once(
        a.decisionId,
        () => {
          ctx!.run.abortRequested ??= { actor: a.actor.id, reason: a.reason };
          return {};
        },
        {
          kind: 'abort.requested',
          actor: a.actor.id,
          message: `${a.actor.name ?? a.actor.id} aborted the playbook via ${a.actor.via}: ${a.reason}`,
          data: { via: a.actor.via },
        },
      ),
    {
      validator: (a) => {
        validateActorAction(ctx?.run, a, true, decisions);
        if (!isDuplicate(decisions, a.decisionId) && !a.reason) throw new Error('reason is required');
      },
    },
  );

  setHandler(
    escalate,
    async (e) => {
      const pendingTargets = ctx
        ? Object.values(ctx.run.steps)
            .filter((s) => s.status === 'waiting' && s.kind === 'approval')
            .flatMap((s) => {
              const def = ctx.index.get(s.id)?.step as ApprovalStep | undefined;
              return def?.escalation ? [def.escalation.target] : [];
            })
        : [];
      const targets = e.target ? [e.target] : [...new Set(pendingTargets)];
      const result = await once(e.decisionId, () => ({}), {
        kind: 'escalated',
        actor: e.actor.id,
        message: `${e.actor.name ?? e.actor.id} escalated via ${e.actor.via} to ${targets.join(', ') || 'the incident channel'}: ${e.reason}`,
        data: { targets, via: e.actor.via },
      });
      if (!result.duplicate) {
        for (const [i, target] of (targets.length > 0 ? targets : [undefined]).entries()) {
          try {
            await projection.executeAction({
              incidentId,
              stepId: `escalate.${e.decisionId}.${i}`,
              action: 'notify',
              params: { message: `Escalation: ${input.title}: ${e.reason}`, ...(target ? { target } : {}) },
              mode: input.mode,
              actor: e.actor.id,
            });
          } catch (err) {
            // The escalation stands (it is on the timeline); say that nobody was told.
            if (isCancellation(err)) throw err;
            await projection.recordTimeline({
              incidentId,
              kind: 'escalation.notify_failed',
              actor: e.actor.id,
              message: `Could not notify ${target ?? 'the incident channel'}: ${errorMessage(err)}`,
              eventKey: `${incidentId}:decision:${e.decisionId}:notify:${i}`,
              at: now(),
            });
          }
        }
      }
      return result;
    },
    {
      validator: (e) => {
        validateActorAction(ctx?.run, e, false, decisions);
        if (!isDuplicate(decisions, e.decisionId) && !e.reason) throw new Error('reason is required');
      },
    },
  );

  setHandler(
    addNote,
    (n) =>
      once(n.decisionId, () => ({}), {
        kind: 'note',
        actor: n.actor.id,
        message: n.text,
        data: { via: n.actor.via },
      }),
    {
      validator: (n) => {
        validateActorAction(ctx?.run, n, false, decisions);
        if (!isDuplicate(decisions, n.decisionId) && !n.text?.trim()) throw new Error('text is required');
      },
    },
  );
}
