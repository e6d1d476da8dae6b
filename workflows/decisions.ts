/**
 * Who may decide what, as pure functions of the incident's input, the run state and the workflow
 * clock. Each check returns a refusal or undefined:
 * - first the signature (decision-proof.ts): the actor, their person, roles and groups count only
 *   as Firebreak's API or Slack receiver signed them;
 * - a decision id already applied by the same person on the same step returns the first result
 *   (ids are scoped to kind, step and person, so nobody can pre-claim another's id);
 * - approvals: the step's approvers, distinct people (one person's API and Slack ids are one), the
 *   requester never approving their own request (two-person rule), before the deadline;
 * - abort, close and task completion on a live incident: the playbook's approvers (any approval
 *   step's), the task's assignee, or a role the config names (`decision_roles`, pinned into the
 *   input at start). A drill contains nothing for real; there any signed responder may.
 * `Unauthorized` refusals are recorded (timeline and audit log, decision-handlers.ts); the others
 * (unknown step, not waiting, expired) are rejected by the validator before entering history.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import { playbookClaim, type DecisionClaims, type DecisionKind } from '../domain/decision-proof';
import type { Actor, DecisionProof, IncidentStart } from '../domain/incident';
import type { ApprovalStep, ManualTaskStep } from '../domain/playbook';
import type { RefusalType } from '../domain/refusals';
import { TRIAGE_PLAYBOOK_ID } from '../playbooks/select';
import { proofProblem } from './decision-proof';
import type { AttachPlaybookRequest, DecisionResult, ReleaseRequest } from './messages';
import { holdsContainment, type IndexedStep, type PlaybookRun } from './playbook-model';

export interface Refusal {
  type: RefusalType;
  message: string;
  /** The signature did not hold: the actor named in the payload is only a claim. */
  unverified?: boolean;
}

/** Rejects the update with a typed failure (see domain/refusals.ts). */
export function refuse(r: Refusal): never {
  throw ApplicationFailure.create({ type: r.type, message: r.message, nonRetryable: true });
}

/** Refusals about who decides: written to the timeline and the audit log. */
export function isRecorded(r: Refusal): boolean {
  return r.type === 'Unauthorized';
}

export type Decisions = Record<string, DecisionResult>;

/** What every decision update carries besides its own fields. */
export interface SignedDecision {
  decisionId: string;
  actor: Actor;
  proof: DecisionProof;
}

/** What the checks read. */
export interface DecisionScope {
  input: IncidentStart;
  run: PlaybookRun | undefined;
  index: Map<string, IndexedStep>;
  nowMs: number;
  decisions: Decisions;
}

const invalid = (message: string): Refusal => ({ type: 'Invalid', message });
const unauthorized = (message: string): Refusal => ({ type: 'Unauthorized', message });

export function personOf(actor: Actor): string {
  return actor.person ?? actor.id;
}

/** Every id the actor is known by: their id, their person, and the ids linked to it. */
export function idsOf(actor: Actor): string[] {
  return [...new Set([actor.id, personOf(actor), ...(actor.ids ?? [])])];
}

/** A decision id scoped to its kind, step and person: the key of `Decisions`. */
export function decisionKey(kind: DecisionKind, stepId: string | undefined, d: SignedDecision): string {
  return `${kind}:${stepId ?? '-'}:${personOf(d.actor)}:${d.decisionId}`;
}

function shape(d: SignedDecision | undefined): Refusal | undefined {
  if (!d?.decisionId || typeof d.decisionId !== 'string') return invalid('decisionId is required');
  if (!d.actor?.id) return invalid('actor.id is required');
  if (!['api', 'slack', 'cli'].includes(d.actor.via)) return invalid('actor.via must be api, slack or cli');
  return undefined;
}

/** Shape, then signature; `claims` are the fields the signature covers besides actor and id. */
function signed(
  s: DecisionScope,
  kind: DecisionKind,
  d: SignedDecision,
  claims: Pick<DecisionClaims, 'stepId' | 'decision' | 'text' | 'target'>,
): Refusal | undefined {
  const bad = shape(d);
  if (bad) return bad;
  const problem = proofProblem(
    s.input.decisionKey,
    { incidentId: s.input.incidentId, kind, decisionId: d.decisionId, actor: d.actor, ...claims },
    d.proof,
    s.nowMs,
  );
  return problem ? { ...unauthorized(problem), unverified: true } : undefined;
}

