/**
 * Walking a playbook's step tree. Free of zod (types only from domain/playbook.ts), so the incident
 * workflow can use it without evaluating the schema module in every new workflow.
 */
import type { Step } from '../domain/playbook';

/** The nested step lists of a step (approval body, condition branches, parallel group). */
export function childLists(step: Step): Step[][] {
  switch (step.kind) {
    case 'approval':
      return step.steps ? [step.steps] : [];
    case 'condition':
      return step.else ? [step.steps, step.else] : [step.steps];
    case 'parallel':
      return [step.steps];
    default:
      return [];
  }
}
