/**
 * The messages an incident workflow accepts and answers, defined once so that the workflow,
 * the API's Temporal client module, Slack handlers and tests share the same names and payload
 * types. Every decision update carries a caller-chosen `decisionId` (scoped to its kind, step and
 * person): the same person sending the same one again (a retried HTTP call, a double-clicked Slack
 * button) gets the first result and changes nothing. Every decision also carries the `proof` that
 * Firebreak signed it (domain/decision-proof.ts); the workflow refuses one without.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type {
  Actor,
  AlertBatch,
  CloseRequest,
  DecisionProof,
  IncidentState,
  PinnedPlaybook,
  PlaybookState,
  StepStatus,
} from '../domain/incident';

export type { Actor, CloseRequest, DecisionProof } from '../domain/incident';

/** New alerts were stored for this incident (a batch, see AlertBatch). */
export const alertsAttached = defineSignal<[AlertBatch]>('alertsAttached');

export const incidentState = defineQuery<IncidentState>('incidentState');

/** The playbook's phase, every step's state, pending approvals and open tasks (null: no playbook). */
export const playbookState = defineQuery<PlaybookState | null>('playbookState');

/** Close the incident; later alerts for the same key open a new incident. */
export const closeIncident = defineUpdate<IncidentState, [CloseRequest]>('closeIncident');

export interface ApprovalDecision {
  decisionId: string;
  proof: DecisionProof;
  stepId: string;
  decision: 'approve' | 'reject';
  actor: Actor;
  reason?: string;
}

export interface TaskCompletion {
  decisionId: string;
  proof: DecisionProof;
  stepId: string;
  actor: Actor;
  note?: string;
}

export interface AbortRequest {
  decisionId: string;
  proof: DecisionProof;
  actor: Actor;
  /** Why; an abort keeps every containment in place (only an approved release undoes it). */
  reason: string;
}

export interface EscalationRequest {
  decisionId: string;
  proof: DecisionProof;
  actor: Actor;
  reason: string;
  /** Who to notify (Slack user/group id or channel); default: each pending approval's escalation target. */
  target?: string;
}

export interface NoteRequest {
  decisionId: string;
  proof: DecisionProof;
  actor: Actor;
  text: string;
}

/**
 * Attach a playbook to a running incident that runs triage (or none): pinned as at open (id,
 * version, source hash, definition, all covered by the signature), then run from its first phase.
 */
export interface AttachPlaybookRequest {
  decisionId: string;
  proof: DecisionProof;
  actor: Actor;
  playbook: PinnedPlaybook;
  reason?: string;
}

/**
 * Ask for a stand-alone release of the incident's containment: opens a k-of-n approval step
 * (`release_<n>`) decided through `decideApproval`; only its approval undoes containment.
 */
export interface ReleaseRequest {
  decisionId: string;
  proof: DecisionProof;
  actor: Actor;
  reason: string;
}

/** What every playbook update returns; `duplicate` is true when the decisionId was already applied. */
export interface DecisionResult {
  decisionId: string;
  duplicate: boolean;
  stepId?: string;
  stepStatus?: StepStatus;
}

/** Approve or reject a waiting approval step (k-of-n, two-person rule, before its deadline). */
export const decideApproval = defineUpdate<DecisionResult, [ApprovalDecision]>('decideApproval');
/** Mark a waiting manual task done. */
export const completeTask = defineUpdate<DecisionResult, [TaskCompletion]>('completeTask');
/**
 * Stop the playbook; compensations of completed actions run in reverse order, except containment,
 * which is undone only when the request is a release.
 */
export const abortIncident = defineUpdate<DecisionResult, [AbortRequest]>('abortIncident');
/** Notify an escalation target now, without waiting for a deadline. */
export const escalate = defineUpdate<DecisionResult, [EscalationRequest]>('escalate');
/** Add a note to the incident timeline. */
export const addNote = defineUpdate<DecisionResult, [NoteRequest]>('addNote');
/** Attach a playbook to an incident running triage or none (see AttachPlaybookRequest). */
export const attachPlaybook = defineUpdate<DecisionResult, [AttachPlaybookRequest]>('attachPlaybook');
/** Request a release of containment: returns the release approval's step id. */
export const requestRelease = defineUpdate<DecisionResult, [ReleaseRequest]>('requestRelease');
