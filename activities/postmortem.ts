/**
 * The post-mortem activity and its store. `generatePostmortem` runs when the playbook's
 * postmortem phase starts: it registers the action items the playbook declared (tracked with an
 * owner) and stores a report rendered from the DB. The API calls `currentPostmortem`, which
 * serves the stored report while it still covers the whole timeline and renders it again from
 * current facts otherwise (or when the incident never had one). Only a revision number and hash
 * go back to the workflow: the report itself never enters workflow history.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { Db } from '../db/client';
import { storePostmortem } from '../db/postmortem-report';
import { registerActionItems } from '../db/postmortems';
import { appendTimelineEvent } from '../db/timeline';
import type { Clock } from '../domain/clock';

/** A follow-up the playbook declares (a remediate/postmortem `manual_task`). */
export interface DeclaredActionItem {
  stepId: string;
  phase: string;
  title: string;
  assignee?: string;
  checklist?: string[];
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
      if (!stored)
        throw ApplicationFailure.nonRetryable(
          `incident ${input.incidentId} has no row: cannot write its post-mortem`,
          'IncidentNotFound',
        );
      return { revision: stored.revision, sha256: stored.sha256 };
    },
  };
}
