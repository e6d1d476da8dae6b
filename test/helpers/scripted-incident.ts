/**
 * A scripted incident written straight into the DB with fixed timestamps (no workflow): alerts,
 * a timeline with an approval, an action, milestones, a note, an escalation and a close, an
 * action run, an agent with a credential, and an evidence row with the audit entry that
 * collected it. Tests check exact durations against the offsets below.
 */
import crypto from 'node:crypto';
import { appendAudit } from '../../activities/audit';
import { beginActionRun, finishActionRun } from '../../db/action-runs';
import { setAgentStatus, upsertAgents } from '../../db/agents';
import type { Db } from '../../db/client';
import { recordCustody } from '../../db/evidence';
import { insertAlert } from '../../db/incident-alerts';
import { insertIncident } from '../../db/incidents';
import { appendTimelineEvent } from '../../db/timeline';

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
  // Imported at the start and disabled by the action, with its credential already inactive.
  await upsertAgents(
    db,
    [
      {
        id: agentId,
        name: 'Support bot',
        owner: 'U_OWNER',
        team: null,
        environment: 'prod',
        runtimeRef: null,
        status: 'enabled',
        tools: [],
        permissions: [],
        credentials: [
          {
            id: `cred-${o.id}`,
            agentId,
            provider: 'aws_iam',
            reference: 'support-bot/AKIAEXAMPLE',
            scopes: [],
            status: 'inactive',
            createdAt: o.openedAt,
            lastUsedAt: null,
          },
        ],
      },
    ],
    o.openedAt,
  );
  await setAgentStatus(db, agentId, 'disabled', t(SCRIPT.actionFinished), {
    actor: 'playbook:scripted',
    incidentId: o.id,
  });
  await insertIncident(db, {
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
  });
  for (const [i, at] of [0, 10, 30].entries()) {
    await insertAlert(db, {
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
    });
  }
  let events = 0;
  const ev = (s: number, kind: string, actor: string, message: string, data?: Record<string, unknown>) =>
    appendTimelineEvent(
      db,
      {
        incidentId: o.id,
        kind,
        actor,
        message,
        ...(data ? { data } : {}),
        eventKey: `script:${o.id}:${++events}`,
      },
      t(s),
    );
  const pb = 'playbook:leak';
  await ev(0, 'incident.started', 'firebreak', 'Incident workflow started');
  await ev(30, 'alerts.attached', 'intake', '2 alerts attached', { count: 2 });
  await ev(SCRIPT.approvalRequested, 'step.waiting', pb, 'Approval requested: disable?', {
    stepId: 'approve',
    kind: 'approval',
    phase: 'contain',
  });
  await ev(SCRIPT.approved, 'approval.approved', 'U_ALICE', 'Alice approved approve via slack', {
    stepId: 'approve',
    decision: 'approve',
    via: 'slack',
    decisionId: 'd1',
  });
  await ev(SCRIPT.actionStarted, 'step.running', pb, 'Running agent.disable', {
    stepId: 'disable',
    kind: 'action',
    phase: 'contain',
  });
  await ev(SCRIPT.actionFinished, 'step.succeeded', pb, 'agent disabled', {
    stepId: 'disable',
    kind: 'action',
    phase: 'contain',
  });
  await ev(SCRIPT.contained, 'milestone', pb, 'Milestone: contained', {
    phase: 'contain',
    milestone: 'contained',
  });
  await ev(SCRIPT.note, 'note', 'U_BOB', 'Key was in a public gist', { decisionId: 'n1' });
  await ev(SCRIPT.escalated, 'escalated', 'U_BOB', 'Bob escalated to security-leads', { decisionId: 'e1' });
  await ev(SCRIPT.remediated, 'milestone', pb, 'Milestone: remediated', { milestone: 'remediated' });
  await ev(SCRIPT.closed, 'incident.closed', 'U_ALICE', 'Incident closed: resolved');
  await beginActionRun(db, {
    incidentId: o.id,
    stepId: 'disable',
    action: 'agent.disable',
    mode: o.mode,
    params: { agent_id: agentId },
    startedAt: t(SCRIPT.actionStarted),
  });
  await finishActionRun(db, o.id, 'disable', {
    ok: true,
    result: { ok: true, verified: true, summary: 'agent disabled' },
    at: t(SCRIPT.actionFinished),
  });
  const sha = crypto.createHash('sha256').update(`evidence of ${o.id}`).digest('hex');
  await recordCustody(db, {
    incidentId: o.id,
    sha256: sha,
    size: 1234,
    kind: 'access_logs',
    mediaType: 'application/json',
    source: 'firebreak-db',
    collectedBy: 'step:collect',
    collectedAt: t(400),
    agentId: null,
  });
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
