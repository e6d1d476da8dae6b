/**
 * Replays every committed history in test/histories/ with the current workflow bundle: a change
 * to the incident workflow or the interpreter that would break running incidents fails here.
 * Guard intended engine changes with patched() and record a new history alongside the old ones.
 */
import { Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { describe, expect, it } from 'vitest';
import { committedHistories, replayOptions } from '../helpers/histories';

describe('replay of committed histories', () => {
  it('every history in test/histories replays with the current workflow code', async () => {
    const histories = committedHistories();
    expect(histories.map((h) => h.workflowId)).toEqual(
      expect.arrayContaining(['playbook-incident', 'no-playbook-incident']),
    );
    const results = [];
    for await (const r of Worker.runReplayHistories(replayOptions(), histories)) results.push(r);
    expect(results).toHaveLength(histories.length);
    for (const r of results) expect(r.error, r.workflowId).toBeUndefined();
  });

  it('fails on a non-deterministic difference (a history whose scheduled action differs from the code)', async () => {
    const h = committedHistories().find((x) => x.workflowId === 'playbook-incident')!;
    const scheduled = h.history.events!.find(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'executeAction',
    )!;
    scheduled.activityTaskScheduledEventAttributes!.activityType!.name = 'executeSomethingElse';
    await expect(Worker.runReplayHistory(replayOptions(), h.history)).rejects.toBeInstanceOf(
      DeterminismViolationError,
    );
  });
});
