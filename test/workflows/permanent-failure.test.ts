/**
 * A projection write that can never succeed (the incident has no row: nothing created it) must
 * not retry forever: its error is non-retryable, so the workflow fails with it at once, and no
 * workflow task fails or loops on the way.
 */
import crypto from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IncidentStart } from '../../domain/incident';
import { incidentWorkflowId } from '../../temporal/client';
import type { runIncident } from '../../workflows/run-incident';
import { pinYaml } from '../helpers/playbooks';
import { startTestStack, type TestStack } from '../helpers/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.close();
});

function rowless(withPlaybook: boolean): IncidentStart {
  const incidentId = `inc-${crypto.randomBytes(5).toString('hex')}-1`;
  return {
    incidentId,
    key: `rowless:${incidentId}`,
    mode: 'drill',
    source: 'test',
    title: 'nobody stored this incident',
    severity: 'high',
    agentId: 'a1',
    openedAt: new Date().toISOString(),
    labels: {},
    ...(withPlaybook
      ? {
          playbook: pinYaml(`
id: rowless
version: 1
title: Rowless
phases:
  assess:
    - { id: hold, kind: manual_task, task: hold }
`),
        }
      : {}),
  };
}

/** The innermost failure (the activity's own error, under the workflow and activity wrappers). */
function rootCause(err: Error): Error {
  let e = err;
  while (e.cause instanceof Error) e = e.cause;
  return e;
}

describe('a projection write that can never succeed', () => {
  for (const withPlaybook of [false, true]) {
    it(`fails the workflow instead of retrying (${withPlaybook ? 'with' : 'without'} a playbook)`, async () => {
      const input = rowless(withPlaybook);
      const handle = await stack.temporal.client.workflow.start<typeof runIncident>('runIncident', {
        workflowId: incidentWorkflowId(input.incidentId),
        taskQueue: stack.temporal.taskQueue,
        args: [input],
      });
      const err = await handle.result().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(WorkflowFailedError);
      const cause = rootCause(err as WorkflowFailedError);
      expect(cause).toBeInstanceOf(ApplicationFailure);
      expect(cause).toMatchObject({ type: 'IncidentNotFound', nonRetryable: true });
      expect(cause?.message).toBe(`incident ${input.incidentId} has no row: intake must create it`);
      const events = (await handle.fetchHistory()).events ?? [];
      // The server refuses a task's completion when new events arrived meanwhile (UnhandledCommand,
      // enum value 1: an activity finished as the workflow failed) and the worker runs the task
      // again; any other task failure is a retry the test forbids.
      const unhandledCommand = (cause: unknown) => cause === 1 || String(cause).endsWith('UNHANDLED_COMMAND');
      const failedTasks = events.filter((e) => e.workflowTaskFailedEventAttributes);
      expect(
        failedTasks.filter((e) => !unhandledCommand(e.workflowTaskFailedEventAttributes!.cause)),
      ).toEqual([]);
    });
  }
});
