/**
 * Builds the Temporal worker that runs Firebreak's workflows and activities. Workflow code is
 * bundled from workflows/index.ts (or a prebuilt bundle, which tests share across files). The
 * worker is one Version of the install's Worker Deployment, and its incidents are pinned to it
 * (temporal/deployment.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { WorkerDeploymentVersion } from '@temporalio/common';
import { bundleWorkflowCode, NativeConnection, Worker, type WorkflowBundleOption } from '@temporalio/worker';
import type { TemporalConfig } from '../app/config';
import { projectRoot } from './cli-binary';
import { adoptOpenIncidents, deploymentVersion, makeCurrentOnStart, type Routing } from './deployment';

export const workflowsPath = path.join(projectRoot, 'workflows', 'index.ts');

export interface WorkerOptions {
  address: string;
  temporal: TemporalConfig;
  activities: object;
  workflowBundle?: WorkflowBundleOption;
}

export interface CreatedWorker {
  worker: Worker;
  connection: NativeConnection;
  version: WorkerDeploymentVersion;
  /** undefined: FIREBREAK_SET_CURRENT_VERSION=false, routing is left to the operator. */
  routing: Routing | undefined;
  /** Workflow ids of open incidents moved onto this build at start (embedded server only). */
  adopted: string[];
}

async function bundleCode(option: WorkflowBundleOption | undefined): Promise<string> {
  if (option && 'code' in option) return option.code;
  if (option) return fs.readFileSync(option.codePath, 'utf8');
  return (await bundleWorkflowCode({ workflowsPath })).code;
}

async function connect(address: string, temporal: TemporalConfig): Promise<NativeConnection> {
  return NativeConnection.connect({
    address,
    tls: temporal.tls,
    apiKey: temporal.apiKey,
  });
}

/** Routes new incidents (and, on the embedded server, the open ones) to this build. */
async function routeToThisBuild(
  connection: NativeConnection,
  temporal: TemporalConfig,
  version: WorkerDeploymentVersion,
): Promise<Pick<CreatedWorker, 'routing' | 'adopted'>> {
  if (!temporal.deployment.setCurrentOnStart) return { routing: undefined, adopted: [] };
  const identity = `firebreak-worker@${os.hostname()}:${process.pid}`;
  const service = connection.workflowService;
  try {
    const routing = await makeCurrentOnStart(service, temporal.namespace, version, identity);
    const takesIncidents = routing === 'current' || routing === 'made-current';
    const adopted =
      takesIncidents && temporal.deployment.adoptOpenIncidents
        ? await adoptOpenIncidents(service, temporal.namespace, version, identity)
        : [];
    return { routing, adopted };
  } catch (err) {
    throw new Error(
      `could not route incidents to build ${version.buildId} of worker deployment ` +
        `${version.deploymentName}: ${(err as Error).message} (FIREBREAK_SET_CURRENT_VERSION=false ` +
        'leaves that to the operator, README "Upgrading a running deployment")',
      { cause: err },
    );
  }
}

export async function createWorker(opts: WorkerOptions): Promise<CreatedWorker> {
  const code = await bundleCode(opts.workflowBundle);
  const version = deploymentVersion(opts.temporal, code);
  const connection = await connect(opts.address, opts.temporal);
  const worker = await Worker.create({
    connection,
    namespace: opts.temporal.namespace,
    taskQueue: opts.temporal.taskQueue,
    activities: opts.activities,
    // The SDK's default scales with the heap limit (≈2,300 on a 4 GiB heap), about 1.8 MiB each:
    // a worker with 1,000 waiting incidents reached 2.2 GiB RSS (bench/RESULTS.md, scale).
    maxCachedWorkflows: opts.temporal.maxCachedWorkflows,
    // A stop is bounded (npm start: 15 s in all): running activities get 3 s to finish, then the
    // worker gives up on what is still in flight (e.g. a projection write between retries).
    shutdownGraceTime: '3s',
    shutdownForceTime: '8s',
    // An incident's first task schedules its projection write, the announcement, the forensic
    // snapshot's collections and the first containment action together: with the SDK's default of
    // 3 eager slots per task, containment came fifth and waited for a poll (bench/RESULTS.md, run 9).
    maxEagerActivityReservationsPerWorkflowTask: 8,
    workflowBundle: { code },
    workerDeploymentOptions: { version, useWorkerVersioning: true, defaultVersioningBehavior: 'PINNED' },
  });
  return { worker, connection, version, ...(await routeToThisBuild(connection, opts.temporal, version)) };
}
