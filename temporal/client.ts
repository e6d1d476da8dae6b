/**
 * The one Temporal-client module: connection options for an embedded dev server, a self-hosted
 * cluster or Temporal Cloud; the task queue; and the workflow-id helpers. api/, slack/ and cli/
 * start, signal and update workflows only through here.
 */
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import type { TemporalConfig } from '../app/config';

export function incidentWorkflowId(incidentId: string): string {
  return `incident-${incidentId}`;
}

export function connectionOptions(cfg: TemporalConfig, address: string): ConnectionOptions {
  const opts: ConnectionOptions = { address };
  if (cfg.tls) opts.tls = cfg.tls;
  if (cfg.apiKey) opts.apiKey = cfg.apiKey;
  return opts;
}

export interface TemporalHandle {
  client: Client;
  connection: Connection;
  taskQueue: string;
  namespace: string;
}

export async function connectTemporal(cfg: TemporalConfig, address: string): Promise<TemporalHandle> {
  const connection = await Connection.connect(connectionOptions(cfg, address));
  return {
    client: new Client({ connection, namespace: cfg.namespace }),
    connection,
    taskQueue: cfg.taskQueue,
    namespace: cfg.namespace,
  };
}

/** For /healthz: true when the frontend answers within the timeout. */
export async function pingTemporal(handle: TemporalHandle, timeoutMs = 2000): Promise<boolean> {
  try {
    await handle.connection.withDeadline(Date.now() + timeoutMs, () =>
      handle.connection.workflowService.getSystemInfo({}),
    );
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs a workflow update on an incident by name (`decideApproval`, `completeTask`, `addNote`, …),
 * so surfaces need not import the workflow's definitions. `updateId` makes a re-sent request
 * (Slack retries, double submits of one interaction) return the first result instead of acting twice.
 */
export async function updateIncident<R = unknown>(
  handle: TemporalHandle,
  incidentId: string,
  update: string,
  payload: unknown,
  updateId?: string,
): Promise<R> {
  return handle.client.workflow
    .getHandle(incidentWorkflowId(incidentId))
    .executeUpdate<R, [unknown]>(update, { args: [payload], ...(updateId ? { updateId } : {}) });
}

export async function queryIncident<R = unknown>(
  handle: TemporalHandle,
  incidentId: string,
  query: string,
): Promise<R> {
  return handle.client.workflow.getHandle(incidentWorkflowId(incidentId)).query<R>(query);
}
