/**
 * Who may decide, through the API, on a live incident: abort and task completion need one of the
 * playbook's approvers or a role the config names (`decision_roles`); a responder with only the
 * `respond` scope gets 403 naming why, and the attempt is on the timeline and in the audit log.
 * A decision id is scoped to its person and step: a note that claims an id first does not turn a
 * later approval with that id into a silent no-op.
 */
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFileConfig } from '../../app/config-file';
import { auditEntries } from '../../db/audit';
import { pbState, pinYaml, startIncident, timelineRows, waitForStep } from '../helpers/playbooks';
import { bearer, eventually, startTestStack, type TestStack } from '../helpers/stack';

const tokens = {
  alice: 'alice-token-0123456789abcdef',
  bob: 'bob-token-0123456789abcdef',
  mallory: 'mallory-token-0123456789abcd',
  rel: 'release-token-0123456789abcd',
};
const sha = (t: string) => crypto.createHash('sha256').update(t).digest('hex');
const user = (id: string, slack: string | undefined, roles: string[], token: string) => ({
  id,
  name: id,
  ...(slack ? { slack_user_id: slack } : {}),
  roles,
  tokens: [{ token_sha256: sha(token), scopes: ['read', 'respond'] }],
});

const playbook = pinYaml(`
id: api-authz
version: 1
title: API authorization
phases:
  contain:
    - id: gate
      kind: approval
      prompt: Go on?
      approvers: { users: [U_ALICE, U_BOB] }
      min_approvals: 2
  remediate:
    - id: rotate
      kind: manual_task
      task: Rotate the key by hand
`);

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({
    fileConfig: parseFileConfig(
      {
        users: [
          user('alice', 'U_ALICE', [], tokens.alice),
          user('bob', 'U_BOB', [], tokens.bob),
          user('mallory', 'U_MALLORY', [], tokens.mallory),
          user('rel', undefined, ['release'], tokens.rel),
        ],
        decision_roles: ['release'],
      },
      {},
      'test config',
    ),
  });
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

describe('decision authorization over the API', () => {
  it('refuses an abort by a responder who is neither an approver nor holds a decision role (403 naming why)', async () => {
    const { incidentId, handle } = await startIncident(stack, {
      playbook,
      mode: 'live',
      deciderRoles: ['release'],
    });
    await waitForStep(handle, 'gate', 'waiting');
    const res = await post(`${incidentId}/abort`, tokens.mallory, { reason: 'turn it back on' });
    expect(res.status).toBe(403);
    expect(res.json.error.message).toMatch(
      /U_MALLORY may not abort this incident: only the playbook's approvers or a person with the role release may/,
    );
    expect((await pbState(handle)).status).toBe('running');
    const refused = await eventually(() =>
      timelineRows(stack, incidentId).find((e) => e.kind === 'decision.refused'),
    );
    expect(refused).toMatchObject({
      actor: 'U_MALLORY',
      data: { decision: 'abort', person: 'mallory', verified: true },
    });
    const audit = (await auditEntries(stack.db)).filter((a) => a.incidentId === incidentId);
    expect(audit.map((a) => [a.actor, a.action, a.outcome])).toEqual([
      ['U_MALLORY', 'decision.abort', 'refused'],
    ]);

    const ok = await post(`${incidentId}/abort`, tokens.rel, { reason: 'false positive' });
    expect(ok.status).toBe(200);
    await eventually(async () => (await pbState(handle)).status === 'aborted');
  });

  it('a note that pre-claims a decision id does not swallow a later approval with that id', async () => {
    const { incidentId, handle } = await startIncident(stack, { playbook, mode: 'live' });
    await waitForStep(handle, 'gate', 'waiting');
    const note = await post(`${incidentId}/notes`, tokens.mallory, {
      text: 'watching',
      decision_id: 'pre-claimed',
    });
    expect(note.status).toBe(200);
    const approval = await post(`${incidentId}/approvals/gate`, tokens.alice, {
      decision: 'approve',
      decision_id: 'pre-claimed',
    });
    expect(approval.status).toBe(200);
    expect(approval.json.result).toMatchObject({ duplicate: false, stepId: 'gate' });
    const s = await pbState(handle);
    expect(s.steps.find((x) => x.id === 'gate')?.approvals?.map((a) => a.actorId)).toEqual(['U_ALICE']);
    // The same person retrying the same id gets the first result and adds nothing.
    const again = await post(`${incidentId}/approvals/gate`, tokens.alice, {
      decision: 'approve',
      decision_id: 'pre-claimed',
    });
    expect(again.json.result).toEqual(approval.json.result);
    const after = await pbState(handle);
    expect(after.steps.find((x) => x.id === 'gate')?.approvals).toHaveLength(1);
  });

  it('refuses task completion by a stranger (403), accepts it from an approver', async () => {
    const { incidentId, handle } = await startIncident(stack, {
      playbook,
      mode: 'live',
      deciderRoles: ['release'],
    });
    await waitForStep(handle, 'gate', 'waiting');
    expect((await post(`${incidentId}/approvals/gate`, tokens.alice, { decision: 'approve' })).status).toBe(
      200,
    );
    expect((await post(`${incidentId}/approvals/gate`, tokens.bob, { decision: 'approve' })).status).toBe(
      200,
    );
    await waitForStep(handle, 'rotate', 'waiting');
    const res = await post(`${incidentId}/tasks/rotate/done`, tokens.mallory, {});
    expect(res.status).toBe(403);
    expect(res.json.error.message).toMatch(/U_MALLORY may not complete rotate/);
    expect((await pbState(handle)).steps.find((x) => x.id === 'rotate')?.status).toBe('waiting');
    expect((await post(`${incidentId}/tasks/rotate/done`, tokens.bob, {})).status).toBe(200);
    await waitForStep(handle, 'rotate', 'succeeded');
  });
});
