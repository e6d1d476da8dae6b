/**
 * Records real histories of the incident workflow (with a playbook exercising every step kind and
 * every update, and without a playbook) and checks each replays with the current code. Normally
 * the recordings go to a temp dir; with FIREBREAK_RECORD_HISTORIES=1 they replace the committed
 * ones in test/histories/ (do that only for a deliberate, patched() engine change).
 */
import { historyToJSON, type History } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  abortIncident,
  addNote,
  alertsAttached,
  closeIncident,
  completeTask,
  decideApproval,
  escalate,
  incidentState,
} from '../../workflows/messages';
import { HISTORY_DIR, readHistory, replayOptions } from '../helpers/histories';
import {
  alice,
  bob,
  carol,
  pinYaml,
  startIncident,
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
        - { id: traces, kind: action, action: evidence.collect, params: { agent_id: a1, kind: traces } }
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
    - { id: enable, kind: action, action: agent.enable, params: { agent_id: a1, least_privilege: true } }
`);

async function save(name: string, history: History): Promise<string> {
  const file = path.join(outDir, `${name}.json`);
  fs.writeFileSync(file, `${historyToJSON(history)}\n`);
  return file;
}

describe('recorded histories', () => {
  it('a playbook incident (every step kind and update, then abort and close) replays', async () => {
    const { handle } = await startIncident(stack, { playbook: everyKind, requestedBy: 'U_CAROL' });
    await waitForStep(handle, 'gate', 'waiting');
    await handle.executeUpdate(addNote, { args: [{ decisionId: 'n1', actor: bob, text: 'looking' }] });
    await handle.executeUpdate(decideApproval, {
      args: [{ decisionId: 'd1', stepId: 'gate', decision: 'approve', actor: alice }],
    });
    await handle.executeUpdate(escalate, {
      args: [{ decisionId: 'e1', actor: alice, reason: 'need a second' }],
    });
    await handle.executeUpdate(decideApproval, {
      args: [{ decisionId: 'd2', stepId: 'gate', decision: 'approve', actor: bob }],
    });
    await waitForStep(handle, 'review', 'waiting');
    await handle.executeUpdate(completeTask, {
      args: [{ decisionId: 't1', stepId: 'review', actor: carol }],
    });
    await waitForStep(handle, 'hold', 'waiting');
    await handle.executeUpdate(abortIncident, {
      args: [{ decisionId: 'a1', actor: alice, reason: 'drill over' }],
    });
    await waitForPlaybook(handle, 'aborted');
    await handle.executeUpdate(closeIncident, { args: [{ actor: 'U_ALICE', reason: 'done' }] });
    await handle.result();
    const file = await save('playbook-incident', await handle.fetchHistory());
    await expect(
      Worker.runReplayHistory(replayOptions(), readHistory(file).history),
    ).resolves.toBeUndefined();
  });

  it('an incident without a playbook (alerts, then close) replays', async () => {
    const { handle } = await startIncident(stack, {});
    await handle.signal(alertsAttached, {
      toSeq: 1,
      totalCount: 1,
      latestAlertId: 'alt_1',
      latestTitle: 'x',
      latestStatus: 'firing',
      lastSeenAt: new Date().toISOString(),
    });
    await eventually(async () => (await handle.query(incidentState)).alertCount === 1);
    await handle.executeUpdate(closeIncident, { args: [{ actor: 'U_ALICE', reason: 'noise' }] });
    await handle.result();
    const file = await save('no-playbook-incident', await handle.fetchHistory());
    await expect(
      Worker.runReplayHistory(replayOptions(), readHistory(file).history),
    ).resolves.toBeUndefined();
  });
});
