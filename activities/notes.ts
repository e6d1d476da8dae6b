/**
 * Timeline notes added by people (Slack `/incident note`, a timeline reaction, the API or CLI):
 * written through the incident workflow's `addNote` update so the note is ordered with everything
 * else that happened. The decision id is the idempotency key: a retried write is a no-op.
 */
import type { Db } from '../db/client';
import type { Actor } from '../domain/incident';
import { appendTimelineEvent, type Clock } from './incidents';

export function createNoteActivities({ db, clock }: { db: Db; clock: Clock }) {
  return {
    async recordNote(input: {
      incidentId: string;
      decisionId: string;
      actor: Actor;
      text: string;
    }): Promise<void> {
      appendTimelineEvent(
        db,
        {
          incidentId: input.incidentId,
          // Same shape as feat/playbooks' addNote handler writes, so both agree on the timeline.
          kind: 'note',
          actor: input.actor.id,
          message: input.text,
          data: { via: input.actor.via, decisionId: input.decisionId },
          eventKey: `${input.incidentId}:note:${input.decisionId}`,
        },
        clock.now().toISOString(),
      );
    },
  };
}
