/**
 * Records one real history of the incident workflow per scenario and checks each replays with the
 * current code: an incident without a playbook, each built-in playbook to completion, an approval
 * that escalates, an abort with compensation (every step kind and every update on the way; a
 * release, so containment is undone too), a failed step that keeps containment and pages, a
 * stand-alone release approved by two people after an abort, a playbook attached to an incident
 * running triage, and a continue-as-new (on a dev server of its own that suggests it after a few events). The drill at
 * speed is recorded by test/drills/drill-history.test.ts. Normally the recordings go to a temp
 * dir; with FIREBREAK_RECORD_HISTORIES=1 they replace the committed ones in test/histories/,
 * which test/workflows/replay.test.ts replays (README, "Tests": when to re-record).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { historyToJSON, type History } from '@temporalio/common/lib/proto-utils';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Actor, PendingApproval, PlaybookState } from '../../domain/incident';
import { loadPlaybookDir } from '../../playbooks/loader';
import {
  abortIncident,
  addNote,
  alertsAttached,
  attachPlaybook,
  closeIncident,
  completeTask,
  decideApproval,
  escalate,
  incidentState,
} from '../../workflows/messages';
import { signed } from '../helpers/decisions';
import { HISTORY_DIR, readHistory, replayOptions } from '../helpers/histories';
import {
  actionRows,
  alice,
  bob,
  carol,
  pbState,
  pinYaml,
  releaseContainment,
  startIncident,
  timelineRows,
  waitForPlaybook,
  waitForStep,
} from '../helpers/playbooks';
import { eventually, startTestStack, type TestStack } from '../helpers/stack';

let stack: TestStack;
const outDir = process.env.FIREBREAK_RECORD_HISTORIES
  ? HISTORY_DIR
  : fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-histories-'));
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.close();
  if (outDir !== HISTORY_DIR) fs.rmSync(outDir, { recursive: true, force: true });
});

/** Writes the history and replays the written file with the current workflow bundle. */
async function saveAndReplay(name: string, history: History): Promise<void> {
  const file = path.join(outDir, `${name}.json`);
  fs.writeFileSync(file, `${historyToJSON(history)}\n`);
  await expect(Worker.runReplayHistory(replayOptions(), readHistory(file).history)).resolves.toBeUndefined();
}

function alertBatch(seq: number) {
  return {
    toSeq: seq,
    totalCount: seq,
    latestAlertId: `alt_${seq}`,
    latestTitle: 'x',
    latestStatus: 'firing' as const,
    lastSeenAt: new Date().toISOString(),
  };
}

async function closeAndRecord(handle: WorkflowHandle, name: string): Promise<void> {
  await handle.executeUpdate(closeIncident, {
    args: [
      signed(handle, 'close', {
        decisionId: 'close',
        actor: { id: 'U_ALICE', via: 'api', roles: ['admin'] },
        reason: 'done',
      }),
    ],
  });
  await handle.result();
  await saveAndReplay(name, await handle.fetchHistory());
}

/** Distinct actors the approval accepts, none of them its requester. */
function approversOf(p: PendingApproval): Actor[] {
  const needed = p.minApprovals - p.approvals;
  const users = p.approvers.users.filter((u) => u !== p.requester);
  if (users.length >= needed) return users.slice(0, needed).map((id) => ({ id, via: 'api' }));
  return Array.from({ length: needed }, (_, i) => ({
    id: `U_APPROVER_${i}`,
    via: 'api',
    groups: p.approvers.groups,
    roles: p.approvers.roles,
  }));
}

