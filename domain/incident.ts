/**
 * Incident concepts shared by the API, the activities and the workflows: the workflow's input
 * (with the pinned playbook it interprets), the batched alert signal, and the state it reports,
 * including each playbook step's state. Pure types and constants only.
 */
import type { ScriptedOutcome } from './actions';
import type { AlertStatus, Severity } from './alert';
import type { Phase } from './phases';
import type { PinnedPlaybook } from './playbook';

export { MILESTONES, PHASES, type Phase } from './phases';
export type { PinnedPlaybook } from './playbook';
export type IncidentMode = 'live' | 'drill';
export type IncidentStatus = 'open' | 'resolved' | 'closed';

export interface IncidentStart {
  incidentId: string;
  key: string;
  mode: IncidentMode;
  source: string;
  title: string;
  severity: Severity;
  agentId: string | undefined;
  openedAt: string;
  /** Labels of the alert that opened the incident (what playbooks match on). */
  labels?: Record<string, string>;
  /** The playbook this incident follows, loaded and validated outside the workflow. */
  playbook?: PinnedPlaybook;
  /** Values for the playbook's declared inputs (defaults apply for the rest). */
  inputs?: Record<string, string | number | boolean>;
  /**
   * Who asked for this incident: the person who declared it, else the alert source
   * (`source:<id>`). The default approval requester, who may not approve (two-person rule).
   */
  requestedBy?: string;
  /**
   * Set when the alert that opened the incident came from a source not trusted to trigger its
   * containment unattended: every containment action then waits for a confirmation first.
   */
  confirmation?: ContainmentConfirmation;
  /** Raw Ed25519 public key (hex) that every decision must be signed with; none: all are refused. */
  decisionKey?: string;
  /** Roles (config `decision_roles`) that may abort, resolve, close and complete tasks. */
  deciderRoles?: string[];
  /**
   * A stand-alone release of containment (config `release`): how many distinct people must
   * approve it (default 2) and how long it waits for them (default 24h) before it lapses.
   */
  release?: ReleasePolicy;
  /** Drill mode only: scripted action outcomes by step id. */
  scripted?: Record<string, ScriptedOutcome>;
  /** Drill mode only: playbook timers (waits, approval and task deadlines) run this many times faster. */
  speed?: number;
}

export interface ReleasePolicy {
  minApprovals: number;
  timeout: string;
}

export const DEFAULT_RELEASE_POLICY: ReleasePolicy = { minApprovals: 2, timeout: '24h' };

/** Why containment needs a human first: the source named an agent outside its scope, or set a severity above its max. */
export type ConfirmationReason = 'out_of_scope' | 'severity_above_max';

export interface ContainmentConfirmation {
  reasons: ConfirmationReason[];
  /** What intake found, for the confirmation's prompt. */
  message: string;
  /** Who may confirm (the source's `confirm_approvers`). */
  approvers: { users: string[]; groups: string[]; roles: string[] };
}

/**
 * Alerts that reached an incident since the last signal, summarised: a storm of N alerts adds one
 * signal per dispatch batch, never one per alert. The alerts themselves stay in the DB.
 */
export interface AlertBatch {
  /** Highest alert seq in the batch: a batch re-sent after a crash is recognised and ignored. */
  toSeq: number;
  /** Alerts stored for the incident up to and including toSeq: idempotent, unlike a delta. */
  totalCount: number;
  latestAlertId: string;
  latestTitle: string;
  latestStatus: AlertStatus;
  lastSeenAt: string;
}

export type PlaybookStatus = 'running' | 'completed' | 'aborted';

export interface IncidentState {
  incidentId: string;
  status: IncidentStatus;
  phase: Phase | 'closed';
  alertCount: number;
  latestAlertId: string | undefined;
  lastSeenAt: string | undefined;
  lastAlertSeq: number;
  playbook?: { id: string; version: number; hash: string; status: PlaybookStatus };
  /** Filled in by the query only (not carried): approvals waiting for a decision. */
  pendingApprovals?: PendingApproval[];
}

/** Attached to every decision update: when it was signed and the signature (hex, 64 bytes). */
export interface DecisionProof {
  at: string;
  signature: string;
}

export interface CloseRequest {
  decisionId: string;
  actor: Actor;
  reason: string;
  proof: DecisionProof;
}

/**
 * Who acts on an incident through an update; ids are Slack user ids where the actor is a person.
 * `person` is the one identity behind all of a person's ids (the config user's id when their API
 * and Slack identities are linked) and `ids` lists those ids: k-of-n counts people, not ids.
 * Roles and groups are resolved by the server that signs the decision, never taken from a caller.
 */
export interface Actor {
  id: string;
  name?: string;
  person?: string;
  ids?: string[];
  roles?: string[];
  groups?: string[];
  via: 'api' | 'slack' | 'cli';
}

export type StepStatus =
  'pending' | 'running' | 'waiting' | 'succeeded' | 'failed' | 'skipped' | 'rejected' | 'compensated';

export interface ApprovalRecord {
  decisionId: string;
  actorId: string;
  /** The person behind actorId (see Actor.person). */
  person?: string;
  decision: 'approve' | 'reject';
  at: string;
  reason?: string;
}

export interface StepState {
  id: string;
  kind: string;
  phase: Phase;
  status: StepStatus;
  startedAt?: string;
  finishedAt?: string;
  error?: string;
  /** Action results. */
  ok?: boolean;
  verified?: boolean;
  summary?: string;
  output?: Record<string, unknown>;
  /** Approvals. */
  approvals?: ApprovalRecord[];
  approved?: boolean;
  requester?: string;
  deadline?: string;
  escalated?: boolean;
  /** Manual tasks. */
  completedBy?: string;
  note?: string;
  /** Waits. */
  wakeAt?: string;
  /** Conditions: which branch ran. */
  branch?: 'then' | 'else' | 'none';
}

export interface PendingApproval {
  stepId: string;
  prompt: string;
  approvers: { users: string[]; groups: string[]; roles: string[] };
  minApprovals: number;
  approvals: number;
  requester: string | undefined;
  deadline: string | undefined;
  escalated: boolean;
  /** The connector actions the step runs once approved (its nested steps, depth first). */
  actions: string[];
}

/** What the `playbookState` query answers. */
export interface PlaybookState {
  id: string;
  version: number;
  hash: string;
  status: PlaybookStatus;
  phase: Phase | 'done';
  steps: StepState[];
  pendingApprovals: PendingApproval[];
  openTasks: { stepId: string; task: string; deadline: string | undefined }[];
  abortReason?: string;
  /** Set when containment holds but the playbook cannot go on by itself: a human must act. */
  needsAttention?: { reason: string; stepId?: string; at: string };
  /** Steps whose containment holds (undone only by an explicit release). */
  contained: string[];
}
