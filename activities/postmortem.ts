/**
 * The post-mortem activity and its store. `generatePostmortem` runs when the playbook's
 * postmortem phase starts: it registers the action items the playbook declared (tracked with an
 * owner) and stores a report rendered from the DB. The API calls `currentPostmortem`, which
 * serves the stored report while it still covers the whole timeline and renders it again from
 * current facts otherwise (or when the incident never had one). Only a revision number and hash
 * go back to the workflow: the report itself never enters workflow history.
 */
import crypto from 'node:crypto';
import type { Db } from '../db/client';
import { freshPostmortem, postmortemFacts, registerActionItems, savePostmortem } from '../db/postmortems';
import { appendTimelineEvent } from '../db/timeline';
import { renderPostmortemMarkdown, renderPostmortemSummary } from '../domain/postmortem-markdown';
import type { PostmortemReport } from '../domain/postmortem';
import { buildReport } from './postmortem-facts';
import type { Clock } from './incidents';

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

/** Renders from current facts and stores the result as the next revision. */
export async function storePostmortem(
  db: Db,
  incidentId: string,
  at: string,
  by: string,
): Promise<StoredPostmortem | undefined> {
  const facts = await postmortemFacts(db, incidentId);
  if (!facts) return undefined;
  const report = buildReport(facts, at);
  const markdown = renderPostmortemMarkdown(report);
  const stored = await savePostmortem(db, {
    incidentId,
    generatedAt: at,
    generatedBy: by,
    coversTimelineId: facts.coversTimelineId,
    sha256: crypto.createHash('sha256').update(markdown).digest('hex'),
    markdown,
    report: report as unknown as Record<string, unknown>,
  });
  return { ...stored, report };
}

/** The stored report while no timeline event came after it; otherwise rendered and stored again. */
export async function currentPostmortem(
  db: Db,
  incidentId: string,
  at: string,
  by = 'api',
): Promise<StoredPostmortem | undefined> {
  const stored = await freshPostmortem(db, incidentId);
  if (stored) return { ...stored, report: stored.report as unknown as PostmortemReport };
  return storePostmortem(db, incidentId, at, by);
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

export function createPostmortemActivities({ db, clock }: { db: Db; clock: Clock }) {
  return {
    async generatePostmortem(input: {
      incidentId: string;
      actionItems: DeclaredActionItem[];
      actor: string;
    }): Promise<{ revision: number; sha256: string }> {
      const at = clock.now().toISOString();
      await registerActionItems(db, input.incidentId, input.actionItems, at);
      // Recorded before rendering, so the stored report covers its own event (and a retry adds none).
      await appendTimelineEvent(
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
      const stored = await storePostmortem(db, input.incidentId, at, input.actor);
      if (!stored) throw new Error(`incident ${input.incidentId} has no row: cannot write its post-mortem`);
      return { revision: stored.revision, sha256: stored.sha256 };
    },
  };
}