/** Approves every approval and completes every task as they start waiting, until the playbook ends. */
async function playThrough(handle: WorkflowHandle): Promise<PlaybookState> {
  const decided = new Set<string>();
  for (;;) {
    const s = await eventually(async () => {
      const state = await pbState(handle);
      const open = [...state.pendingApprovals, ...state.openTasks].some((x) => !decided.has(x.stepId));
      return state.status !== 'running' || open ? state : undefined;
    }, 60_000);
    if (s.status !== 'running') return s;
    for (const p of s.pendingApprovals.filter((x) => !decided.has(x.stepId))) {
      decided.add(p.stepId);
      for (const actor of approversOf(p)) {
        await handle.executeUpdate(decideApproval, {
          args: [
            signed(handle, 'approval', {
              decisionId: `${p.stepId}:${actor.id}`,
              stepId: p.stepId,
              decision: 'approve',
              actor,
            }),
          ],
        });
      }
    }
    for (const t of s.openTasks.filter((x) => !decided.has(x.stepId))) {
      decided.add(t.stepId);
      await handle.executeUpdate(completeTask, {
        args: [
          signed(handle, 'task', {
            decisionId: `${t.stepId}:done`,
            stepId: t.stepId,
            actor: { id: 'U_IC', via: 'api' },
          }),
        ],
      });
    }
  }
}

const everyKind = pinYaml(`
id: every-kind
version: 1
title: Every step kind
phases:
  assess:
    - id: announce
      kind: notify
      message: incident \${{ incident.id }} (\${{ incident.severity }})
    - { id: page, kind: notify, message: paging the on-call, wait: false }
    - id: evidence
      kind: parallel
      steps:
        - { id: alerts, kind: action, action: evidence.collect, params: { agent_id: a1, kind: alerts } }
        - { id: traces, kind: action, action: evidence.collect, params: { agent_id: a1, kind: agent_traces } }
  contain:
    - id: severe
      kind: condition
      if: incident.severity in ['critical', 'high']
      steps:
        - { id: disable, kind: action, action: agent.disable, params: { agent_id: a1 }, require_verified: true }
      else:
        - { id: watch, kind: notify, message: watching }
    - id: gate
      kind: approval
      prompt: Revoke?
      approvers: { users: [U_ALICE, U_BOB, U_CAROL] }
      min_approvals: 2
      timeout: 1h
      on_timeout: escalate
      escalation: { target: S0LEADS, timeout: 1h, on_timeout: reject }
      steps:
        - { id: revoke, kind: action, action: credentials.revoke, params: { agent_id: a1 } }
  investigate:
    - { id: pause, kind: wait, duration: 1s }
    - { id: review, kind: manual_task, task: Review the evidence }
    - { id: hold, kind: manual_task, task: Hold until told }
  remediate:
    - { id: enable, kind: action, action: agent.enable, params: { agent_id: a1 } }
`);

