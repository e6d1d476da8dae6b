/**
 * What Slack messages about an incident show, as plain data: the workflow (which may not import
 * slack/) builds these and hands them to the Slack notifier activities, which render them with
 * slack/blocks. `approvalView` turns an approval step (with its nested actions already rendered)
 * into exactly what the approver is asked to allow. Pure: importable by workflows.
 */
import { ACTION_CATALOG, isActionName } from './action-catalog';

export interface ApprovalView {
  incidentId: string;
  stepId: string;
  /** The action(s) that run once approved, e.g. `agent.disable`. */
  action: string;
  /** What the action acts on, e.g. `agent agent-7` or `postgres:reporting_rw`. */
  target: string;
  verification: string;
  approvers: { roles?: string[]; groups?: string[]; users?: string[] };
  /** k of k-of-n. */
  required: number;
  twoPerson: boolean;
  deadline: string | undefined;
  approvals: { id: string; name?: string; at: string }[];
}

export interface ApprovalOutcome {
  decision: 'approved' | 'rejected' | 'expired';
  by?: { id: string; name?: string };
  at: string;
  reason?: string;
}

export interface TaskView {
  incidentId: string;
  stepId: string;
  title: string;
  instructions: string | undefined;
  assignee: string | undefined;
}

export interface EscalationView {
  incidentId: string;
  /** Slack user (U…) or user group (S…) id; anything else is shown as escaped text. */
  target: string | undefined;
  reason: string;
  by: string | undefined;
}

/** An approval step as the playbook interpreter has it, nested action params already rendered. */
export interface ApprovalStepLike {
  id: string;
  prompt: string;
  approvers: { users?: string[]; groups?: string[]; roles?: string[] };
  minApprovals: number;
  requester: string | undefined;
  deadline: string | undefined;
  actions: { action: string; params: Record<string, unknown> }[];
  approvals?: { actorId: string; decision: 'approve' | 'reject'; at: string }[];
}

function describeTarget(params: Record<string, unknown>): string {
  const parts = ['agent_id', 'credential_id', 'resource', 'provider', 'target']
    .filter((k) => params[k] !== undefined)
    .map((k) => `${k}=${String(params[k])}`);
  return parts.join(', ') || JSON.stringify(params);
}

export function approvalView(incidentId: string, step: ApprovalStepLike): ApprovalView {
  const actions = step.actions.length > 0 ? step.actions : [{ action: step.prompt, params: {} }];
  return {
    incidentId,
    stepId: step.id,
    action: actions.map((a) => a.action).join(', then '),
    target: actions.map((a) => describeTarget(a.params)).join('; '),
    verification: actions
      .map((a) => (isActionName(a.action) ? ACTION_CATALOG[a.action].verification : 'none declared'))
      .join(' '),
    approvers: step.approvers,
    required: step.minApprovals,
    twoPerson: step.requester !== undefined,
    deadline: step.deadline,
    approvals: (step.approvals ?? [])
      .filter((a) => a.decision === 'approve')
      .map((a) => ({ id: a.actorId, at: a.at })),
  };
}
