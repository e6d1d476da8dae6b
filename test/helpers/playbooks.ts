/**
 * Helpers for playbook tests on the real stack: pin a YAML playbook, open an incident row and
 * start its workflow with the playbook pinned (drill mode by default, with scripted outcomes),
 * read the action_runs and timeline rows, and wait for a step to reach a status.
 */
import crypto from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { asc, eq } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { insertIncident } from '../../db/incidents';
import { actionRuns, timeline } from '../../db/schema';
import type { ScriptedOutcome } from '../../domain/actions';
import type { Severity } from '../../domain/alert';
import type { Actor, IncidentStart, PinnedPlaybook, PlaybookState, StepStatus } from '../../domain/incident';
import { pinPlaybook } from '../../playbooks/loader';
import { incidentWorkflowId } from '../../temporal/client';
import { decideApproval, playbookState, requestRelease } from '../../workflows/messages';
import type { runIncident } from '../../workflows/run-incident';
import { signed, testDecisionStart } from './decisions';
import { eventually, type TestStack } from './stack';

export function pinYaml(yaml: string): PinnedPlaybook {
  return pinPlaybook(yaml, 'test.yaml');
}

export interface StartOptions {
  playbook?: PinnedPlaybook;
  severity?: Severity;
  mode?: 'live' | 'drill';
  scripted?: Record<string, ScriptedOutcome>;
  requestedBy?: string;
  agentId?: string;
  labels?: Record<string, string>;
  /** Values for the playbook's declared inputs. */
  inputs?: Record<string, string>;
  /** Roles that may abort, close and complete tasks (default: the test stack's, `admin`). */
  deciderRoles?: string[];
}

export async function startIncident(
  stack: TestStack,
  opts: StartOptions,
): Promise<{ incidentId: string; handle: WorkflowHandle<typeof runIncident> }> {
  const incidentId = `inc-${crypto.randomBytes(5).toString('hex')}-1`;
  const now = new Date().toISOString();
  const severity = opts.severity ?? 'high';
  const mode = opts.mode ?? 'drill';
  await insertIncident(stack.db, {
    id: incidentId,
    key: `test:${incidentId}`,
    seq: 1,
    workflowId: incidentWorkflowId(incidentId),
    source: 'test',
    title: 'Agent credential seen on paste site',
    severity,
    status: 'open',
    mode,
    phase: 'new',
    agentId: opts.agentId ?? 'agent-7',
    firstAlertAt: now,
    lastAlertAt: now,
    openedAt: now,
    updatedAt: now,
  });
  const start: IncidentStart = {
    incidentId,
    key: `test:${incidentId}`,
    mode,
    source: 'test',
    title: 'Agent credential seen on paste site',
    severity,
    agentId: opts.agentId ?? 'agent-7',
    openedAt: now,
    labels: opts.labels ?? {},
    ...(opts.playbook ? { playbook: opts.playbook } : {}),
    ...(opts.scripted ? { scripted: opts.scripted } : {}),
    ...(opts.inputs ? { inputs: opts.inputs } : {}),
    ...(opts.requestedBy ? { requestedBy: opts.requestedBy } : {}),
    ...testDecisionStart,
    ...(opts.deciderRoles ? { deciderRoles: opts.deciderRoles } : {}),
  };
  const handle = await stack.temporal.client.workflow.start<typeof runIncident>('runIncident', {
    workflowId: incidentWorkflowId(incidentId),
    taskQueue: stack.temporal.taskQueue,
    args: [start],
  });
  return { incidentId, handle };
}

/**
 * The stack's action_runs rows, read synchronously for use inside `eventually` predicates (a
 * SQLite stack's handle only; tests on PostgreSQL read through db/action-runs instead).
 */
export function actionRows(stack: TestStack, incidentId: string) {
  return stack.db
    .select()
    .from(actionRuns)
    .where(eq(actionRuns.incidentId, incidentId))
    .orderBy(asc(actionRuns.id))
    .all();
}

/** An incident's timeline rows, read synchronously (SQLite only, as actionRows). */
export function dbTimelineRows(db: Db, incidentId: string) {
  return db
    .select()
    .from(timeline)
    .where(eq(timeline.incidentId, incidentId))
    .orderBy(asc(timeline.id))
    .all();
}

export function timelineRows(stack: TestStack, incidentId: string) {
  return dbTimelineRows(stack.db, incidentId);
}

export async function pbState(handle: WorkflowHandle): Promise<PlaybookState> {
  const s = await handle.query(playbookState);
  if (!s) throw new Error('no playbook state');
  return s;
}

export async function waitForStep(
  handle: WorkflowHandle,
  stepId: string,
  status: StepStatus,
  timeoutMs = 20_000,
): Promise<PlaybookState> {
  return eventually(
    async () => {
      const s = await pbState(handle);
      return s.steps.find((x) => x.id === stepId)?.status === status ? s : undefined;
    },
    timeoutMs,
    `step ${stepId} to be ${status}`,
  );
}

export async function waitForPlaybook(
  handle: WorkflowHandle,
  status: 'completed' | 'aborted',
  timeoutMs = 30_000,
): Promise<PlaybookState> {
  return eventually(
    async () => {
      const s = await pbState(handle);
      return s.status === status ? s : undefined;
    },
    timeoutMs,
    `playbook to be ${status}`,
  );
}

export const alice: Actor = { id: 'U_ALICE', name: 'Alice', via: 'api' };
export const bob: Actor = { id: 'U_BOB', name: 'Bob', via: 'slack' };
export const carol: Actor = { id: 'U_CAROL', name: 'Carol', via: 'cli' };

/**
 * A stand-alone release as responders make it (issue 13): `by[0]` asks, then every person in `by`
 * approves the `release_<n>` step it opens (k = 2 by default, deciders only). Returns the step id.
 */
export async function releaseContainment(
  handle: WorkflowHandle,
  by: readonly Actor[] = [alice, bob],
  reason = 'released after review',
): Promise<string> {
  const decider = (a: Actor): Actor => ({ ...a, roles: ['admin'] });
  const seq = crypto.randomUUID();
  const opened = await handle.executeUpdate(requestRelease, {
    args: [signed(handle, 'release_request', { decisionId: `r-${seq}`, actor: decider(by[0]!), reason })],
  });
  const stepId = opened.stepId!;
  for (const [i, a] of by.entries())
    await handle.executeUpdate(decideApproval, {
      args: [
        signed(handle, 'approval', {
          decisionId: `v${i}-${seq}`,
          stepId,
          decision: 'approve',
          actor: decider(a),
        }),
      ],
    });
  return stepId;
}
