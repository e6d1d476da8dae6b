/**
 * The post-mortem activity and its store. `generatePostmortem` runs when the playbook's
 * postmortem phase starts: it registers the action items the playbook declared (tracked with an
 * owner) and stores a report rendered from the DB. The API calls `currentPostmortem`, which
 * serves the stored report while it still covers the whole timeline and renders it again from
 * current facts otherwise (or when the incident never had one). Only a revision number and hash
 * go back to the workflow: the report itself never enters workflow history.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { desc, eq } from 'drizzle-orm';
import crypto from 'node:crypto';
import type { Db } from '../db/client';
import { actionItems, agents, incidents, postmortems, timeline } from '../db/schema';
import { renderPostmortemMarkdown, renderPostmortemSummary } from '../domain/postmortem-markdown';
import type { PostmortemReport } from '../domain/postmortem';
import { buildReport } from './postmortem-facts';
import { appendTimelineEvent, type Clock } from './incidents';

/** A follow-up the playbook declares (a remediate/postmortem `manual_task`). */
export interface DeclaredActionItem {
  stepId: string;
  phase: string;
  title: string;
  assignee?: string;
  checklist?: string[];
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

/** Adds the declared items once; the owner is the assignee, else the agent's owner. */
export function registerActionItems(
  db: Db,
  incidentId: string,
  items: DeclaredActionItem[],
  at: string,
): void {
  if (items.length === 0) return;
  const inc = db.select().from(incidents).where(eq(incidents.id, incidentId)).get();
  const agent = inc?.agentId ? db.select().from(agents).where(eq(agents.id, inc.agentId)).get() : undefined;
  for (const item of items) {
    db.insert(actionItems)
      .values({
        incidentId,
        stepId: item.stepId,
        phase: item.phase,
        title: item.title,
        owner: item.assignee ?? agent?.owner ?? 'unassigned',
        checklist: item.checklist ?? [],
        createdAt: at,
      })
      .onConflictDoNothing({ target: [actionItems.incidentId, actionItems.stepId] })
      .run();
  }
}

function lastTimelineId(db: Db, incidentId: string): number {
  const row = db
    .select({ id: timeline.id })
    .from(timeline)
    .where(eq(timeline.incidentId, incidentId))
    .orderBy(desc(timeline.id))
    .limit(1)
    .get();
  return row?.id ?? 0;
}

/** Renders from current facts and stores the result as the next revision. */
export function storePostmortem(
  db: Db,
  incidentId: string,
  at: string,
  by: string,
): StoredPostmortem | undefined {
  return db.transaction((tx) => {
    const t = tx as unknown as Db;
    const covers = lastTimelineId(t, incidentId);
    const report = buildReport(t, incidentId, at);
    if (!report) return undefined;
    const markdown = renderPostmortemMarkdown(report);
    const sha256 = crypto.createHash('sha256').update(markdown).digest('hex');
    const prev = t.select().from(postmortems).where(eq(postmortems.incidentId, incidentId)).get();
    const row = {
      incidentId,
      revision: (prev?.revision ?? 0) + 1,
      generatedAt: at,
      generatedBy: by,
      coversTimelineId: covers,
      sha256,
      markdown,
      report: report as unknown as Record<string, unknown>,
    };
    t.insert(postmortems).values(row).onConflictDoUpdate({ target: postmortems.incidentId, set: row }).run();
    return { ...row, report };
  });
}

/** The stored report while no timeline event came after it; otherwise rendered and stored again. */
export function currentPostmortem(
  db: Db,
  incidentId: string,
  at: string,
  by = 'api',
): StoredPostmortem | undefined {
  const stored = db.select().from(postmortems).where(eq(postmortems.incidentId, incidentId)).get();
  if (stored && stored.coversTimelineId >= lastTimelineId(db, incidentId)) {
    return { ...stored, report: stored.report as unknown as PostmortemReport };
  }
  return storePostmortem(db, incidentId, at, by);
}

/** For the Slack side: the current report's short mrkdwn summary, or undefined for no incident. */
export function postmortemSummaryFor(
  db: Db,
  incidentId: string,
  at: string,
  reportUrl?: string,
): string | undefined {
  const pm = currentPostmortem(db, incidentId, at, 'slack');
  return pm ? renderPostmortemSummary(pm.report, reportUrl) : undefined;
}

export function createPostmortemActivities({ db, clock }: { db: Db; clock: Clock }) {
  return {
    async generatePostmortem(input: {
      incidentId: string;
      actionItems: DeclaredActionItem[];
      actor: string;
    }): Promise<{ revision: number; sha256: string }> {
      const at = clock.now().toISOString();
      registerActionItems(db, input.incidentId, input.actionItems, at);
      // Recorded before rendering, so the stored report covers its own event (and a retry adds none).
      appendTimelineEvent(
        db,
        {
          incidentId: input.incidentId,
          kind: 'postmortem.generated',
          actor: input.actor,
          message: `Post-mortem drafted from the incident's records; ${input.actionItems.length} action item(s) tracked`,
          data: { actionItems: input.actionItems.map((i) => i.stepId) },
          eventKey: `${input.incidentId}:postmortem:generated`,
        },
        at,
      );
      const stored = storePostmortem(db, input.incidentId, at, input.actor);
      if (!stored)
        throw ApplicationFailure.nonRetryable(
          `incident ${input.incidentId} has no row: cannot write its post-mortem`,
          'IncidentNotFound',
        );
      return { revision: stored.revision, sha256: stored.sha256 };
    },
  };
}
