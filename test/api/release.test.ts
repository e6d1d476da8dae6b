/**
 * The stand-alone release of containment over the API (issue 13 §2): a decider requests it
 * (`POST /v1/incidents/:id/release`), which opens a k-of-n approval `release_<n>` (default 2
 * distinct people); only its approval re-enables the agent, through the kill switch's undo of
 * `agent.disable`. One person under their API and Slack ids is one approver; a rejection keeps the
 * agent disabled and says so; a release works after the playbook aborted. Live incidents with the
 * real kill switch.
 */
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFileConfig } from '../../app/config-file';
import type { LiveConnectors } from '../../connectors/types';
import { getAgent } from '../../db/agents';
import { auditEntries } from '../../db/audit';
import { putIssuedToken } from '../../db/console-sessions';
import { decideApproval } from '../../workflows/messages';
import { importAgents, liveFor } from '../connectors/fixtures';
import { signed } from '../helpers/decisions';
import {
  actionRows,
  pbState,
  pinYaml,
  startIncident,
  timelineRows,
  waitForPlaybook,
  waitForStep,
} from '../helpers/playbooks';
import { bearer, eventually, startTestStack, type TestStack } from '../helpers/stack';

const tokens = {
  alice: 'alice-release-token-0123456789',
  bob: 'bob-release-token-0123456789ab',
  mallory: 'mallory-release-token-01234567',
};
const sha = (t: string) => crypto.createHash('sha256').update(t).digest('hex');
/**
 * Approving a release needs a recent multi-factor sign-in (MFA step-up, domain/step-up.ts): over
 * the API, a short-lived token the console issued after such a sign-in. These stand for them.
 */
const stepUp = {
  alice: 'fbk_alice-step-up-token-0123456789',
  bob: 'fbk_bob-step-up-token-0123456789ab',
  mallory: 'fbk_mallory-step-up-token-012345',
};
async function issueStepUpTokens(db: TestStack['db']): Promise<void> {
  const now = Date.now();
  const people: [keyof typeof stepUp, string, string[]][] = [
    ['alice', 'U_ALICE', ['incident_commander']],
    ['bob', 'U_BOB', ['incident_commander']],
    ['mallory', 'U_MALLORY', []],
  ];
  for (const [id, slack, roles] of people) {
    await putIssuedToken(
      db,
      stepUp[id],
      {
        id,
        name: id,
        slackUserId: slack,
        roles,
        scopes: ['read', 'respond'],
        auth: { method: 'issued', amr: ['pwd', 'otp'], authTimeMs: now },
      },
      now,
      now + 15 * 60_000,
    );
  }
}
const user = (id: string, slack: string, roles: string[], token: string) => ({
  id,
  name: id,
  slack_user_id: slack,
  roles,
  tokens: [{ token_sha256: sha(token), scopes: ['read', 'respond'] }],
});

const containThenHold = pinYaml(`
id: release-test
version: 1
title: Release test
phases:
  contain:
    - id: disable_agent
      kind: action
      action: agent.disable
      params: { agent_id: '\${{ incident.agent_id }}' }
    - id: hold
      kind: manual_task
      task: Decide what comes next
`);

let stack: TestStack;
let live: LiveConnectors | undefined;
let agents = 0;
beforeAll(async () => {
  stack = await startTestStack({
    liveConnectors: () => (live ??= liveFor(stack)),
    fileConfig: parseFileConfig(
      {
        users: [
          user('alice', 'U_ALICE', ['incident_commander'], tokens.alice),
          user('bob', 'U_BOB', ['incident_commander'], tokens.bob),
          user('mallory', 'U_MALLORY', [], tokens.mallory),
        ],
      },
      {},
      'test config',
    ),
  });
  await issueStepUpTokens(stack.db);
});
afterAll(async () => {
  await stack?.close();
});

