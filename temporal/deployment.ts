/**
 * Worker Deployment Versioning (README, "Upgrading a running deployment"). Every worker is one
 * Version of the install's Worker Deployment: the deployment name (default: the task queue) plus a
 * build id that changes whenever the workflow code does (default: the package version and a hash
 * of the workflow bundle, so two workers with one build id always run the same code). Incidents
 * are PINNED: each one runs to its end on the build it started on, and the Current Version only
 * decides where new incidents start. An install on its own embedded server, which can run only one
 * build, moves its open incidents onto the new build when it starts.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { WorkerDeploymentVersion } from '@temporalio/common';
import type { NativeConnection } from '@temporalio/worker';
import type { TemporalConfig } from '../app/config';
import { projectRoot } from './cli-binary';

/** temporal.api.enums.v1.WorkerDeploymentVersionStatus, as the gRPC answer carries it. */
const VersionStatus = { CURRENT: 2, RAMPING: 3, DRAINING: 4, DRAINED: 5 } as const;

function packageVersion(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** `<package version>+<first 12 hex digits of sha256(bundle)>`, e.g. `0.1.0+85a27f5edcd5`. */
export function buildIdOf(workflowBundleCode: string): string {
  const hash = createHash('sha256').update(workflowBundleCode).digest('hex').slice(0, 12);
  return `${packageVersion()}+${hash}`;
}

/** FIREBREAK_DEPLOYMENT_NAME, else the task queue's name without the `.` and `:` Temporal refuses. */
export function deploymentName(temporal: Pick<TemporalConfig, 'deployment' | 'taskQueue'>): string {
  return temporal.deployment.name ?? temporal.taskQueue.replace(/[.:]/g, '-');
}

export function deploymentVersion(
  temporal: Pick<TemporalConfig, 'deployment' | 'taskQueue'>,
  workflowBundleCode: string,
): WorkerDeploymentVersion {
  return {
    deploymentName: deploymentName(temporal),
    buildId: temporal.deployment.buildId ?? buildIdOf(workflowBundleCode),
  };
}

/** The SDK's and the CLI's spelling of a version: `deploymentName:buildId`. */
export function versionString(v: WorkerDeploymentVersion): string {
  return `${v.deploymentName}:${v.buildId}`;
}

/**
 * `current`: this build already takes new incidents. `made-current`: it does now. `replaced`: it
 * was current (or ramping) before and another build took over, so it only drains the incidents
 * pinned to it; a restarted old worker must not take new incidents back. `ramping`: an operator
 * is ramping it by hand, which is left alone.
 */
export type Routing = 'current' | 'made-current' | 'replaced' | 'ramping';

type WorkflowService = NativeConnection['workflowService'];

function grpcCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}
const NOT_FOUND = 5;

interface DeploymentState {
  /** This version's status, undefined when no worker of it has registered yet. */
  status: number | undefined;
  /** Makes the change below fail if an operator changed routing since this read. */
  conflictToken: Uint8Array | undefined;
}

/** Listing first spares the server's error log a "not found" on the install's first start. */
async function deploymentExists(service: WorkflowService, namespace: string, name: string): Promise<boolean> {
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await service.listWorkerDeployments({ namespace, pageSize: 1000, nextPageToken });
    if (page.workerDeployments?.some((d) => d.name === name)) return true;
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
  return false;
}

async function readState(
  service: WorkflowService,
  namespace: string,
  version: WorkerDeploymentVersion,
): Promise<DeploymentState> {
  if (!(await deploymentExists(service, namespace, version.deploymentName))) {
    return { status: undefined, conflictToken: undefined };
  }
  try {
    const res = await service.describeWorkerDeployment({
      namespace,
      deploymentName: version.deploymentName,
    });
    const summary = res.workerDeploymentInfo?.versionSummaries?.find(
      (v) => v.deploymentVersion?.buildId === version.buildId,
    );
    return { status: summary?.status ?? undefined, conflictToken: res.conflictToken ?? undefined };
  } catch (err) {
    if (grpcCode(err) === NOT_FOUND) return { status: undefined, conflictToken: undefined };
    throw err;
  }
}

/**
 * Makes `version` the deployment's Current Version unless it is current, ramping, or was replaced.
 * Called before the worker polls, so the first incident started after start-up already goes to
 * this build: `allowNoPollers` because it has not polled yet, and `ignoreMissingTaskQueues`
 * because the server cannot know yet that it will poll the one task queue the current build polls
 * (a Firebreak deployment has exactly one, its own). An incident started in between waits on the
 * task queue until this worker polls it.
 */
export async function makeCurrentOnStart(
  service: WorkflowService,
  namespace: string,
  version: WorkerDeploymentVersion,
  identity: string,
): Promise<Routing> {
  const { status, conflictToken } = await readState(service, namespace, version);
  if (status === VersionStatus.CURRENT) return 'current';
  if (status === VersionStatus.RAMPING) return 'ramping';
  if (status === VersionStatus.DRAINING || status === VersionStatus.DRAINED) return 'replaced';
  try {
    await service.setWorkerDeploymentCurrentVersion({
      namespace,
      deploymentName: version.deploymentName,
      buildId: version.buildId,
      conflictToken,
      allowNoPollers: true,
      ignoreMissingTaskQueues: true,
      identity,
    });
  } catch (err) {
    // Another worker of this build, started at the same moment, may have won the race.
    if ((await readState(service, namespace, version)).status === VersionStatus.CURRENT) return 'current';
    throw err;
  }
  return 'made-current';
}

/** temporal.api.workflow.v1.VersioningOverride.PinnedOverrideBehavior.PINNED_OVERRIDE_BEHAVIOR_PINNED */
const PINNED_OVERRIDE = 1;

/**
 * Moves this deployment's open incidents that are pinned to another build onto `version`, and
 * returns their workflow ids. Only for an install on its own Temporal server (the embedded dev
 * server): no worker of their build can run any more, so without the move they would wait for
 * good. Safe because every workflow change is behind `patched()` (README, "The patch lifecycle").
 */
export async function adoptOpenIncidents(
  service: WorkflowService,
  namespace: string,
  version: WorkerDeploymentVersion,
  identity: string,
): Promise<string[]> {
  const query =
    `TemporalWorkerDeployment='${version.deploymentName}' AND ` +
    `TemporalWorkerDeploymentVersion!='${versionString(version)}' AND ExecutionStatus='Running'`;
  const moved: string[] = [];
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await service.listWorkflowExecutions({ namespace, query, pageSize: 1000, nextPageToken });
    for (const e of page.executions ?? []) {
      if (!e.execution?.workflowId) continue;
      await service.updateWorkflowExecutionOptions({
        namespace,
        workflowExecution: e.execution,
        workflowExecutionOptions: {
          versioningOverride: { pinned: { behavior: PINNED_OVERRIDE, version } },
        },
        updateMask: { paths: ['versioning_override'] },
        identity,
      });
      moved.push(e.execution.workflowId);
    }
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
  return moved;
}
