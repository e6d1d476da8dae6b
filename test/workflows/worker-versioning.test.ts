/**
 * The upgrade policy of README "Upgrading a running deployment", on the shared dev server with two
 * real workers of one Worker Deployment: the released build (the shared bundle) and a next build
 * (test/fixtures/next-build, whose runIncident visibly differs behind `patched()`). What it proves:
 * - an incident started on the released build stays pinned to it: every later workflow task,
 *   including the ones after the new build became current, runs on the released build, and it
 *   completes as the released code completes it;
 * - a new incident starts on the new build and runs the new code;
 * - an open incident moved onto the new build (`temporal workflow update-options`, the documented
 *   command) replays there without a non-determinism error and keeps the released behaviour,
 *   because the change is behind `patched()`;
 * - a restarted worker of the replaced build does not take new incidents back;
 * - the visibility queries the README gives find no incident left on (or older than) the old
 *   build once they have finished, which is when the old build may be stopped;
 * - a single install (its own Temporal server, one process) restarted on the new build moves its
 *   open incidents onto it at start, and they finish there on their recorded path.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { WorkflowHandle } from '@temporalio/client';
import type { WorkerDeploymentVersion } from '@temporalio/common';
import { bundleWorkflowCode } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createActivities } from '../../activities';
import {
  buildIdOf,
  deploymentName as nameOf,
  makeCurrentOnStart,
  versionString,
} from '../../temporal/deployment';
import { createWorker, type CreatedWorker } from '../../temporal/worker';
import { closeIncident, decideApproval } from '../../workflows/messages';
import { NEXT_BUILD_PATCH } from '../fixtures/next-build/workflows';
import { signed } from '../helpers/decisions';
import {
  actionRows,
  alice,
  pinYaml,
  startIncident,
  waitForPlaybook,
  waitForStep,
} from '../helpers/playbooks';
import { eventually, startTestStack, type TestStack } from '../helpers/stack';

const run = promisify(execFile);
const nextBuildPath = path.join(import.meta.dirname, '..', 'fixtures', 'next-build', 'workflows.ts');

const playbook = pinYaml(`
id: upgrade
version: 1
title: Upgrade across builds
phases:
  contain:
    - id: approve_disable
      kind: approval
      prompt: Disable the agent?
      approvers: { users: [U_ALICE] }
      steps:
        - id: disable_agent
          kind: action
          action: agent.disable
          params: { agent_id: '\${{ incident.agent_id }}' }
    - id: after
      kind: notify
      message: approved=\${{ steps.approve_disable.approved }}
`);

let stack: TestStack;
let nextBundle: string;
const cleanups: (() => Promise<void>)[] = [];
beforeAll(async () => {
  stack = await startTestStack();
  const { code } = await bundleWorkflowCode({
    workflowsPath: nextBuildPath,
    logger: { info() {}, warn() {}, error() {}, debug() {}, trace() {}, log() {} },
  });
  nextBundle = code;
});
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await stack?.close();
});

/** A running worker of the next build on `s`'s task queue, as a new release's worker starts. */
async function startNextBuild(s: TestStack, temporal = s.config.temporal): Promise<CreatedWorker> {
  const created = await createWorker({
    address: s.config.temporal.address!,
    temporal,
    activities: createActivities({ db: s.db }),
    workflowBundle: { code: nextBundle },
  });
  const running = created.worker.run();
  cleanups.push(async () => {
    created.worker.shutdown();
    await running;
    await created.connection.close();
  });
  return created;
}

function releasedVersion(s: TestStack): WorkerDeploymentVersion {
  return {
    deploymentName: nameOf(s.config.temporal),
    buildId: buildIdOf(fs.readFileSync(inject('workflowBundlePath'), 'utf8')),
  };
}

/** The build id of every completed workflow task, in history order. */
async function taskBuilds(handle: WorkflowHandle): Promise<string[]> {
  const history = await handle.fetchHistory();
  return (history.events ?? []).flatMap((e) => {
    const a = e.workflowTaskCompletedEventAttributes;
    return a ? [a.deploymentVersion?.buildId ?? 'unversioned'] : [];
  });
}

async function taskFailures(handle: WorkflowHandle): Promise<number> {
  const history = await handle.fetchHistory();
  return (history.events ?? []).filter((e) => e.workflowTaskFailedEventAttributes).length;
}

async function hasPatchMarker(handle: WorkflowHandle): Promise<boolean> {
  const history = await handle.fetchHistory();
  return (history.events ?? []).some((e) => {
    const marker = e.markerRecordedEventAttributes;
    if (marker?.markerName !== 'core_patch') return false;
    return (marker.details?.['patch-data']?.payloads ?? []).some(
      (p) => (JSON.parse(Buffer.from(p.data ?? []).toString()) as { id?: string }).id === NEXT_BUILD_PATCH,
    );
  });
}

async function approve(handle: WorkflowHandle, decisionId: string): Promise<void> {
  await handle.executeUpdate(decideApproval, {
    args: [
      signed(handle, 'approval', {
        decisionId,
        stepId: 'approve_disable',
        decision: 'approve',
        actor: alice,
      }),
    ],
  });
}