describe('recorded histories', () => {
  it('an incident without a playbook (alerts, then close)', async () => {
    const { handle } = await startIncident(stack, {});
    await handle.signal(alertsAttached, alertBatch(1));
    await eventually(async () => (await handle.query(incidentState)).alertCount === 1);
    await closeAndRecord(handle, 'no-playbook');
  });

  for (const playbook of loadPlaybookDir()) {
    it(`built-in playbook ${playbook.id}, to completion`, { timeout: 90_000 }, async () => {
      const { handle } = await startIncident(stack, {
        playbook,
        severity: 'critical',
        requestedBy: 'U_REQUESTER',
      });
      const s = await playThrough(handle);
      expect(s.status).toBe('completed');
      await closeAndRecord(handle, `playbook-${playbook.id}`);
    });
  }

  it('an approval that escalates, then is approved', async () => {
    const pb = pinYaml(`
id: escalating
version: 1
title: Escalating approval
phases:
  contain:
    - id: gate
      kind: approval
      prompt: Disable the agent?
      approvers: { users: [U_ALICE] }
      timeout: 1s
      on_timeout: escalate
      escalation: { target: S0SECLEADS, timeout: 1h, on_timeout: reject }
      steps:
        - { id: disable, kind: action, action: agent.disable, params: { agent_id: a1 } }
`);
    const { incidentId, handle } = await startIncident(stack, { playbook: pb });
    await eventually(async () => (await pbState(handle)).pendingApprovals[0]?.escalated === true);
    await handle.executeUpdate(decideApproval, {
      args: [
        signed(handle, 'approval', { decisionId: 'late', stepId: 'gate', decision: 'approve', actor: alice }),
      ],
    });
    await waitForPlaybook(handle, 'completed');
    expect(timelineRows(stack, incidentId).map((e) => e.kind)).toContain('approval.escalated');
    await closeAndRecord(handle, 'approval-escalates');
  });

  it('a release of a running playbook with compensation (every step kind and update on the way)', async () => {
    const { incidentId, handle } = await startIncident(stack, {
      playbook: everyKind,
      requestedBy: 'U_CAROL',
    });
    await waitForStep(handle, 'gate', 'waiting');
    await handle.executeUpdate(addNote, {
      args: [signed(handle, 'note', { decisionId: 'n1', actor: bob, text: 'looking' })],
    });
    await handle.executeUpdate(decideApproval, {
      args: [
        signed(handle, 'approval', { decisionId: 'd1', stepId: 'gate', decision: 'approve', actor: alice }),
      ],
    });
    await handle.executeUpdate(escalate, {
      args: [signed(handle, 'escalate', { decisionId: 'e1', actor: alice, reason: 'need a second' })],
    });
    await handle.executeUpdate(decideApproval, {
      args: [
        signed(handle, 'approval', { decisionId: 'd2', stepId: 'gate', decision: 'approve', actor: bob }),
      ],
    });
    await waitForStep(handle, 'review', 'waiting');
    await handle.executeUpdate(completeTask, {
      args: [signed(handle, 'task', { decisionId: 't1', stepId: 'review', actor: carol })],
    });
    await waitForStep(handle, 'hold', 'waiting');
    await releaseContainment(handle, [alice, bob], 'drill over');
    await waitForStep(handle, 'release_1', 'succeeded');
    expect(actionRows(stack, incidentId).map((r) => r.stepId)).toEqual(
      expect.arrayContaining(['revoke.undo', 'disable.undo']),
    );
    await closeAndRecord(handle, 'release-while-running');
  });

  it('a failed step after containment: the containment is kept and the incident needs attention', async () => {
    const pb = pinYaml(`
id: fail-closed
version: 1
title: Fail closed
phases:
  contain:
    - { id: disable, kind: action, action: agent.disable, params: { agent_id: a1 }, require_verified: true }
    - { id: notify_other, kind: action, action: agent.enable, params: { agent_id: a2 } }
    - { id: revoke, kind: action, action: credentials.revoke, params: { agent_id: a1 } }
  remediate:
    - id: gate
      kind: approval
      prompt: Re-enable?
      approvers: { users: [U_ALICE] }
      escalation: { target: S0SECLEADS, timeout: 1h, on_timeout: reject }
      on_timeout: escalate
      timeout: 1h
      steps:
        - { id: enable, kind: action, action: agent.enable, params: { agent_id: a1 } }
`);
    const { incidentId, handle } = await startIncident(stack, {
      playbook: pb,
      scripted: { revoke: { ok: false, summary: 'no connector' } },
    });
    const s = await waitForPlaybook(handle, 'aborted');
    expect(s.contained).toEqual(['disable']);
    expect(s.needsAttention).toMatchObject({ stepId: 'revoke' });
    expect(actionRows(stack, incidentId).map((r) => r.stepId)).toEqual([
      'disable',
      'notify_other',
      'revoke',
      'needs_attention.page.0',
      'notify_other.undo',
    ]);
    await closeAndRecord(handle, 'abort-keeps-containment');
  });

  it('a stand-alone release after an abort: requested, approved by two people, containment undone', async () => {
    const pb = pinYaml(`
id: release-history
version: 1
title: Release after abort
phases:
  contain:
    - { id: disable, kind: action, action: agent.disable, params: { agent_id: a1 } }
    - { id: hold, kind: manual_task, task: Hold }
`);
    const { incidentId, handle } = await startIncident(stack, { playbook: pb });
    await waitForStep(handle, 'hold', 'waiting');
    await handle.executeUpdate(abortIncident, {
      args: [signed(handle, 'abort', { decisionId: 'a1', actor: alice, reason: 'stop here' })],
    });
    expect((await waitForPlaybook(handle, 'aborted')).contained).toEqual(['disable']);
    await releaseContainment(handle, [alice, bob], 'benign');
    expect((await waitForStep(handle, 'release_1', 'succeeded')).contained).toEqual([]);
    expect(actionRows(stack, incidentId).map((r) => r.stepId)).toContain('disable.undo');
    await closeAndRecord(handle, 'release-after-abort');
  });

  it('a playbook attached to an incident running triage', async () => {
    const triage = loadPlaybookDir().find((p) => p.id === 'triage')!;
    const { handle } = await startIncident(stack, { playbook: triage });
    await waitForStep(handle, 'choose_playbook', 'waiting');
    const attached = pinYaml(`
id: attached-history
version: 1
title: Attached later
phases:
  assess:
    - { id: announce, kind: notify, message: attached }
`);
    await handle.executeUpdate(attachPlaybook, {
      args: [
        signed(handle, 'attach', {
          decisionId: 'p1',
          actor: { ...alice, roles: ['admin'] },
          playbook: attached,
          reason: 'it is this one',
        }),
      ],
    });
    await eventually(async () => (await handle.query(incidentState)).playbook?.status === 'completed');
    expect((await pbState(handle)).id).toBe('attached-history');
    await closeAndRecord(handle, 'attach-playbook');
  });
});

