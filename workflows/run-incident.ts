/**
 * runIncident: the durable life of one incident, and the interpreter of its pinned playbook.
 *
 * States: started → open (phase `assess`) → [playbook: assess → contain → investigate →
 * remediate → postmortem, each ending with a milestone; or aborted, after compensations] → closed.
 * Without a pinned playbook the incident stays open in phase `assess` until it is closed.
 * Messages:
 *   - signal `alertsAttached(batch)`: more alerts; counts and latest are kept in workflow state.
 *   - query `incidentState`: status, phase, alert count, latest alert, playbook status, pending
 *     approvals.
 *   - query `playbookState`: phase, every step's state, pending approvals, open tasks.
 *   - update `closeIncident({actor, reason})`: records the close and ends the workflow.
 *   - updates `decideApproval`, `completeTask`, `abortIncident`, `escalate`, `addNote`: validated
 *     (see decisions.ts), idempotent by `decisionId`, each written to the timeline with its actor.
 *   - update `attachPlaybook`: a decider attaches a playbook to an incident running triage (or
 *     none); triage stops and the attached playbook, pinned as at open, runs from its start.
 *   - update `requestRelease`: a decider opens a k-of-n release approval (release.ts); only its
 *     approval undoes containment, also after the playbook stopped.
 * Timers: `wait` steps; approval deadlines (on timeout: escalate to a target and start a second
 * deadline, or approve / reject / abort); manual-task deadlines (on timeout: the step fails and its
 * on_failure applies). Deadlines are absolute times in the carried state, so they survive
 * continue-as-new, which happens once the server suggests it, with no activity in flight.
 * Drills (mode 'drill') simulate every action; with `speed` set, every playbook timer above is
 * divided by it. A projection write that can never succeed fails the workflow
 * (see projection-queue.ts).
 */
import { continueAsNew } from '@temporalio/workflow';
import type { IncidentStart, IncidentState } from '../domain/incident';
import { IncidentLifecycle, type RunIncidentCarry } from './incident-lifecycle';

export type { RunIncidentCarry } from './incident-lifecycle';

export async function runIncident(input: IncidentStart, carry?: RunIncidentCarry): Promise<IncidentState> {
  const incident = new IncidentLifecycle(input, carry);
  incident.registerHandlers();
  incident.begin();
  for (;;) {
    await incident.nextChange();
    incident.countAlerts();
    if (incident.closeRequested) return await incident.close();
    if (incident.handOverDue())
      return await continueAsNew<typeof runIncident>(input, await incident.handOver());
  }
}
