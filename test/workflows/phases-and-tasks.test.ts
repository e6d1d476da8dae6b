import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { playbookStepsOf } from '../../db/incident-projection';
import { getIncident } from '../../db/incidents';
import { closeIncident, completeTask, incidentState } from '../../workflows/messages';
import { signed } from '../helpers/decisions';
import {
  actionRows,
  alice,
  pinYaml,
  startIncident,
  timelineRows,
  waitForPlaybook,
  waitForStep,
} from '../helpers/playbooks';
import { eventually, startTestStack, type TestStack } from '../helpers/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.close();
});

const allPhases = pinYaml(`
id: all-phases
version: 1
title: All phases
phases:
  assess:
    - { id: a1, kind: notify, message: assess }
  contain:
    - id: branch
      kind: condition
      if: incident.severity == 'critical'
      steps:
        - { id: hard, kind: action, action: agent.disable, params: { agent_id: x } }
      else:
        - { id: soft, kind: action, action: access.restrict, params: { agent_id: x, resource: 'db:rw' } }
  investigate:
    - { id: late_task, kind: manual_task, task: triage, deadline: 1s, on_failure: continue }
    - { id: after_task, kind: notify, message: 'task \${{ steps.late_task.status }}' }
  remediate:
    - { id: pause, kind: wait, duration: 1s }
  postmortem:
    - { id: pm, kind: manual_task, task: write it }
`);

describe('phases, milestones, tasks and waits', () => {
  it('walks every phase in order with a milestone each, and closes with a closed milestone', async () => {
    const { incidentId, handle } = await startIncident(stack, { playbook: allPhases, severity: 'medium' });
    await waitForStep(handle, 'pm', 'waiting', 30_000);
    expect((await handle.query(incidentState)).phase).toBe('postmortem');
    // The row follows with the next projection flush (an activity after the task that moved it).
    await eventually(
      async () => (await getIncident(stack.db, incidentId))?.phase === 'postmortem',
      15_000,
      'the incident row in phase postmortem',
    );
    await handle.executeUpdate(completeTask, {
      args: [signed(handle, 'task', { decisionId: 'pm-done', stepId: 'pm', actor: alice })],
    });
    const s = await waitForPlaybook(handle, 'completed');
    expect(s.steps.map((x) => `${x.id}: ${x.status}`)).toEqual([
      'a1: succeeded',
      'branch: succeeded',
      'hard: skipped',
      'soft: succeeded',
      'late_task: failed',
      'after_task: succeeded',
      'pause: succeeded',
      'pm: succeeded',
    ]);
    expect(s.steps.find((x) => x.id === 'late_task')?.error).toMatch(/deadline/);
    expect(actionRows(stack, incidentId).find((r) => r.stepId === 'after_task')?.params).toMatchObject({
      message: 'task failed',
    });

    await handle.executeUpdate(closeIncident, {
      args: [
        signed(handle, 'close', {
          decisionId: 'close',
          actor: { id: 'U_ALICE', via: 'api', roles: ['admin'] },
          reason: 'resolved',
        }),
      ],
    });
    expect((await handle.result()).status).toBe('closed');
    const events = timelineRows(stack, incidentId);
    expect(events.filter((e) => e.kind === 'milestone').map((e) => e.data?.milestone)).toEqual([
      'assessed',
      'contained',
      'investigated',
      'remediated',
      'reviewed',
      'closed',
    ]);
    expect(events.filter((e) => e.kind === 'phase.started').map((e) => e.data?.phase)).toEqual([
      'assess',
      'contain',
      'investigate',
      'remediate',
      'postmortem',
    ]);
    // Every timeline event carries who did it and when.
    for (const e of events) {
      expect(e.actor).toBeTruthy();
      expect(Number.isNaN(Date.parse(e.at))).toBe(false);
    }
    const stepRows = await playbookStepsOf(stack.db, incidentId);
    expect(Object.fromEntries(stepRows.map((r) => [r.stepId, r.status]))).toMatchObject({
      a1: 'succeeded',
      soft: 'succeeded',
      late_task: 'failed',
      pm: 'succeeded',
    });
  });
});
