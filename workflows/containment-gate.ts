/**
 * Containment that waits for a human: when the incident's input carries a `confirmation` (its
 * alert came from a source outside its scope or above its max severity, see
 * intake/source-scope.ts), every containment action of the pinned playbook runs only inside an
 * approval step `confirm_<step id>` that the source's confirm_approvers decide. The gated
 * definition is derived from the pinned one, deterministically, when the run starts; the pinned
 * playbook (id, version, hash) is unchanged. Rejected: the containment step is skipped. A
 * containment action already inside an approval step has its human decision and is left as it is.
 */
import type { ActionName } from '../domain/action-catalog';
import type { ContainmentConfirmation, PinnedPlaybook } from '../domain/incident';
import { PHASES } from '../domain/phases';
import type { ApprovalStep, Step } from '../domain/playbook';
import { indexSteps } from './playbook-model';

/** The catalog actions that contain an agent: never run unattended for an untrusted alert. */
export const CONTAINMENT_ACTIONS: readonly ActionName[] = [
  'agent.disable',
  'credentials.revoke',
  'access.restrict',
];

/** `confirm_<id>`, or with a numeric suffix if the playbook already has a step of that id. */
function confirmId(stepId: string, taken: Set<string>): string {
  let id = `confirm_${stepId}`;
  for (let n = 2; taken.has(id); n++) id = `confirm_${stepId}_${n}`;
  taken.add(id);
  return id;
}

function confirmStep(
  step: Step & { kind: 'action' },
  c: ContainmentConfirmation,
  taken: Set<string>,
): ApprovalStep {
  return {
    id: confirmId(step.id, taken),
    kind: 'approval',
    ...(step.when ? { when: step.when } : {}),
    prompt: `Confirm ${step.action} (step ${step.id}): ${c.message}`,
    approvers: c.approvers,
    min_approvals: 1,
    on_timeout: 'reject',
    on_reject: 'continue',
    on_failure: 'continue',
    steps: [step],
  };
}

function gateSteps(steps: Step[], c: ContainmentConfirmation, taken: Set<string>): Step[] {
  return steps.map((step): Step => {
    if (step.kind === 'action' && (CONTAINMENT_ACTIONS as readonly string[]).includes(step.action))
      return confirmStep(step, c, taken);
    if (step.kind === 'condition') {
      const otherwise = step.else ? { else: gateSteps(step.else, c, taken) } : {};
      return { ...step, steps: gateSteps(step.steps, c, taken), ...otherwise };
    }
    if (step.kind === 'parallel') return { ...step, steps: gateSteps(step.steps, c, taken) };
    return step;
  });
}

/** The playbook the run interprets: the pinned one, with its containment gated if confirmation is due. */
export function gateContainment(
  pinned: PinnedPlaybook,
  confirmation: ContainmentConfirmation | undefined,
): PinnedPlaybook {
  if (!confirmation) return pinned;
  const taken = new Set(indexSteps(pinned.definition).keys());
  const phases = { ...pinned.definition.phases };
  for (const phase of PHASES) {
    const steps = phases[phase];
    if (steps) phases[phase] = gateSteps(steps, confirmation, taken);
  }
  return { ...pinned, definition: { ...pinned.definition, phases } };
}
