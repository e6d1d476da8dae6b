/**
 * `wait: false` on a notify step: the playbook goes on without waiting for the notification (the
 * containment action starts while it is still being sent), records its outcome like any step,
 * and does not end before it lands.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { incidentTimeline } from '../../db/timeline';
import { pinYaml, startIncident, waitForPlaybook } from '../helpers/playbooks';
import { startTestStack, type TestStack } from '../helpers/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.close();
});

const playbook = (wait: boolean) =>
  pinYaml(`
id: background-notify
version: 1
title: Background notify
phases:
  assess:
    - id: announce
      kind: notify
      message: incident \${{ incident.id }}
      wait: ${wait}
  contain:
    - { id: disable, kind: action, action: agent.disable, params: { agent_id: a1 } }
`);

describe('notify with wait: false', () => {
  it('lets containment start before the notification is done, and still records it', async () => {
    const { handle, incidentId } = await startIncident(stack, {
      playbook: playbook(false),
      // Its first attempt fails (a scripted connector error): it lands ~2 s later, on the retry.
      scripted: { announce: { ok: true, errors: 1 } },
    });
    const state = await waitForPlaybook(handle, 'completed', 30_000);
    const step = (id: string) => state.steps.find((s: { id: string }) => s.id === id)!;
    expect(step('announce').status).toBe('succeeded');
    expect(step('disable').status).toBe('succeeded');
    // The disable started before the slow announcement finished.
    expect(Date.parse(step('disable').startedAt!)).toBeLessThan(Date.parse(step('announce').finishedAt!));
    // Its outcome is in the timeline like any step's.
    const rows = await incidentTimeline(stack.db, incidentId);
    expect(rows.map((r) => r.kind)).toEqual(expect.arrayContaining(['step.succeeded', 'playbook.completed']));
    expect(
      rows.some((r) => r.kind === 'step.succeeded' && (r.data as { stepId?: string }).stepId === 'announce'),
    ).toBe(true);
  });

  it('waits for a notification by default (wait: true)', async () => {
    const { handle } = await startIncident(stack, {
      playbook: playbook(true),
      scripted: { announce: { ok: true, errors: 1 } },
    });
    const state = await waitForPlaybook(handle, 'completed', 30_000);
    const step = (id: string) => state.steps.find((s: { id: string }) => s.id === id)!;
    expect(Date.parse(step('disable').startedAt!)).toBeGreaterThanOrEqual(
      Date.parse(step('announce').finishedAt!),
    );
  });
});
