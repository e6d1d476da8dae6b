/**
 * Replays every committed history (test/histories/*.json, recorded from real runs by
 * scripts/record-histories.ts) against the current workflow code. A change that would break
 * running incidents (a new or reordered command without patched()) fails here.
 */
import { Worker } from '@temporalio/worker';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { quietTemporalRuntime } from '../helpers/stack';

const dir = path.join(import.meta.dirname, '..', 'histories');
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));

describe('replay of committed workflow histories', () => {
  it('has histories to replay', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it.each(files)('%s replays deterministically on the current code', async (file) => {
    quietTemporalRuntime();
    const history = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
    const results = Worker.runReplayHistories(
      { workflowBundle: { codePath: inject('workflowBundlePath') } },
      [{ workflowId: file, history }],
    );
    for await (const r of results) {
      expect(r.error, `${file}: ${String(r.error)}`).toBeUndefined();
    }
  });

  it('fails on a history whose commands the code no longer produces', async () => {
    quietTemporalRuntime();
    const file = files[0]!;
    const history = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
    // Rename the first activity the workflow scheduled: the code schedules a different one.
    const scheduled = history.events.find((e: any) => e.activityTaskScheduledEventAttributes);
    scheduled.activityTaskScheduledEventAttributes.activityType.name = 'somethingElse';
    const results = Worker.runReplayHistories(
      { workflowBundle: { codePath: inject('workflowBundlePath') } },
      [{ workflowId: 'tampered', history }],
    );
    let failed = false;
    for await (const r of results) failed = r.error !== undefined;
    expect(failed).toBe(true);
  });
});
