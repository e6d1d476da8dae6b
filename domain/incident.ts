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
  /** Who opened the incident, when a person did: the default approval requester. */
  requestedBy?: string;
  /** Drill mode only: scripted action outcomes by step id. */
  scripted?: Record<string, ScriptedOutcome>;
  /** Drill mode only: playbook timers (waits, approval and task deadlines) run this many times faster. */
  speed?: number;
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

export interface CloseRequest {
  actor: string;
  reason: string;
}

/** Who acts on an incident through an update; ids are Slack user ids where the actor is a person. */
export interface Actor {
  id: string;
  name?: string;
  roles?: string[];
  groups?: string[];
  via: 'api' | 'slack' | 'cli';
}

export type StepStatus =
  'pending' | 'running' | 'waiting' | 'succeeded' | 'failed' | 'skipped' | 'rejected' | 'compensated';

export interface ApprovalRecord {
  decisionId: string;
  actorId: string;
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
