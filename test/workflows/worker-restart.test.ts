import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actionRows, pinYaml, startIncident, timelineRows, waitForPlaybook } from '../helpers/playbooks';
import { eventually, startTestStack, type TestStack } from '../helpers/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.close();
});

describe('durability', () => {
  it('a worker shut down mid-playbook is replaced and the run resumes without repeating an action', async () => {
    const pb = pinYaml(`
id: restart-test
version: 1
title: Restart test
phases:
  contain:
    - id: disable_agent
      kind: action
      action: agent.disable
      params: { agent_id: '\${{ incident.agent_id }}' }
    - id: pause
      kind: wait
      duration: 2s
    - id: revoke
      kind: action
      action: credentials.revoke
      params: { agent_id: '\${{ incident.agent_id }}' }
  investigate:
    - id: logs
      kind: action
      action: evidence.collect
      params: { agent_id: '\${{ incident.agent_id }}', kind: access_logs }
`);
    const { incidentId, handle } = await startIncident(stack, { playbook: pb });
    await eventually(() => actionRows(stack, incidentId).length === 1, 20_000, 'first action');
    await stack.stopWorker();
    // While no worker runs, the timer fires on the server; nothing else can happen.
    await new Promise((r) => setTimeout(r, 2500));
    expect(actionRows(stack, incidentId).map((r) => r.stepId)).toEqual(['disable_agent']);
    await stack.startWorker();

    const s = await waitForPlaybook(handle, 'completed');
    expect(s.steps.map((x) => [x.id, x.status])).toEqual([
      ['disable_agent', 'succeeded'],
      ['pause', 'succeeded'],
      ['revoke', 'succeeded'],
      ['logs', 'succeeded'],
    ]);
    const rows = actionRows(stack, incidentId);
    expect(rows.map((r) => r.stepId)).toEqual(['disable_agent', 'revoke', 'logs']);
    expect(rows.every((r) => r.status === 'succeeded')).toBe(true);
    const history = await handle.fetchHistory();
    const scheduled = (history.events ?? []).filter(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'executeAction',
    );
    expect(scheduled).toHaveLength(3);
    expect(timelineRows(stack, incidentId).filter((e) => e.kind === 'step.succeeded')).toHaveLength(4);
  });
});
