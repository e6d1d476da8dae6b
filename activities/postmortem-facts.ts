/**
 * Builds the post-mortem report of one incident from what the DB holds, never from workflow
 * memory: the incident row, its alerts, the whole timeline, action runs, the agent inventory,
 * evidence custody with the audit entries that collected it, and the tracked action items. The
 * summary and pre-filled review sections are derived from those facts (domain/postmortem-review.ts).
 */
import { incidentTimeline } from './incidents';
import { and, asc, eq, inArray } from 'drizzle-orm';
import type { Db } from '../db/client';
import {
  actionItems,
  actionRuns,
  agentCredentials,
  agents,
  alerts,
  auditLog,
  evidence,
  incidents,
  playbookSteps,
} from '../db/schema';
import type { ActionItem, PostmortemReport } from '../domain/postmortem';
import { approvalsOf, responseMetrics, secondsBetween } from '../domain/response-metrics';
import { review, summarize } from '../domain/postmortem-review';

type Row<T extends { $inferSelect: unknown }> = T['$inferSelect'];

export function listActionItems(db: Db, incidentId: string): ActionItem[] {
  const steps = new Map(
    db
      .select()
      .from(playbookSteps)
      .where(eq(playbookSteps.incidentId, incidentId))
      .all()
      .map((s) => [s.stepId, s]),
  );
  return db
    .select()
    .from(actionItems)
    .where(eq(actionItems.incidentId, incidentId))
    .orderBy(asc(actionItems.id))
    .all()
    .map((i) => {
      const step = steps.get(i.stepId);
      const status =
        step?.status === 'succeeded'
          ? 'done'
          : step?.status === 'failed' || step?.status === 'skipped'
            ? step.status
            : 'open';
      const completedBy = step?.data?.completedBy;
      return {
        step_id: i.stepId,
        phase: i.phase,
        title: i.title,
        owner: i.owner,
        checklist: i.checklist,
        status,
        completed_by: typeof completedBy === 'string' ? completedBy : null,
        created_at: i.createdAt,
      };
    });
}

function affectedAgents(db: Db, ids: string[]): PostmortemReport['impact']['affected_agents'] {
  return ids.map((id) => {
    const a = db.select().from(agents).where(eq(agents.id, id)).get();
    const creds = db.select().from(agentCredentials).where(eq(agentCredentials.agentId, id)).all();
    return {
      id,
      name: a?.name ?? null,
      owner: a?.owner ?? null,
      environment: a?.environment ?? null,
      status: a?.status ?? null,
      credentials: creds.map((c) => ({
        id: c.id,
        provider: c.provider,
        reference: c.reference,
        status: c.status,
      })),
    };
  });
}

function evidenceOf(db: Db, incidentId: string): PostmortemReport['evidence'] {
  const audits = db.select().from(auditLog).where(eq(auditLog.incidentId, incidentId)).all();
  return db
    .select()
    .from(evidence)
    .where(eq(evidence.incidentId, incidentId))
    .orderBy(asc(evidence.id))
    .all()
    .map((e) => {
      const step = e.collectedBy.startsWith('step:') ? e.collectedBy.slice(5) : undefined;
      const audit = audits.find((a) => a.stepId === step && a.action === 'evidence.collect');
      return {
        sha256: e.sha256,
        kind: e.kind,
        size: e.size,
        media_type: e.mediaType,
        source: e.source,
        collected_by: e.collectedBy,
        collected_at: e.collectedAt,
        audit: audit ? { seq: audit.seq, hash: audit.hash, outcome: audit.outcome } : null,
      };
    });
}

const FAILED_OUTCOMES = ['error', 'failed', 'unverified', 'simulated_failure'];

function connectorFailures(db: Db, incidentId: string): PostmortemReport['connector_failures'] {
  return db
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.incidentId, incidentId), inArray(auditLog.outcome, FAILED_OUTCOMES)))
    .orderBy(asc(auditLog.seq))
    .all()
    .map((a) => ({
      at: a.at,
      action: a.action,
      step_id: a.stepId,
      outcome: a.outcome,
      error: typeof a.detail.error === 'string' ? a.detail.error : null,
    }));
}

