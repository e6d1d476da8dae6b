/**
 * Responders' decisions through the API and the CLI (the path that works without Slack): named
 * users' tokens decide as those users, so the playbook's approver list and the two-person rule
 * hold for API decisions exactly as for Slack clicks.
 */
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFileConfig } from '../../app/config-file';
import { projectRoot } from '../../temporal/cli-binary';
import { incidentState } from '../../workflows/messages';
import { pinYaml, startIncident, timelineRows, waitForStep } from '../helpers/playbooks';
import { bearer, eventually, startTestStack, TEST_ADMIN_TOKEN, type TestStack } from '../helpers/stack';

const tokens = {
  alice: 'alice-token-0123456789abcdef',
  bob: 'bob-token-0123456789abcdef',
  reader: 'reader-token-0123456789abcd',
};
const sha = (t: string) => crypto.createHash('sha256').update(t).digest('hex');

const playbook = pinYaml(`
id: api-approval
version: 1
title: API approval
phases:
  contain:
    - id: approve_disable
      kind: approval
      prompt: Disable the agent?
      approvers: { users: [U_ALICE, U_BOB] }
      min_approvals: 1
      steps:
        - id: disable_agent
          kind: action
          action: agent.disable
          params: { agent_id: '\${{ incident.agent_id }}' }
  postmortem:
    - id: write_up
      kind: manual_task
      task: Write the post-mortem
`);

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({
    fileConfig: parseFileConfig(
      {
        users: [
          {
            id: 'alice',
            name: 'Alice',
            slack_user_id: 'U_ALICE',
            roles: ['responder'],
            tokens: [{ token_sha256: sha(tokens.alice), scopes: ['read', 'respond'] }],
          },
          {
            id: 'bob',
            name: 'Bob',
            slack_user_id: 'U_BOB',
            roles: ['responder'],
            tokens: [{ token_sha256: sha(tokens.bob), scopes: ['read', 'respond'] }],
          },
          {
            id: 'rita',
            name: 'Rita',
            roles: [],
            tokens: [{ token_sha256: sha(tokens.reader), scopes: ['read'] }],
          },
        ],
      },
      {},
      'test config',
    ),
  });
});
afterAll(async () => {
  await stack?.close();
});

const decide = (id: string, step: string, token: string, body: unknown) =>
  fetch(`${stack.url}/v1/incidents/${id}/approvals/${step}`, {
    method: 'POST',
    headers: bearer(token),
    body: JSON.stringify(body),
  });

describe('decisions over the API', () => {
  it('approves as the named user, and the playbook moves on', async () => {
    const { incidentId, handle } = await startIncident(stack, { playbook, requestedBy: 'U_BOB' });
    await waitForStep(handle, 'approve_disable', 'waiting');

    // The requester may not approve their own request (two-person rule): forbidden, 403.
    const own = await decide(incidentId, 'approve_disable', tokens.bob, { decision: 'approve' });
    expect(own.status).toBe(403);
    expect(((await own.json()) as any).error.code).toBe('decision_forbidden');
    // A read-only token may not decide at all.
    expect((await decide(incidentId, 'approve_disable', tokens.reader, { decision: 'approve' })).status).toBe(
      403,
    );
    // Bad input names the field; unknown steps and incidents are refused.
    const bad = await decide(incidentId, 'approve_disable', tokens.alice, { decision: 'maybe' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).error.field).toBe('decision');
    expect((await decide(incidentId, 'nope', tokens.alice, { decision: 'approve' })).status).toBe(409);
    expect(
      (await decide('inc-0000000000-9', 'approve_disable', tokens.alice, { decision: 'approve' })).status,
    ).toBe(404);

    const ok = await decide(incidentId, 'approve_disable', tokens.alice, {
      decision: 'approve',
      decision_id: 'd-1',
    });
    expect(ok.status).toBe(200);
    // The same decision re-sent (a client retry) is answered, not applied twice.
    expect(
      (await decide(incidentId, 'approve_disable', tokens.alice, { decision: 'approve', decision_id: 'd-1' }))
        .status,
    ).toBe(200);
    await waitForStep(handle, 'write_up', 'waiting');
    const approvedBy = timelineRows(stack, incidentId).filter((r) => r.actor === 'U_ALICE');
    expect(approvedBy.length).toBeGreaterThan(0);
  });

  it('works from the CLI: approve, then task done, with no Slack configured', async () => {
    const { incidentId, handle } = await startIncident(stack, { playbook, requestedBy: 'U_BOB' });
    await waitForStep(handle, 'approve_disable', 'waiting');
    const cli = (...args: string[]) =>
      promisify(execFile)(
        path.join(projectRoot, 'node_modules', '.bin', 'tsx'),
        [path.join(projectRoot, 'cli', 'index.ts'), 'incident', ...args],
        {
          env: { ...process.env, FIREBREAK_URL: stack.url, FIREBREAK_TOKEN: tokens.alice },
        },
      );
    await cli('approve', incidentId, 'approve_disable', '--reason', 'agent is leaking');
    await waitForStep(handle, 'write_up', 'waiting');
    await cli('task', 'done', incidentId, 'write_up', '--note', 'drafted');
    await eventually(
      async () => (await handle.query(incidentState)).playbook?.status === 'completed',
      20_000,
      'playbook to complete',
    );
    await expect(cli('approve', incidentId, 'approve_disable')).rejects.toThrow(/409/);
  });

  it('adds notes and closes the incident through the API', async () => {
    const { incidentId, handle } = await startIncident(stack, { playbook, requestedBy: 'U_BOB' });
    const note = await fetch(`${stack.url}/v1/incidents/${incidentId}/notes`, {
      method: 'POST',
      headers: bearer(tokens.alice),
      body: JSON.stringify({ text: 'looking at the gateway logs' }),
    });
    expect(note.status).toBe(200);
    await eventually(
      () => timelineRows(stack, incidentId).some((r) => r.message.includes('looking at the gateway logs')),
      10_000,
      'note on the timeline',
    );
    const close = await fetch(`${stack.url}/v1/incidents/${incidentId}/close`, {
      method: 'POST',
      headers: bearer(TEST_ADMIN_TOKEN),
      body: JSON.stringify({ reason: 'false positive' }),
    });
    expect(close.status).toBe(200);
    expect((await handle.query(incidentState)).status).toBe('closed');
  });
});