async function routing(deploymentName: string) {
  const res = await stack.temporal.client.workflowService.describeWorkerDeployment({
    namespace: stack.config.temporal.namespace,
    deploymentName,
  });
  return res.workerDeploymentInfo?.routingConfig;
}

async function currentBuild(deploymentName: string): Promise<string | undefined> {
  return (await routing(deploymentName))?.currentDeploymentVersion?.buildId ?? undefined;
}

/** What the README tells operators to run before stopping a build. */
async function openPinnedTo(version: WorkerDeploymentVersion): Promise<number> {
  return count(`TemporalWorkerDeploymentVersion='${versionString(version)}' AND ExecutionStatus='Running'`);
}

/** What the README tells operators to run before the next step of a patch's lifecycle. */
async function openStartedBefore(time: Date): Promise<number> {
  return count(
    `WorkflowType='runIncident' AND TaskQueue='${stack.config.temporal.taskQueue}' AND ` +
      `ExecutionStatus='Running' AND StartTime < '${time.toISOString()}'`,
  );
}

async function count(query: string): Promise<number> {
  const { stdout } = await run(inject('temporalCli'), [
    'workflow',
    'count',
    '--address',
    stack.config.temporal.address!,
    '--namespace',
    stack.config.temporal.namespace,
    '--query',
    query,
    '--output',
    'json',
  ]);
  return Number((JSON.parse(stdout) as { count?: string | number }).count ?? 0);
}