function alertsOf(rows: Row<typeof alerts>[]): PostmortemReport['alerts'] {
  const byTitle = new Map<string, { title: string; severity: string; count: number }>();
  for (const a of rows) {
    const k = `${a.title}\u0000${a.severity}`;
    const entry = byTitle.get(k) ?? { title: a.title, severity: a.severity, count: 0 };
    entry.count++;
    byTitle.set(k, entry);
  }
  return {
    total: rows.length,
    // The first alert opened the incident; every later one was attached to it.
    deduplicated: Math.max(0, rows.length - 1),
    first_at: rows[0]?.receivedAt ?? null,
    last_at: rows[rows.length - 1]?.receivedAt ?? null,
    by_title: [...byTitle.values()],
  };
}

function failedSteps(db: Db, incidentId: string) {
  return db
    .select()
    .from(playbookSteps)
    .where(
      and(eq(playbookSteps.incidentId, incidentId), inArray(playbookSteps.status, ['failed', 'rejected'])),
    )
    .all()
    .map((s) => ({ stepId: s.stepId, kind: s.kind, phase: s.phase, status: s.status }));
}

export function buildReport(db: Db, incidentId: string, generatedAt: string): PostmortemReport | undefined {
  const inc = db.select().from(incidents).where(eq(incidents.id, incidentId)).get();
  if (!inc) return undefined;
  const events = incidentTimeline(db, incidentId);
  const alertRows = db
    .select()
    .from(alerts)
    .where(eq(alerts.incidentId, incidentId))
    .orderBy(asc(alerts.seq))
    .all();
  const runs = db
    .select()
    .from(actionRuns)
    .where(eq(actionRuns.incidentId, incidentId))
    .orderBy(asc(actionRuns.id))
    .all();
  const agentIds = [
    ...new Set([inc.agentId, ...alertRows.map((a) => a.agentId)].filter((x): x is string => !!x)),
  ];
  const metrics = responseMetrics(inc, events);
  const items = listActionItems(db, incidentId);
  const report: PostmortemReport = {
    generated_at: generatedAt,
    incident: {
      id: inc.id,
      title: inc.title,
      severity: inc.severity,
      mode: inc.mode,
      status: inc.status,
      phase: inc.phase,
      source: inc.source,
      playbook: inc.playbookId ? { id: inc.playbookId, version: inc.playbookVersion } : null,
      opened_at: inc.openedAt,
      closed_at: inc.closedAt,
    },
    summary: '',
    impact: { severity: inc.severity, affected_agents: affectedAgents(db, agentIds) },
    alerts: alertsOf(alertRows),
    milestones: events
      .filter((e) => e.kind === 'milestone')
      .map((e) => ({ milestone: String(e.data?.milestone ?? ''), at: e.at, actor: e.actor })),
    timeline: events.map((e) => ({ id: e.id, at: e.at, kind: e.kind, actor: e.actor, message: e.message })),
    actions: runs.map((r) => ({
      step_id: r.stepId,
      action: r.action,
      status: r.status,
      verified: typeof r.result?.verified === 'boolean' ? r.result.verified : null,
      summary: typeof r.result?.summary === 'string' ? r.result.summary : null,
      started_at: r.startedAt,
      finished_at: r.finishedAt,
      duration_seconds: r.finishedAt ? secondsBetween(r.startedAt, r.finishedAt) : null,
    })),
    connector_failures: connectorFailures(db, incidentId),
    approvals: approvalsOf(events),
    escalations: events
      .filter((e) => ['escalated', 'approval.escalated', 'escalation.notify_failed'].includes(e.kind))
      .map((e) => ({ at: e.at, actor: e.actor, message: e.message })),
    notes: events
      .filter((e) => e.kind === 'note')
      .map((e) => ({ at: e.at, actor: e.actor, text: e.message })),
    evidence: evidenceOf(db, incidentId),
    metrics,
    action_items: items,
    review: { root_cause: [], contributing_factors: [], action_items: [] },
  };
  report.summary = summarize(report);
  report.review = review(report, failedSteps(db, incidentId));
  return report;
}
