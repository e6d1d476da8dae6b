/**
 * A scripted incident written straight into the DB with fixed timestamps (no workflow): alerts,
 * a timeline with an approval, an action, milestones, a note, an escalation and a close, an
 * action run, an agent with a credential, and an evidence row with the audit entry that
 * collected it. Tests check exact durations against the offsets below.
 */
import crypto from 'node:crypto';
import { appendAudit } from '../../activities/audit';
import type { Db } from '../../db/client';
import { actionRuns, agentCredentials, agents, alerts, evidence, incidents, timeline } from '../../db/schema';

/** Offsets in seconds from `openedAt`, so expected durations read straight off this table. */
export const SCRIPT = {
  approvalRequested: 60,
  approved: 240, // first human action: time to acknowledge
  actionStarted: 241,
  actionFinished: 271,
  contained: 300,
  note: 1200,
  escalated: 1800,
  remediated: 3600,
  closed: 7200,
} as const;

export interface ScriptOptions {
  id: string;
  mode: 'live' | 'drill';
  openedAt: string;
  severity?: 'critical' | 'high' | 'medium' | 'low' | 'info';
  /** Multiplies every offset (a drill with other figures proves the series do not mix). */
  scale?: number;
  agentId?: string;
  title?: string;
}

export async function scriptIncident(db: Db, o: ScriptOptions): Promise<void> {
  const scale = o.scale ?? 1;
  const t = (s: number) => new Date(Date.parse(o.openedAt) + s * scale * 1000).toISOString();
  const agentId = o.agentId ?? `agent-${o.id}`;
  db.insert(agents)
    .values({
      id: agentId,
      name: 'Support bot',
      owner: 'U_OWNER',
      environment: 'prod',
      status: 'disabled',
      statusChangedAt: t(SCRIPT.actionFinished),
      tools: [],
      permissions: [],
      createdAt: o.openedAt,
      updatedAt: o.openedAt,
    })
    .run();
  db.insert(agentCredentials)
    .values({
      id: `cred-${o.id}`,
      agentId,
      provider: 'aws_iam',
      reference: 'support-bot/AKIAEXAMPLE',
      scopes: [],
      status: 'inactive',
      createdAt: o.openedAt,
    })
    .run();
  db.insert(incidents)
    .values({
      id: o.id,
      key: `test:${o.id}`,
      seq: 1,
      workflowId: `incident-${o.id}`,
      source: 'test',
      title: o.title ?? 'Agent key leaked',
      severity: o.severity ?? 'high',
      status: 'closed',
      mode: o.mode,
      phase: 'closed',
      agentId,
      alertCount: 3,
      firstAlertAt: o.openedAt,
      lastAlertAt: t(30),
      openedAt: o.openedAt,
      updatedAt: t(SCRIPT.closed),
      closedAt: t(SCRIPT.closed),
    })
    .run();
  for (const [i, at] of [0, 10, 30].entries()) {
    db.insert(alerts)
      .values({
        id: `alt-${o.id}-${i}`,
        incidentId: o.id,
        source: 'test',
        format: 'generic',
        dedupKey: 'k',
        title: 'Key seen on paste site',
        severity: 'high',
        status: 'firing',
        agentId,
        labels: {},
        details: {},
        occurredAt: t(at),
        receivedAt: t(at),
      })
      .run();
  }
  const ev = (s: number, kind: string, actor: string, message: string, data?: Record<string, unknown>) =>
    db
      .insert(timeline)
      .values({ incidentId: o.id, at: t(s), kind, actor, message, data: data ?? null })
      .run();
  const pb = 'playbook:leak';
  ev(0, 'incident.started', 'firebreak', 'Incident workflow started');
  ev(30, 'alerts.attached', 'intake', '2 alerts attached', { count: 2 });
  ev(SCRIPT.approvalRequested, 'step.waiting', pb, 'Approval requested: disable?', {
    stepId: 'approve',
    kind: 'approval',
    phase: 'contain',
  });
  ev(SCRIPT.approved, 'approval.approved', 'U_ALICE', 'Alice approved approve via slack', {
    stepId: 'approve',
    decision: 'approve',
    via: 'slack',
    decisionId: 'd1',
  });
  ev(SCRIPT.actionStarted, 'step.running', pb, 'Running agent.disable', {
    stepId: 'disable',
    kind: 'action',
    phase: 'contain',
  });
  ev(SCRIPT.actionFinished, 'step.succeeded', pb, 'agent disabled', {
    stepId: 'disable',
    kind: 'action',
    phase: 'contain',
  });
  ev(SCRIPT.contained, 'milestone', pb, 'Milestone: contained', { phase: 'contain', milestone: 'contained' });
  ev(SCRIPT.note, 'note', 'U_BOB', 'Key was in a public gist', { decisionId: 'n1' });
  ev(SCRIPT.escalated, 'escalated', 'U_BOB', 'Bob escalated to security-leads', { decisionId: 'e1' });
  ev(SCRIPT.remediated, 'milestone', pb, 'Milestone: remediated', { milestone: 'remediated' });
  ev(SCRIPT.closed, 'incident.closed', 'U_ALICE', 'Incident closed: resolved');
  db.insert(actionRuns)
    .values({
      incidentId: o.id,
      stepId: 'disable',
      action: 'agent.disable',
      mode: o.mode,
      status: 'succeeded',
      params: { agent_id: agentId },
      result: { ok: true, verified: true, summary: 'agent disabled' },
      startedAt: t(SCRIPT.actionStarted),
      finishedAt: t(SCRIPT.actionFinished),
    })
    .run();
  const sha = crypto.createHash('sha256').update(`evidence of ${o.id}`).digest('hex');
  db.insert(evidence)
    .values({
      incidentId: o.id,
      sha256: sha,
      size: 1234,
      kind: 'access_logs',
      mediaType: 'application/json',
      source: 'firebreak-db',
      collectedBy: 'step:collect',
      collectedAt: t(400),
    })
    .run();
  await appendAudit(db, {
    at: t(400),
    actor: pb,
    action: 'evidence.collect',
    target: `agent:${agentId}`,
    incidentId: o.id,
    stepId: 'collect',
    inputs: { mode: o.mode },
    outcome: 'succeeded',
    detail: {},
    durationMs: 12,
  });
  await appendAudit(db, {
    at: t(500),
    actor: pb,
    action: 'credentials.revoke',
    target: `agent:${agentId}`,
    incidentId: o.id,
    stepId: 'revoke',
    inputs: { mode: o.mode },
    outcome: 'error',
    detail: { error: 'provider timeout' },
    durationMs: 3000,
  });
}