describe('upgrading a running deployment (worker deployment versioning)', () => {
  it('an incident started on the old build finishes there while new incidents run the new build', async () => {
    const s = stack;
    const deploymentName = nameOf(s.config.temporal);
    const released = releasedVersion(s);
    // The stack's worker is the released build, and it made itself current when it started.
    expect(await currentBuild(deploymentName)).toBe(released.buildId);

    const pinned = await startIncident(s, { playbook });
    const moved = await startIncident(s, { playbook });
    await waitForStep(pinned.handle, 'approve_disable', 'waiting');
    await waitForStep(moved.handle, 'approve_disable', 'waiting');

    // Deploy the next build beside the released one, as an operator would: new workers start,
    // and the first of them routes new incidents to itself.
    const created = await startNextBuild(s);
    const nextVersion = created.version;
    expect(nextVersion.deploymentName).toBe(deploymentName);
    expect(nextVersion.buildId).not.toBe(released.buildId);
    expect(created.routing).toBe('made-current');
    expect(created.adopted).toEqual([]);
    expect(await currentBuild(deploymentName)).toBe(nextVersion.buildId);

    const fresh = await startIncident(s, { playbook });
    await waitForStep(fresh.handle, 'approve_disable', 'waiting');

    // Move one open incident onto the next build with the documented command.
    await run(inject('temporalCli'), [
      'workflow',
      'update-options',
      '--address',
      s.config.temporal.address!,
      '--namespace',
      s.config.temporal.namespace,
      '--workflow-id',
      moved.handle.workflowId,
      '--versioning-override-behavior',
      'pinned',
      '--versioning-override-deployment-name',
      deploymentName,
      '--versioning-override-build-id',
      nextVersion.buildId,
    ]);
    const buildsBeforeApproval = {
      pinned: (await taskBuilds(pinned.handle)).length,
      moved: (await taskBuilds(moved.handle)).length,
    };

    // The drain queries see the incident still pinned to the released build, and both incidents
    // that predate the next build.
    await eventually(async () => (await openPinnedTo(released)) >= 1, 30_000, 'the open pinned incident');
    const changed = (await routing(deploymentName))?.currentVersionChangedTime;
    const cutOver = new Date(Number(changed?.seconds) * 1000 + Math.floor((changed?.nanos ?? 0) / 1e6));
    await eventually(async () => (await openStartedBefore(cutOver)) === 2, 30_000, 'the two older incidents');

    await approve(pinned.handle, 'd-pinned');
    await approve(moved.handle, 'd-moved');
    await approve(fresh.handle, 'd-fresh');
    const states = await Promise.all(
      [pinned, moved, fresh].map((i) => waitForPlaybook(i.handle, 'completed', 60_000)),
    );
    for (const state of states) {
      expect(state.steps.map((x) => [x.id, x.status])).toEqual([
        ['approve_disable', 'succeeded'],
        ['disable_agent', 'succeeded'],
        ['after', 'succeeded'],
      ]);
    }
    for (const i of [pinned, moved, fresh]) {
      expect(actionRows(s, i.incidentId).map((r) => [r.stepId, r.status])).toEqual([
        ['disable_agent', 'succeeded'],
        ['after', 'succeeded'],
      ]);
    }

    for (const i of [pinned, moved, fresh]) {
      await i.handle.executeUpdate(closeIncident, {
        args: [
          signed(i.handle, 'close', {
            decisionId: 'close',
            actor: { id: 'U_ALICE', via: 'api', roles: ['admin'] },
            reason: 'resolved',
          }),
        ],
      });
      expect((await i.handle.result()).status).toBe('closed');
    }

    // Pinned: every workflow task of the old incident ran on the released build, also the ones
    // after the next build became current; it never ran the new code.
    const pinnedBuilds = await taskBuilds(pinned.handle);
    expect(pinnedBuilds.length).toBeGreaterThan(buildsBeforeApproval.pinned);
    expect(new Set(pinnedBuilds)).toEqual(new Set([released.buildId]));
    expect((await pinned.handle.describe()).memo?.build).toBeUndefined();
    expect(await hasPatchMarker(pinned.handle)).toBe(false);

    // New: the new incident ran on the next build only, and its new code.
    expect(new Set(await taskBuilds(fresh.handle))).toEqual(new Set([nextVersion.buildId]));
    expect((await fresh.handle.describe()).memo?.build).toBe('next');
    expect(await hasPatchMarker(fresh.handle)).toBe(true);

    // Moved: started on the released build, finished on the next one, replayed it cleanly and kept
    // the released behaviour (no marker, no memo), because the change sits behind patched().
    const movedBuilds = await taskBuilds(moved.handle);
    expect(movedBuilds.slice(0, buildsBeforeApproval.moved).every((b) => b === released.buildId)).toBe(true);
    expect(movedBuilds.slice(buildsBeforeApproval.moved).length).toBeGreaterThan(0);
    expect(movedBuilds.slice(buildsBeforeApproval.moved).every((b) => b === nextVersion.buildId)).toBe(true);
    expect(await taskFailures(moved.handle)).toBe(0);
    expect((await moved.handle.describe()).memo?.build).toBeUndefined();
    expect(await hasPatchMarker(moved.handle)).toBe(false);

    // A restarted worker of the replaced build drains; it does not take new incidents back.
    await s.stopWorker();
    await s.startWorker();
    expect(
      await makeCurrentOnStart(
        s.temporal.client.workflowService,
        s.config.temporal.namespace,
        released,
        'test',
      ),
    ).toBe('replaced');
    expect(await currentBuild(deploymentName)).toBe(nextVersion.buildId);

    // No incident is pinned to the released build any more: it may be stopped.
    await eventually(
      async () => (await openPinnedTo(released)) === 0,
      30_000,
      'no incident pinned to the old build',
    );
    await eventually(
      async () => (await openStartedBefore(cutOver)) === 0,
      30_000,
      'no incident older than the cut-over',
    );
    await s.stopWorker();
    const after = await startIncident(s, { playbook });
    await waitForStep(after.handle, 'approve_disable', 'waiting');
    expect(new Set(await taskBuilds(after.handle))).toEqual(new Set([nextVersion.buildId]));
    await after.handle.executeUpdate(closeIncident, {
      args: [
        signed(after.handle, 'close', {
          decisionId: 'close',
          actor: { id: 'U_ALICE', via: 'api', roles: ['admin'] },
          reason: 'resolved',
        }),
      ],
    });
  }, 180_000);

  it('a single install moves its open incidents onto the new build when it restarts on it', async () => {
    const s = await startTestStack();
    cleanups.push(() => s.close());
    const released = releasedVersion(s);
    const open = await startIncident(s, { playbook });
    await waitForStep(open.handle, 'approve_disable', 'waiting');
    await eventually(async () => (await openPinnedTo(released)) === 1, 30_000, 'the open incident');

    // The one process stops and starts again on the new code, against its own (embedded) server.
    await s.stopWorker();
    const deployment = { ...s.config.temporal.deployment, adoptOpenIncidents: true };
    const created = await startNextBuild(s, { ...s.config.temporal, deployment });
    expect(created.routing).toBe('made-current');
    expect(created.adopted).toEqual([open.handle.workflowId]);
    const before = (await taskBuilds(open.handle)).length;

    await approve(open.handle, 'd-adopted');
    const state = await waitForPlaybook(open.handle, 'completed', 60_000);
    expect(state.steps.map((x) => [x.id, x.status])).toEqual([
      ['approve_disable', 'succeeded'],
      ['disable_agent', 'succeeded'],
      ['after', 'succeeded'],
    ]);
    await open.handle.executeUpdate(closeIncident, {
      args: [
        signed(open.handle, 'close', {
          decisionId: 'close',
          actor: { id: 'U_ALICE', via: 'api', roles: ['admin'] },
          reason: 'resolved',
        }),
      ],
    });
    expect((await open.handle.result()).status).toBe('closed');

    const builds = await taskBuilds(open.handle);
    expect(builds.slice(0, before).every((b) => b === released.buildId)).toBe(true);
    expect(builds.slice(before).length).toBeGreaterThan(0);
    expect(builds.slice(before).every((b) => b === created.version.buildId)).toBe(true);
    expect(await taskFailures(open.handle)).toBe(0);
    expect(await hasPatchMarker(open.handle)).toBe(false);
  }, 120_000);
});
