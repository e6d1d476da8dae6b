/**
 * Which playbook steps become tracked action items: `manual_task` steps of the remediate and
 * postmortem phases, nested ones included, with their assignee and checklist; tasks of earlier
 * phases are response work, not follow-ups.
 */
import { describe, expect, it } from 'vitest';
import type { PlaybookContext } from '../../workflows/playbook-context';
import { indexSteps } from '../../workflows/playbook-model';
import { declaredActionItems } from '../../workflows/postmortem-report';
import { pinYaml } from '../helpers/playbooks';

const pinned = pinYaml(`
id: items
version: 1
title: Action items
phases:
  investigate:
    - { id: triage, kind: manual_task, task: Triage the logs }
  remediate:
    - id: gate
      kind: approval
      prompt: Rotate?
      approvers: { users: [U_ALICE] }
      steps:
        - { id: rotate, kind: manual_task, task: Rotate keys, assignee: U_BOB, checklist: [aws, db] }
    - { id: tell, kind: notify, message: rotated }
  postmortem:
    - { id: review, kind: manual_task, task: Hold the review }
`);

describe('declared action items', () => {
  it('takes remediate and postmortem manual tasks, nested too, with assignee and checklist', () => {
    const ctx = { index: indexSteps(pinned.definition) } as unknown as PlaybookContext;
    expect(declaredActionItems(ctx)).toEqual([
      {
        stepId: 'rotate',
        phase: 'remediate',
        title: 'Rotate keys',
        assignee: 'U_BOB',
        checklist: ['aws', 'db'],
      },
      { stepId: 'review', phase: 'postmortem', title: 'Hold the review' },
    ]);
  });
});
