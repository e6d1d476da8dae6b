/**
 * Validators of the playbook updates, as pure functions of the run state and the workflow clock:
 * they throw (rejecting the update before it enters history) for unknown steps, steps not waiting,
 * decisions after the deadline, approvers the step does not name, a second decision by the same
 * person, and the requester approving their own request (two-person rule). A decisionId already
 * applied always passes, so a retried call gets the first result.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import type { Actor } from '../domain/incident';
import type { ApprovalStep } from '../domain/playbook';
import type { RefusalType } from '../domain/refusals';
import type { ApprovalDecision, DecisionResult, TaskCompletion } from './messages';
import type { IndexedStep, PlaybookRun } from './playbook-model';

/** Rejects the update with a typed failure (see domain/refusals.ts); it never enters history. */
function refuse(type: RefusalType, message: string): never {
  throw ApplicationFailure.create({ type, message, nonRetryable: true });
}

function requireActor(actor: Actor | undefined): asserts actor is Actor {
  if (!actor?.id) refuse('Invalid', 'actor.id is required');
  if (!['api', 'slack', 'cli'].includes(actor.via)) refuse('Invalid', 'actor.via must be api, slack or cli');
}

export function requireDecisionId(decisionId: string | undefined): void {
  if (!decisionId || typeof decisionId !== 'string') refuse('Invalid', 'decisionId is required');
}

export type Decisions = Record<string, DecisionResult>;

export function isDuplicate(decisions: Decisions, decisionId: string): boolean {
  return Object.hasOwn(decisions, decisionId);
}

export function isAuthorizedApprover(def: ApprovalStep, actor: Actor): boolean {
  const a = def.approvers;
  return (
    a.users.includes(actor.id) ||
    (actor.groups ?? []).some((g) => a.groups.includes(g)) ||
    (actor.roles ?? []).some((r) => a.roles.includes(r))
  );
}

function waitingStep(run: PlaybookRun, index: Map<string, IndexedStep>, stepId: string, kind: string) {
  const entry = index.get(stepId);
  if (!entry) refuse('Invalid', `unknown step ${stepId}`);
  if (entry.step.kind !== kind) refuse('Invalid', `step ${stepId} is a ${entry.step.kind}, not a ${kind}`);
  const state = run.steps[stepId];
  if (!state || state.status !== 'waiting') {
    // A step that timed out (failed) expired; one decided, running or done was decided already.
    refuse(
      state?.status === 'failed' ? 'Expired' : state ? 'AlreadyDecided' : 'Invalid',
      `step ${stepId} is not waiting for a decision (status: ${state?.status ?? 'pending'})`,
    );
  }
  return { def: entry.step, state };
}

export function validateApproval(
  run: PlaybookRun | undefined,
  index: Map<string, IndexedStep>,
  d: ApprovalDecision,
  nowMs: number,
  decisions: Decisions,
): void {
  requireDecisionId(d?.decisionId);
  if (isDuplicate(decisions, d.decisionId)) return;
  if (!run) refuse('Invalid', 'this incident has no playbook');
  requireActor(d.actor);
  if (d.decision !== 'approve' && d.decision !== 'reject')
    refuse('Invalid', 'decision must be approve or reject');
  const { def, state } = waitingStep(run, index, d.stepId, 'approval');
  if (state.deadline && nowMs > Date.parse(state.deadline)) {
    refuse('Expired', `the deadline of ${d.stepId} passed at ${state.deadline}`);
  }
  if (!isAuthorizedApprover(def as ApprovalStep, d.actor)) {
    refuse('Unauthorized', `${d.actor.id} is not an approver of ${d.stepId}`);
  }
  if ((state.approvals ?? []).some((a) => a.actorId === d.actor.id)) {
    refuse(
      'AlreadyDecided',
      `${d.actor.id} already decided on ${d.stepId}: approvers must be distinct people`,
    );
  }
  // Withdrawing one's own request (a rejection) is fine; approving it is not.
  if (d.decision === 'approve' && state.requester && state.requester === d.actor.id) {
    refuse('Unauthorized', `two-person rule: ${d.actor.id} requested ${d.stepId} and cannot approve it`);
  }
}

export function validateTask(
  run: PlaybookRun | undefined,
  index: Map<string, IndexedStep>,
  t: TaskCompletion,
  nowMs: number,
  decisions: Decisions,
): void {
  requireDecisionId(t?.decisionId);
  if (isDuplicate(decisions, t.decisionId)) return;
  if (!run) refuse('Invalid', 'this incident has no playbook');
  requireActor(t.actor);
  const { state } = waitingStep(run, index, t.stepId, 'manual_task');
  if (state.deadline && nowMs > Date.parse(state.deadline)) {
    refuse('Expired', `the deadline of ${t.stepId} passed at ${state.deadline}`);
  }
}

export function validateActorAction(
  run: PlaybookRun | undefined,
  req: { decisionId: string; actor: Actor },
  needsRunning: boolean,
  decisions: Decisions,
): void {
  requireDecisionId(req?.decisionId);
  if (isDuplicate(decisions, req.decisionId)) return;
  requireActor(req.actor);
  if (needsRunning && run?.status !== 'running') refuse('Invalid', 'no playbook is running on this incident');
}