describe('recorded continue-as-new', () => {
  let env: TestWorkflowEnvironment | undefined;
  let small: TestStack | undefined;
  beforeAll(async () => {
    env = await TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'existing-path', path: inject('temporalCli') },
        ip: '127.0.0.1',
        extraArgs: [
          '--log-level',
          'error',
          '--dynamic-config-value',
          'limit.historyCount.suggestContinueAsNew=60',
        ],
      },
    });
    small = await startTestStack({ temporalAddress: env.address });
  });
  afterAll(async () => {
    await small?.close();
    await env?.teardown();
  });

  it('a run that continues-as-new mid-playbook, and the run after it', { timeout: 90_000 }, async () => {
    const pb = pinYaml(`
id: carried
version: 1
title: Carried across runs
phases:
  assess:
    - { id: announce, kind: notify, message: hi }
  contain:
    - id: gate
      kind: approval
      prompt: Disable?
      approvers: { users: [U_ALICE] }
      steps:
        - { id: disable, kind: action, action: agent.disable, params: { agent_id: a1 } }
`);
    const { handle } = await startIncident(small!, { playbook: pb });
    const firstRunId = (await handle.describe()).runId;
    await waitForStep(handle, 'gate', 'waiting');
    let seq = 0;
    await eventually(async () => {
      await handle.signal(alertsAttached, alertBatch(++seq));
      return (await handle.describe()).runId !== firstRunId;
    }, 60_000);
    const client = small!.temporal.client;
    const first = client.workflow.getHandle(handle.workflowId, firstRunId);
    const firstHistory = await first.fetchHistory();
    expect(firstHistory.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes).toBeTruthy();
    await handle.executeUpdate(decideApproval, {
      args: [
        signed(handle, 'approval', { decisionId: 'go', stepId: 'gate', decision: 'approve', actor: alice }),
      ],
    });
    await waitForPlaybook(handle, 'completed');
    await eventually(async () => (await handle.query(incidentState)).alertCount === seq);
    const last = client.workflow.getHandle(handle.workflowId, (await handle.describe()).runId);
    await last.executeUpdate(closeIncident, {
      args: [
        signed(last, 'close', {
          decisionId: 'close',
          actor: { id: 'U_ALICE', via: 'api', roles: ['admin'] },
          reason: 'done',
        }),
      ],
    });
    await last.result();
    await saveAndReplay('continue-as-new-first-run', firstHistory);
    await saveAndReplay('continue-as-new-later-run', await last.fetchHistory());
  });
});
