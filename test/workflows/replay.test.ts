/**
 * Replays every committed history in test/histories/ with the current workflow bundle: a change
 * to the incident workflow or the interpreter that would break a recorded run fails here. Until
 * the first release, an intended change re-records them (README, "Tests"); after it, changes ship
 * as the README's "Upgrading a running deployment" says.
 */
import { Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { describe, expect, it } from 'vitest';
import { loadPlaybookDir } from '../../playbooks/loader';
import { committedHistories, replayOptions } from '../helpers/histories';

const SCENARIOS = [
  'no-playbook',
  ...loadPlaybookDir().map((p) => `playbook-${p.id}`),
  'approval-escalates',
  'release-while-running',
  'abort-keeps-containment',
  'release-after-abort',
  'attach-playbook',
  'drill-at-speed',
  'continue-as-new-first-run',
  'continue-as-new-later-run',
];

describe('replay of committed histories', () => {
  it('there is one history per scenario, and each replays with the current workflow code', async () => {
    const histories = committedHistories();
    expect(histories.map((h) => h.workflowId).sort()).toEqual([...SCENARIOS].sort());
    const results = [];
    for await (const r of Worker.runReplayHistories(replayOptions(), histories)) results.push(r);
    expect(results).toHaveLength(histories.length);
    for (const r of results) expect(r.error, r.workflowId).toBeUndefined();
  });

  it('fails on a non-deterministic difference (a history whose scheduled action differs from the code)', async () => {
    const h = committedHistories().find((x) => x.workflowId === 'release-while-running')!;
    const scheduled = h.history.events!.find(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'executeAction',
    )!;
    scheduled.activityTaskScheduledEventAttributes!.activityType!.name = 'executeSomethingElse';
    await expect(Worker.runReplayHistory(replayOptions(), h.history)).rejects.toBeInstanceOf(
      DeterminismViolationError,
    );
  });

  it('no history carries a patch marker: nothing is guarded by patched() before the first release', () => {
    for (const h of committedHistories()) {
      const markers = (h.history.events ?? []).flatMap((e) =>
        e.markerRecordedEventAttributes?.markerName === 'core_patch' ? [h.workflowId] : [],
      );
      expect(markers).toEqual([]);
    }
  });
});