interface Approvers {
  users: string[];
  groups: string[];
  roles: string[];
}

export function matchesApprovers(a: Approvers, actor: Actor): boolean {
  return (
    idsOf(actor).some((id) => a.users.includes(id)) ||
    (actor.groups ?? []).some((g) => a.groups.includes(g)) ||
    (actor.roles ?? []).some((r) => a.roles.includes(r))
  );
}

/** The playbook's approvers (of every approval step), a task's assignee, or a configured role. */
export function isDecider(s: DecisionScope, actor: Actor, assignee?: string): boolean {
  if ((actor.roles ?? []).some((r) => (s.input.deciderRoles ?? []).includes(r))) return true;
  if (assignee && idsOf(actor).includes(assignee)) return true;
  return [...s.index.values()].some(
    ({ step }) => step.kind === 'approval' && matchesApprovers((step as ApprovalStep).approvers, actor),
  );
}

function deciders(s: DecisionScope): string {
  const roles = s.input.deciderRoles ?? [];
  return `the playbook's approvers${roles.length > 0 ? ` or a person with the role ${roles.join(', ')}` : ''}`;
}

function waitingStep(s: DecisionScope, stepId: string, kind: string) {
  const entry = s.index.get(stepId);
  if (!entry) return { refusal: invalid(`unknown step ${stepId}`) };
  if (entry.step.kind !== kind)
    return { refusal: invalid(`step ${stepId} is a ${entry.step.kind}, not a ${kind}`) };
  const state = s.run!.steps[stepId];
  if (!state || state.status !== 'waiting') {
    // A step that timed out (failed) expired; one decided, running or done was decided already.
    const type: RefusalType = state?.status === 'failed' ? 'Expired' : state ? 'AlreadyDecided' : 'Invalid';
    const message = `step ${stepId} is not waiting for a decision (status: ${state?.status ?? 'pending'})`;
    return { refusal: { type, message } };
  }
  if (state.deadline && s.nowMs > Date.parse(state.deadline))
    return {
      refusal: { type: 'Expired' as const, message: `the deadline of ${stepId} passed at ${state.deadline}` },
    };
  return { def: entry.step, state };
}

export interface ApprovalClaims extends SignedDecision {
  stepId: string;
  decision: 'approve' | 'reject';
  reason?: string;
}

export function checkApproval(s: DecisionScope, d: ApprovalClaims): Refusal | undefined {
  const sig = signed(s, 'approval', d, { stepId: d.stepId, decision: d.decision, text: d.reason });
  if (sig) return sig;
  if (Object.hasOwn(s.decisions, decisionKey('approval', d.stepId, d))) return undefined;
  if (!s.run) return invalid('this incident has no playbook');
  if (d.decision !== 'approve' && d.decision !== 'reject')
    return invalid('decision must be approve or reject');
  const w = waitingStep(s, d.stepId, 'approval');
  if (w.refusal) return w.refusal;
  const { def, state } = w;
  const who = d.actor.id;
  if (!matchesApprovers((def as ApprovalStep).approvers, d.actor))
    return unauthorized(`${who} is not an approver of ${d.stepId}`);
  const ids = idsOf(d.actor);
  const earlier = (state.approvals ?? []).find(
    (a) => a.actorId === who || ids.includes(a.actorId) || (a.person !== undefined && ids.includes(a.person)),
  );
  if (earlier?.actorId === who)
    return {
      type: 'AlreadyDecided',
      message: `${who} already decided on ${d.stepId}: approvers must be distinct people`,
    };
  if (earlier)
    return unauthorized(
      `two-person rule: ${who} is ${personOf(d.actor)}, who already decided on ${d.stepId} as ${earlier.actorId}`,
    );
  // Withdrawing one's own request (a rejection) is fine; approving it is not.
  if (d.decision === 'approve' && state.requester && ids.includes(state.requester))
    return unauthorized(`two-person rule: ${who} requested ${d.stepId} and cannot approve it`);
  return undefined;
}

export interface TaskClaims extends SignedDecision {
  stepId: string;
  note?: string;
}

