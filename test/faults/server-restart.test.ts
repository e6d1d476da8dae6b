/**
 * Fault injection, "server restarted" (issue 9). What it proves: a playbook waiting at an approval
 * survives a full stop and restart of a persisted Temporal dev server (state in its own temp
 * DATA_DIR/temporal.db, same ports): after the restart the same worker and client approve through
 * the workflow update, the playbook completes, and the timeline shows every step exactly once.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../app/free-port';
import { findTemporalCli } from '../../temporal/cli-binary';
import { startDevServer, type DevServer, type DevServerOptions } from '../../temporal/dev-server';
import { decideApproval } from '../../workflows/messages';
import { signed } from '../helpers/decisions';
import {
  actionRows,
  alice,
  pinYaml,
  startIncident,
  timelineRows,
  waitForPlaybook,
  waitForStep,
} from '../helpers/playbooks';
import { startTestStack, type TestStack } from '../helpers/stack';

let serverOpts: DevServerOptions;
let server: DevServer | undefined;
let stack: TestStack | undefined;
beforeAll(async () => {
  serverOpts = {
    cliPath: findTemporalCli(inject('temporalCli')),
    dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-temporal-')),
    port: await freePort(),
    uiPort: await freePort(),
    namespace: 'default',
    persist: true,
  };
  server = await startDevServer(serverOpts);
  stack = await startTestStack({ temporalAddress: server.address });
});
afterAll(async () => {
  await stack?.close();
  await server?.stop();
  if (serverOpts) fs.rmSync(serverOpts.dataDir, { recursive: true, force: true });
});

const playbook = pinYaml(`
id: server-restart
version: 1
title: Server restart
phases:
  contain:
    - id: before
      kind: notify
      message: containment starts
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
const STEPS = ['before', 'approve_disable', 'disable_agent', 'after'];

describe('fault: Temporal server restarted', () => {
  it('a playbook waiting at an approval resumes after the persisted server restarts', async () => {
    const s = stack!;
    const { incidentId, handle } = await startIncident(s, { playbook });
    await waitForStep(handle, 'approve_disable', 'waiting');
    expect(actionRows(s, incidentId).map((r) => r.stepId)).toEqual(['before']);

    const t0 = Date.now();
    await server!.stop();
    server = await startDevServer(serverOpts);
    const restartMs = Date.now() - t0;
    expect(server.address).toBe(`127.0.0.1:${serverOpts.port}`);

    // The state came back from temporal.db: the approval is still pending, nothing ran meanwhile.
    await waitForStep(handle, 'approve_disable', 'waiting', 60_000);
    const update = await handle.executeUpdate(decideApproval, {
      args: [
        signed(handle, 'approval', {
          decisionId: 'd-restart',
          stepId: 'approve_disable',
          decision: 'approve',
          actor: alice,
        }),
      ],
    });
    expect(update).toMatchObject({ decisionId: 'd-restart', duplicate: false, stepId: 'approve_disable' });
    const state = await waitForPlaybook(handle, 'completed', 60_000);
    console.log(JSON.stringify({ restartMs }));

    expect(state.steps.map((x) => [x.id, x.status])).toEqual(STEPS.map((id) => [id, 'succeeded']));
    expect(actionRows(s, incidentId).map((r) => [r.stepId, r.status])).toEqual([
      ['before', 'succeeded'],
      ['disable_agent', 'succeeded'],
      ['after', 'succeeded'],
    ]);
    const events = timelineRows(s, incidentId);
    const succeeded = events
      .filter((e) => e.kind === 'step.succeeded')
      .map((e) => (e.data as { stepId: string }).stepId);
    expect(succeeded.sort()).toEqual([...STEPS].sort());
    const waiting = events.filter((e) => e.kind === 'step.waiting');
    expect(waiting.map((e) => (e.data as { stepId: string }).stepId)).toEqual(['approve_disable']);
  }, 240_000);
});
