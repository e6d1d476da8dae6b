/**
 * Builds the post-mortem report of one incident from what the DB holds (db/postmortems.ts reads
 * it), never from workflow memory: the incident row, its alerts, the whole timeline, action runs,
 * the agent inventory, evidence custody with the audit entries that collected it, and the tracked
 * action items. The summary and pre-filled review sections are derived from those facts
 * (domain/postmortem-review.ts). The postmortem phase stores a rendering as a revision; the API and
 * the Slack notifier serve the stored one while it still covers the whole timeline, and otherwise
 * render from the current facts without storing anything.
 */
import crypto from 'node:crypto';
import { agentActivity } from '../domain/agent-activity';
import type { ActionItem, PostmortemReport } from '../domain/postmortem';
import { renderPostmortemMarkdown, renderPostmortemSummary } from '../domain/postmortem-markdown';
import { review, summarize } from '../domain/postmortem-review';
import { approvalsOf, responseMetrics, secondsBetween } from '../domain/response-metrics';
import type { Db } from './client';
import type { AlertRow } from './incident-alerts';
import {
  actionItemsOf,
  freshPostmortem,
  postmortemFacts,
  savePostmortem,
  storedPostmortem,
  type ActionItemRow,
  type PostmortemFacts,
  type StepRow,
} from './postmortems';

/** Each tracked item with the status of the step that declared it. */
function actionItemsFrom(items: ActionItemRow[], stepRows: StepRow[]): ActionItem[] {
  const steps = new Map(stepRows.map((s) => [s.stepId, s]));
  return items.map((i) => {
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

export async function listActionItems(db: Db, incidentId: string): Promise<ActionItem[]> {
  const { items, steps } = await actionItemsOf(db, incidentId);
  return actionItemsFrom(items, steps);
}

function affectedAgents(facts: PostmortemFacts): PostmortemReport['impact']['affected_agents'] {
  return facts.agents.map(({ id, agent: a, credentials }) => ({
    id,
    name: a?.name ?? null,
    owner: a?.owner ?? null,
    environment: a?.environment ?? null,
    status: a?.status ?? null,
    credentials: credentials.map((c) => ({
      id: c.id,
      provider: c.provider,
      reference: c.reference,
      status: c.status,
    })),
  }));
}

function evidenceOf(facts: PostmortemFacts): PostmortemReport['evidence'] {
  return facts.evidence.map((e) => {
    const step = e.collectedBy.startsWith('step:') ? e.collectedBy.slice(5) : undefined;
    const audit = facts.audits.find((a) => a.stepId === step && a.action === 'evidence.collect');
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

function connectorFailures(facts: PostmortemFacts): PostmortemReport['connector_failures'] {
  return facts.audits
    .filter((a) => FAILED_OUTCOMES.includes(a.outcome))
    .map((a) => ({
      at: a.at,
      action: a.action,
      step_id: a.stepId,
      outcome: a.outcome,
      error: typeof a.detail.error === 'string' ? a.detail.error : null,
    }));
}

function alertsOf(rows: AlertRow[]): PostmortemReport['alerts'] {
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

function failedSteps(facts: PostmortemFacts) {
  return facts.steps
    .filter((s) => s.status === 'failed' || s.status === 'rejected')
    .map((s) => ({ stepId: s.stepId, kind: s.kind, phase: s.phase, status: s.status }));
}

/** The report, derived from the facts alone (db/postmortems.ts reads them in one snapshot). */
export function buildReport(facts: PostmortemFacts, generatedAt: string): PostmortemReport {
  const { incident: inc, events, alerts: alertRows, runs } = facts;
  const metrics = responseMetrics(inc, events);
  const items = actionItemsFrom(facts.actionItems, facts.steps);
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
    impact: { severity: inc.severity, affected_agents: affectedAgents(facts) },
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
    connector_failures: connectorFailures(facts),
    approvals: approvalsOf(events),
    escalations: events
      .filter((e) => ['escalated', 'approval.escalated', 'escalation.notify_failed'].includes(e.kind))
      .map((e) => ({ at: e.at, actor: e.actor, message: e.message })),
    notes: events
      .filter((e) => e.kind === 'note')
      .map((e) => ({ at: e.at, actor: e.actor, text: e.message })),
    evidence: evidenceOf(facts),
    agent_activity: agentActivity(facts.activityArtifacts, {
      alertAt: alertRows[0]?.receivedAt ?? inc.openedAt,
      containedAt:
        events.find((e) => e.kind === 'milestone' && e.data?.milestone === 'contained')?.at ?? null,
    }),
    metrics,
    action_items: items,
    review: { root_cause: [], contributing_factors: [], action_items: [] },
  };
  report.summary = summarize(report);
  report.review = review(report, failedSteps(facts));
  return report;
}

export interface StoredPostmortem {
  incidentId: string;
  revision: number;
  generatedAt: string;
  generatedBy: string;
  sha256: string;
  markdown: string;
  report: PostmortemReport;
}

function render(facts: PostmortemFacts, at: string) {
  const report = buildReport(facts, at);
  const markdown = renderPostmortemMarkdown(report);
  return { report, markdown, sha256: crypto.createHash('sha256').update(markdown).digest('hex') };
}

/** Renders from current facts and stores the result as the next revision. */
export async function storePostmortem(
  db: Db,
  incidentId: string,
  at: string,
  by: string,
): Promise<StoredPostmortem | undefined> {
  const facts = await postmortemFacts(db, incidentId);
  if (!facts) return undefined;
  const { report, markdown, sha256 } = render(facts, at);
  const stored = await savePostmortem(db, {
    incidentId,
    generatedAt: at,
    generatedBy: by,
    coversTimelineId: facts.coversTimelineId,
    sha256,
    markdown,
    report: report as unknown as Record<string, unknown>,
  });
  return { ...stored, report };
}

/** A report as a reader gets it: the stored revision, or a rendering that was not stored. */
export interface CurrentPostmortem extends StoredPostmortem {
  /** false: rendered from current facts for this read; `revision` is the one it would be stored as. */
  stored: boolean;
}

/**
 * The stored report while no timeline event came after it; otherwise a fresh rendering from the
 * current facts, which is not stored: reading never writes, only the postmortem phase (or
 * `storePostmortem`) does. The rendering carries the revision number it would be stored as.
 */
export async function currentPostmortem(
  db: Db,
  incidentId: string,
  at: string,
  by = 'api',
): Promise<CurrentPostmortem | undefined> {
  const fresh = await freshPostmortem(db, incidentId);
  if (fresh) return { ...fresh, report: fresh.report as unknown as PostmortemReport, stored: true };
  const facts = await postmortemFacts(db, incidentId);
  if (!facts) return undefined;
  const last = await storedPostmortem(db, incidentId);
  return {
    incidentId,
    revision: (last?.revision ?? 0) + 1,
    generatedAt: at,
    generatedBy: by,
    ...render(facts, at),
    stored: false,
  };
}

/** For the Slack side: the current report's short mrkdwn summary, or undefined for no incident. */
export async function postmortemSummaryFor(
  db: Db,
  incidentId: string,
  at: string,
  reportUrl?: string,
): Promise<string | undefined> {
  const pm = await currentPostmortem(db, incidentId, at, 'slack');
  return pm ? renderPostmortemSummary(pm.report, reportUrl) : undefined;
}
