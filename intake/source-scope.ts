/**
 * What an alert source is trusted with: the agents it may raise alerts about (by id, or by the
 * team or environment the inventory gives them) and the highest severity it may set. Intake
 * reviews each alert against its source before routing: a severity above the max is lowered to it,
 * and each finding becomes a note stored with the alert (db/alerts.ts, same transaction), which
 * the outbox turns into the workflow's `confirmation` input, so containment waits for a human.
 */
import {
  DEFAULT_CONFIRM_APPROVERS,
  type ApproverSet,
  type SourceConfig,
  type SourceScope,
} from '../app/config-file';
import { getAgent, type AgentRow } from '../db/agents';
import type { IntakeNote } from '../db/alerts';
import type { Db } from '../db/client';
import { SEVERITIES, type Alert, type Severity } from '../domain/alert';
import type { ConfirmationReason } from '../domain/incident';

/** The timeline kinds of intake's findings, with the confirmation reason each one carries. */
export const REVIEW_KINDS: Record<string, ConfirmationReason> = {
  'alert.out_of_scope': 'out_of_scope',
  'alert.severity_clamped': 'severity_above_max',
};

export interface ReviewedAlert {
  alert: Alert;
  notes: IntakeNote[];
}

/** Lower severities come later in SEVERITIES: `a` is above `b` when its index is smaller. */
function above(a: Severity, b: Severity): boolean {
  return SEVERITIES.indexOf(a) < SEVERITIES.indexOf(b);
}

function describeScope(scope: SourceScope): string {
  const parts = [
    scope.agents.length ? `agents ${scope.agents.join(', ')}` : '',
    scope.teams.length ? `teams ${scope.teams.join(', ')}` : '',
    scope.environments.length ? `environments ${scope.environments.join(', ')}` : '',
  ].filter(Boolean);
  return parts.join('; ') || 'no agents';
}

function inScope(scope: SourceScope, agentId: string, agent: AgentRow | undefined): boolean {
  if (scope.agents.includes(agentId)) return true;
  if (!agent) return false;
  return (
    (agent.team !== null && scope.teams.includes(agent.team)) ||
    scope.environments.includes(agent.environment)
  );
}

/** Reviews the alerts of one request from `source`: clamped severities and scope findings. */
export async function reviewAlerts(db: Db, source: SourceConfig | undefined, alerts: Alert[]) {
  if (!source || (!source.scope && !source.maxSeverity)) return alerts.map((alert) => ({ alert, notes: [] }));
  const agents = new Map<string, Promise<AgentRow | undefined>>();
  const agentOf = (id: string) => {
    if (!agents.has(id)) agents.set(id, getAgent(db, id));
    return agents.get(id)!;
  };
  const approvers: ApproverSet = source.confirmApprovers ?? DEFAULT_CONFIRM_APPROVERS;
  const out: ReviewedAlert[] = [];
  for (const alert of alerts) {
    const notes: IntakeNote[] = [];
    let severity = alert.severity;
    const max = source.maxSeverity;
    if (max && above(severity, max)) {
      notes.push({
        kind: 'alert.severity_clamped',
        message: `Source ${source.id} may set severity up to ${max}: ${severity} was lowered to ${max}; containment waits for a confirmation`,
        data: { reason: 'severity_above_max', declared: severity, severity: max, approvers },
      });
      severity = max;
    }
    const scope = source.scope;
    const agentId = alert.agentId;
    if (scope && agentId !== undefined && !inScope(scope, agentId, await agentOf(agentId))) {
      notes.push({
        kind: 'alert.out_of_scope',
        message: `Source ${source.id} may raise alerts about ${describeScope(scope)}, not agent ${agentId}; containment waits for a confirmation`,
        data: { reason: 'out_of_scope', agentId, approvers },
      });
    }
    out.push({ alert: severity === alert.severity ? alert : { ...alert, severity }, notes });
  }
  return out;
}
