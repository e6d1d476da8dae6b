/**
 * The audit entry of a refused decision attempt (unsigned, forged, stale or not authorized): the
 * incident workflow writes the attempt to the timeline itself and asks for this entry, so a
 * forged decision sent straight to Temporal is in the audit log with the actor it claimed.
 */
import type { Db } from '../db/client';
import type { Clock } from '../domain/clock';
import { appendAudit } from './audit';

export interface RefusedDecision {
  at: string;
  /** The actor as the timeline names it (`… (unverified)` when the signature did not hold). */
  actor: string;
  incidentId: string;
  stepId: string | undefined;
  data: { decision: string; decisionId: string; reason: string } & Record<string, unknown>;
}

export function createRefusalActivities({ db }: { db: Db; clock: Clock }) {
  return {
    async auditRefusedDecision(r: RefusedDecision): Promise<void> {
      const { reason, ...inputs } = r.data;
      await appendAudit(db, {
        at: r.at,
        actor: r.actor,
        action: `decision.${r.data.decision}`,
        target: r.incidentId,
        incidentId: r.incidentId,
        stepId: r.stepId ?? null,
        inputs,
        outcome: 'refused',
        detail: { reason },
        durationMs: 0,
      });
    },
  };
}
