/**
 * The one Temporal-client module: connection options for an embedded dev server, a self-hosted
 * cluster or Temporal Cloud; the task queue; the incident workflow's id, its launcher and its
 * typed signal, updates and queries (the definitions of workflows/messages.ts). intake/, api/,
 * slack/ and drills/ start, signal, update and query workflows only through here.
 */
import {
  Client,
  Connection,
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdReusePolicy,
  WorkflowNotFoundError,
  type ConnectionOptions,
  type QueryDefinition,
  type UpdateDefinition,
} from '@temporalio/client';
import type { TemporalConfig } from '../app/config';
import type { AlertBatch, IncidentStart } from '../domain/incident';
import { runIncident } from '../workflows';
import { alertsAttached, playbookState } from '../workflows/messages';

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

/** What launching an incident's workflow found. */
export type LaunchOutcome = 'started' | 'already-ended';

/**
 * The launcher of `runIncident`: starts the incident's workflow with its first alert batch, or
 * signals the batch to the run already going (signal-with-start). A workflow id that already ran
 * to its end is never reused: the incident was closed while these alerts were in flight, and
 * there is nothing to tell it ('already-ended').
 */
export async function launchIncidentWorkflow(
  handle: TemporalHandle,
  start: IncidentStart,
  batch: AlertBatch,
): Promise<LaunchOutcome> {
  try {
    await handle.client.workflow.signalWithStart(runIncident, {
      workflowId: incidentWorkflowId(start.incidentId),
      taskQueue: handle.taskQueue,
      args: [start],
      signal: alertsAttached,
      signalArgs: [batch],
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    });
    return 'started';
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return 'already-ended';
    throw err;
  }
}

/**
 * Tells a running incident workflow about new alerts with a plain signal (no start input to send
 * again). False when no run is going: the caller falls back to `launchIncidentWorkflow`.
 */
export async function signalIncidentAlerts(
  handle: TemporalHandle,
  incidentId: string,
  batch: AlertBatch,
): Promise<boolean> {
  try {
    await handle.client.workflow.getHandle(incidentWorkflowId(incidentId)).signal(alertsAttached, batch);
    return true;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

/**
 * Runs one of the incident workflow's updates (workflows/messages.ts: `decideApproval`,
 * `completeTask`, `addNote`, …) with its typed argument. `updateId` makes a re-sent request
 * (Slack retries, double submits of one interaction) return the first result instead of acting twice.
 */
export async function updateIncident<Ret, Arg>(
  handle: TemporalHandle,
  incidentId: string,
  update: UpdateDefinition<Ret, [Arg]>,
  arg: Arg,
  updateId?: string,
): Promise<Ret> {
  return handle.client.workflow
    .getHandle(incidentWorkflowId(incidentId))
    .executeUpdate(update, { args: [arg], ...(updateId ? { updateId } : {}) });
}

/** Asks the incident workflow one of its queries (`incidentState`, `playbookState`). */
export async function queryIncident<Ret>(
  handle: TemporalHandle,
  incidentId: string,
  query: QueryDefinition<Ret, []>,
): Promise<Ret> {
  return handle.client.workflow.getHandle(incidentWorkflowId(incidentId)).query(query);
}

/**
 * The actions a waiting approval step lets run once approved, from the workflow's own pinned
 * playbook ([] when the step is not waiting: the workflow refuses a decision on it anyway). The
 * signing edges read it to apply the MFA step-up rule (domain/step-up.ts).
 */
export async function pendingApprovalActions(
  handle: TemporalHandle,
  incidentId: string,
  stepId: string,
): Promise<string[]> {
  const state = await queryIncident(handle, incidentId, playbookState).catch(() => null);
  return state?.pendingApprovals.find((p) => p.stepId === stepId)?.actions ?? [];
}