export function checkTask(s: DecisionScope, t: TaskClaims): Refusal | undefined {
  const sig = signed(s, 'task', t, { stepId: t.stepId, text: t.note });
  if (sig) return sig;
  if (Object.hasOwn(s.decisions, decisionKey('task', t.stepId, t))) return undefined;
  if (!s.run) return invalid('this incident has no playbook');
  const w = waitingStep(s, t.stepId, 'manual_task');
  if (w.refusal) return w.refusal;
  if (s.input.mode === 'live' && !isDecider(s, t.actor, (w.def as ManualTaskStep).assignee))
    return unauthorized(`${t.actor.id} may not complete ${t.stepId}: only ${deciders(s)} may`);
  return undefined;
}

/**
 * Abort, close, escalate and notes. `authorized`: only deciders may (abort, close); `needsRunning`:
 * only while the playbook runs (abort).
 */
export function checkIncidentDecision(
  s: DecisionScope,
  kind: DecisionKind,
  d: SignedDecision,
  claims: { text?: string; target?: string },
  opts: { authorized: boolean; needsRunning: boolean },
): Refusal | undefined {
  const sig = signed(s, kind, d, claims);
  if (sig) return sig;
  if (Object.hasOwn(s.decisions, decisionKey(kind, undefined, d))) return undefined;
  if (opts.needsRunning && s.run?.status !== 'running')
    return invalid('no playbook is running on this incident');
  // Without a playbook, or in a drill, nothing is contained: any signed responder may close it.
  if (opts.authorized && s.input.mode === 'live' && s.input.playbook && !isDecider(s, d.actor))
    return unauthorized(`${d.actor.id} may not ${kind} this incident: only ${deciders(s)} may`);
  return undefined;
}

/**
 * A release request: deciders only on a live incident; one waiting release at a time; only while
 * something is contained (the playbook may have stopped: a release outlives it).
 */
export function checkReleaseRequest(s: DecisionScope, r: ReleaseRequest): Refusal | undefined {
  const sig = signed(s, 'release_request', r, { text: r.reason });
  if (sig) return sig;
  if (Object.hasOwn(s.decisions, decisionKey('release_request', undefined, r))) return undefined;
  const run = s.run;
  if (!run) return invalid('this incident runs no playbook: nothing is contained');
  if (s.input.mode === 'live' && !isDecider(s, r.actor))
    return unauthorized(`${r.actor.id} may not request a release of this incident: only ${deciders(s)} may`);
  const pending = (run.releases ?? []).find((x) => run.steps[x.step.id]?.approved === undefined);
  if (pending) return invalid(`release ${pending.step.id} is already waiting for its approvals`);
  if (!run.compensations.some((c) => holdsContainment(c, s.index)))
    return invalid('nothing on this incident is contained: there is nothing to release');
  return undefined;
}

/**
 * Attaching a playbook: deciders only on a live incident (it may contain); only to an incident
 * that runs triage or no playbook, and not while it is closing or another attach is under way.
 */
export function checkAttach(
  s: DecisionScope,
  a: AttachPlaybookRequest,
  busy: string | undefined,
): Refusal | undefined {
  const bad = shape(a);
  if (bad) return bad;
  const p = a.playbook as Partial<AttachPlaybookRequest['playbook']> | undefined;
  if (!p || typeof p.id !== 'string' || typeof p.hash !== 'string' || !p.definition?.phases)
    return invalid('playbook (id, version, hash, definition) is required');
  const sig = signed(s, 'attach', a, { text: a.reason, target: playbookClaim(a.playbook) });
  if (sig) return sig;
  if (Object.hasOwn(s.decisions, decisionKey('attach', undefined, a))) return undefined;
  if (s.input.mode === 'live' && !isDecider(s, a.actor))
    return unauthorized(`${a.actor.id} may not attach a playbook to this incident: only ${deciders(s)} may`);
  if (busy) return invalid(busy);
  const current = s.input.playbook?.id;
  if (current && current !== TRIAGE_PLAYBOOK_ID)
    return invalid(
      `this incident already runs playbook ${current}: only one running triage (or none) takes another`,
    );
  if (p.id === TRIAGE_PLAYBOOK_ID)
    return invalid('triage is what runs without a playbook; attach another one');
  return undefined;
}
