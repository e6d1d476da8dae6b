/**
 * For the approval tests (test/slack/approvals.test.ts): starts an incident workflow with a
 * pinned test playbook and waits for the Slack message the playbook interpreter posts for a step
 * (approval or manual task).
 */
import crypto from 'node:crypto';
import { insertIncident } from '../../db/incidents';
import type { PinnedPlaybook } from '../../domain/incident';
import { pinPlaybook } from '../../playbooks/loader';
import { incidentWorkflowId } from '../../temporal/client';
import { testDecisionStart } from '../helpers/decisions';
import { eventually } from '../helpers/stack';
import { refOf, type SlackStack } from './setup';

export function pinTestPlaybook(yaml: string): PinnedPlaybook {
  return pinPlaybook(yaml, 'slack-test.yaml');
}

export async function startPlaybookIncident(
  s: SlackStack,
  yaml: string,
  opts: {
    requestedBy?: string;
    mode?: 'live' | 'drill';
    /** The alert's text, for tests of hostile or overlong input. */
    title?: string;
    agentId?: string;
    labels?: Record<string, string>;
  } = {},
): Promise<{ incidentId: string }> {
  const incidentId = `inc-${crypto.randomBytes(5).toString('hex')}-1`;
  const now = new Date().toISOString();
  const base = {
    id: incidentId,
    key: `slack-test:${incidentId}`,
    seq: 1,
    workflowId: incidentWorkflowId(incidentId),
    source: 'slack-test',
    title: opts.title ?? 'Agent credential seen on paste site',
    severity: 'medium' as const,
    status: 'open' as const,
    mode: opts.mode ?? 'drill',
    phase: 'new',
    agentId: opts.agentId ?? 'agent-7',
    firstAlertAt: now,
    lastAlertAt: now,
    openedAt: now,
    updatedAt: now,
  };
  await insertIncident(s.stack.db, base);
  await s.stack.temporal.client.workflow.start('runIncident', {
    workflowId: base.workflowId,
    taskQueue: s.stack.temporal.taskQueue,
    args: [
      {
        incidentId,
        key: base.key,
        mode: base.mode,
        source: base.source,
        title: base.title,
        severity: base.severity,
        agentId: base.agentId,
        openedAt: now,
        labels: opts.labels ?? {},
        playbook: pinTestPlaybook(yaml),
        ...(opts.requestedBy ? { requestedBy: opts.requestedBy } : {}),
        ...testDecisionStart,
      },
    ],
  });
  return { incidentId };
}

/** The message the interpreter posted for `stepId` (ref `approval:<id>` or `task:<id>`), as Slack has it. */
export async function postedFor(s: SlackStack, incidentId: string, ref: string) {
  const r = await eventually(
    () => refOf(s, incidentId, ref),
    20_000,
    `${ref} message (the interpreter must call slackShowApproval/slackShowTask; see docs/slack.md)`,
  );
  // A snapshot, as a person's Slack client shows it: later chat.updates do not change it.
  const message = structuredClone(s.fake.message(r.channel, r.ts)!);
  return { channel: r.channel, ts: r.ts, message };
}

export async function stepStatus(
  s: SlackStack,
  incidentId: string,
  stepId: string,
): Promise<string | undefined> {
  const state = await s.stack.temporal.client.workflow
    .getHandle(incidentWorkflowId(incidentId))
    .query<{ steps: { id: string; status: string }[] } | null>('playbookState');
  return state?.steps.find((x) => x.id === stepId)?.status;
}
