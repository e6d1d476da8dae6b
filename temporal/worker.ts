/**
 * Builds the Temporal worker that runs Firebreak's workflows and activities. Workflow code is
 * bundled from workflows/index.ts (or a prebuilt bundle, which tests share across files).
 */
import { NativeConnection, Worker, type WorkflowBundleOption } from '@temporalio/worker';
import path from 'node:path';
import type { TemporalConfig } from '../app/config';
import { projectRoot } from './cli-binary';

export const workflowsPath = path.join(projectRoot, 'workflows', 'index.ts');

export interface WorkerOptions {
  address: string;
  temporal: TemporalConfig;
  activities: object;
  workflowBundle?: WorkflowBundleOption;
}

export async function createWorker(
  opts: WorkerOptions,
): Promise<{ worker: Worker; connection: NativeConnection }> {
  const connection = await NativeConnection.connect({
    address: opts.address,
    tls: opts.temporal.tls,
    apiKey: opts.temporal.apiKey,
  });
  const worker = await Worker.create({
    connection,
    namespace: opts.temporal.namespace,
    taskQueue: opts.temporal.taskQueue,
    activities: opts.activities,
    // The SDK's default scales with the heap limit (≈2,300 on a 4 GiB heap), about 1.8 MiB each:
    // a worker with 1,000 waiting incidents reached 2.2 GiB RSS (bench/RESULTS.md, scale).
    maxCachedWorkflows: opts.temporal.maxCachedWorkflows,
    // A stop is bounded (npm start: 15 s in all): running activities get 3 s to finish, then the
    // worker gives up on what is still in flight (e.g. a local activity between retries).
    shutdownGraceTime: '3s',
    shutdownForceTime: '8s',
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath }),
  });
  return { worker, connection };
}