const post = async (path: string, token: string, body: unknown) => {
  const res = await fetch(`${stack.url}/v1/incidents/${path}`, {
    method: 'POST',
    headers: bearer(token),
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as any };
};

/** A live incident whose agent the kill switch has disabled, waiting at `hold`. */
async function contained() {
  const agentId = `agent-release-${++agents}`;
  await importAgents(stack, [
    { id: agentId, name: agentId, owner: 'sec@example.com', environment: 'prod', credentials: [] },
  ]);
  const started = await startIncident(stack, { playbook: containThenHold, mode: 'live', agentId });
  await waitForStep(started.handle, 'hold', 'waiting');
  expect((await getAgent(stack.db, agentId))?.status).toBe('disabled');
  return { ...started, agentId };
}

const agentStatus = async (id: string) => (await getAgent(stack.db, id))?.status;

describe('a stand-alone release of containment', () => {
  it('needs two distinct approvers, then re-enables the agent; every step is audited with its actor', async () => {
    const { incidentId, handle, agentId } = await contained();
    const req = await post(`${incidentId}/release`, tokens.alice, { reason: 'false positive' });
    expect(req.status).toBe(200);
    expect(req.json.result).toMatchObject({ stepId: 'release_1', stepStatus: 'waiting' });
    const pending = (await pbState(handle)).pendingApprovals.find((p) => p.stepId === 'release_1');
    expect(pending).toMatchObject({ minApprovals: 2, approvals: 0 });

    // A config-file token has no recent second factor: MFA step-up refuses it.
    const plain = await post(`${incidentId}/approvals/release_1`, tokens.alice, { decision: 'approve' });
    expect(plain.status).toBe(403);
    expect(plain.json.error.code).toBe('step_up_required');
    expect(
      (await post(`${incidentId}/approvals/release_1`, stepUp.alice, { decision: 'approve' })).status,
    ).toBe(200);
    // One approval of two: still contained.
    expect(await agentStatus(agentId)).toBe('disabled');
    expect(
      (await post(`${incidentId}/approvals/release_1`, stepUp.bob, { decision: 'approve' })).status,
    ).toBe(200);

    await eventually(async () => (await agentStatus(agentId)) === 'enabled', 20_000, 'the agent re-enabled');
    const s = await waitForStep(handle, 'release_1', 'succeeded');
    expect(s.contained).toEqual([]);
    // A release while the playbook runs stops it, as an abort that releases.
    expect((await waitForPlaybook(handle, 'aborted')).abortReason).toMatch(
      /containment released \(release_1/,
    );
    expect(actionRows(stack, incidentId).filter((r) => r.action === 'agent.enable')).toMatchObject([
      { stepId: 'disable_agent.undo', status: 'succeeded' },
    ]);
    const events = await eventually(() => {
      const rows = timelineRows(stack, incidentId);
      return rows.some((e) => e.kind === 'containment.released') ? rows : undefined;
    });
    expect(events.find((e) => e.kind === 'release.requested')).toMatchObject({ actor: 'U_ALICE' });
    const audit = (await auditEntries(stack.db)).filter((a) => a.incidentId === incidentId);
    expect(audit.map((a) => [a.actor, a.action])).toEqual(
      expect.arrayContaining([
        ['U_ALICE', 'decision.release_request'],
        ['U_ALICE', 'decision.approve'],
        ['U_BOB', 'decision.approve'],
        ['U_BOB', 'agent.enable'],
      ]),
    );
  });

  it('one person approving through the API and again under their Slack id counts once (refused, still disabled)', async () => {
    const { incidentId, handle, agentId } = await contained();
    expect((await post(`${incidentId}/release`, tokens.bob, { reason: 'looks benign' })).status).toBe(200);
    expect(
      (await post(`${incidentId}/approvals/release_1`, stepUp.alice, { decision: 'approve' })).status,
    ).toBe(200);
    // Alice again, now as her Slack identity (what the Slack receiver signs for U_ALICE).
    const slackAlice = stack.people.slackActor({ id: 'U_ALICE', name: 'alice' });
    const second = handle.executeUpdate(decideApproval, {
      args: [
        signed(handle, 'approval', {
          decisionId: 'slack-trigger-1',
          actor: slackAlice,
          stepId: 'release_1',
          decision: 'approve',
        }),
      ],
    });
    const err = await second.then(
      () => undefined,
      (e: unknown) => e as { cause?: { message?: string } },
    );
    expect(err?.cause?.message).toMatch(
      /U_ALICE already decided on release_1: approvers must be distinct people/,
    );
    const s = await pbState(handle);
    expect(s.pendingApprovals.find((p) => p.stepId === 'release_1')).toMatchObject({ approvals: 1 });
    expect(await agentStatus(agentId)).toBe('disabled');
  });

  it('a rejected release keeps the agent disabled and says so on the timeline', async () => {
    const { incidentId, handle, agentId } = await contained();
    expect((await post(`${incidentId}/release`, tokens.alice, { reason: 'customer asks' })).status).toBe(200);
    expect(
      (await post(`${incidentId}/approvals/release_1`, stepUp.bob, { decision: 'reject', reason: 'not yet' }))
        .status,
    ).toBe(200);
    const s = await waitForStep(handle, 'release_1', 'rejected');
    expect(s.contained).toEqual(['disable_agent']);
    expect(s.status).toBe('running');
    const kept = await eventually(() =>
      timelineRows(stack, incidentId).find((e) => e.kind === 'release.rejected'),
    );
    expect(kept).toMatchObject({ actor: 'U_BOB' });
    expect(kept.message).toMatch(/rejected by U_BOB: not yet; containment kept/);
    expect(await agentStatus(agentId)).toBe('disabled');
    expect(actionRows(stack, incidentId).filter((r) => r.action === 'agent.enable')).toEqual([]);
    // A later request opens a new approval.
    expect((await post(`${incidentId}/release`, tokens.alice, { reason: 'now' })).json.result).toMatchObject({
      stepId: 'release_2',
    });
  });

  it('works after an abort: the playbook stopped, the agent stays disabled until the release is approved', async () => {
    const { incidentId, handle, agentId } = await contained();
    expect((await post(`${incidentId}/abort`, tokens.alice, { reason: 'wrong playbook' })).status).toBe(200);
    const aborted = await waitForPlaybook(handle, 'aborted');
    expect(aborted.contained).toEqual(['disable_agent']);
    expect(aborted.needsAttention).toBeDefined();
    expect(await agentStatus(agentId)).toBe('disabled');

    expect((await post(`${incidentId}/release`, tokens.bob, { reason: 'handled by hand' })).status).toBe(200);
    expect(
      (await post(`${incidentId}/approvals/release_1`, stepUp.alice, { decision: 'approve' })).status,
    ).toBe(200);
    expect(
      (await post(`${incidentId}/approvals/release_1`, stepUp.bob, { decision: 'approve' })).status,
    ).toBe(200);
    await eventually(async () => (await agentStatus(agentId)) === 'enabled', 20_000, 'the agent re-enabled');
    expect((await waitForStep(handle, 'release_1', 'succeeded')).contained).toEqual([]);
    // Nothing is contained any more: a second release has nothing to do.
    const again = await post(`${incidentId}/release`, tokens.alice, { reason: 'again' });
    expect(again.status).toBe(409);
    expect(again.json.error.message).toMatch(/nothing on this incident is contained/);
  });

  it('refuses a release request from someone who is not a decider (403, audited), and its approval by them', async () => {
    const { incidentId, handle, agentId } = await contained();
    const res = await post(`${incidentId}/release`, tokens.mallory, { reason: 'turn it back on' });
    expect(res.status).toBe(403);
    expect(res.json.error.message).toMatch(/U_MALLORY may not request a release of this incident/);
    expect((await pbState(handle)).pendingApprovals).toEqual([]);
    const audit = (await auditEntries(stack.db)).filter((a) => a.incidentId === incidentId);
    expect(audit.map((a) => [a.actor, a.action, a.outcome])).toContainEqual([
      'U_MALLORY',
      'decision.release_request',
      'refused',
    ]);
    expect((await post(`${incidentId}/release`, tokens.alice, { reason: 'benign' })).status).toBe(200);
    const vote = await post(`${incidentId}/approvals/release_1`, stepUp.mallory, { decision: 'approve' });
    expect(vote.status).toBe(403);
    expect(await agentStatus(agentId)).toBe('disabled');
  });

  it('another incident cannot enable an agent an open incident disabled: only that incident releases it', async () => {
    const { agentId } = await contained();
    const enabler = pinYaml(`
id: enable-other
version: 1
title: Enable another incident's agent
phases:
  remediate:
    - id: enable
      kind: action
      action: agent.enable
      params: { agent_id: ${agentId} }
      on_failure: continue
`);
    const other = await startIncident(stack, { playbook: enabler, mode: 'live', agentId });
    const s = await waitForStep(other.handle, 'enable', 'failed');
    expect(s.steps.find((x) => x.id === 'enable')?.error).toMatch(
      /was disabled by open incident inc-[0-9a-f]+-1: only that incident's release enables it/,
    );
    expect(await agentStatus(agentId)).toBe('disabled');
  });

  it('is requested from the CLI too, and approved there', async () => {
    const { incidentId, handle, agentId } = await contained();
    const root = path.resolve(import.meta.dirname, '..', '..');
    const cli = (token: string, ...args: string[]) =>
      promisify(execFile)(
        path.join(root, 'node_modules', '.bin', 'tsx'),
        [path.join(root, 'cli', 'index.ts'), 'incident', ...args],
        { env: { ...process.env, FIREBREAK_URL: stack.url, FIREBREAK_TOKEN: token } },
      );
    const { stdout } = await cli(tokens.alice, 'release', incidentId, '--reason', 'benign');
    expect(JSON.parse(stdout).result).toMatchObject({ stepId: 'release_1' });
    // A config token cannot approve it (no recent second factor); the issued ones can.
    await expect(cli(tokens.alice, 'approve', incidentId, 'release_1')).rejects.toMatchObject({
      stderr: expect.stringMatching(/403: .*needs a recent multi-factor sign-in/),
    });
    await cli(stepUp.alice, 'approve', incidentId, 'release_1');
    await cli(stepUp.bob, 'approve', incidentId, 'release_1');
    await waitForStep(handle, 'release_1', 'succeeded');
    expect(await agentStatus(agentId)).toBe('enabled');
  });

  it('names the field of a bad body (400)', async () => {
    const { incidentId } = await contained();
    const res = await post(`${incidentId}/release`, tokens.alice, {});
    expect(res.status).toBe(400);
    expect(res.json.error.field).toBe('reason');
  });
});
